package dynamostore

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// Retry-After hints. DynamoDB gives none; these are long enough for the SDK's own backoff to
// have been exhausted and short enough not to stall a client.
const (
	retryAfterThrottled   = 1 * time.Second
	retryAfterUnavailable = 5 * time.Second
)

// Cancellation reason codes of TransactWriteItems.
const (
	reasonNone        = "None"
	reasonCondition   = "ConditionalCheckFailed"
	reasonConflict    = "TransactionConflict"
	reasonThrottled   = "ThrottlingError"
	reasonProvisioned = "ProvisionedThroughputExceeded"
)

// unavailable maps throttling, 5xx answers and failures to reach DynamoDB to a retryable
// *provider.UnavailableError (whose Error() shows no AWS text), and wraps anything else with op.
func unavailable(op string, err error) error {
	cause := fmt.Errorf("dynamodb %s: %w", op, err)
	var api smithy.APIError
	if errors.As(err, &api) {
		if _, ok := retry.DefaultThrottleErrorCodes[api.ErrorCode()]; ok {
			return &provider.UnavailableError{RetryAfter: retryAfterThrottled, Cause: cause}
		}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return &provider.UnavailableError{RetryAfter: retryAfterUnavailable, Cause: cause}
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return &provider.UnavailableError{RetryAfter: retryAfterUnavailable, Cause: cause}
	}
	return cause
}

// canceled returns the cancellation reason codes of a canceled transaction (one per item, in
// request order), or nil if err is something else.
func canceled(err error) []types.CancellationReason {
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		return tc.CancellationReasons
	}
	return nil
}

func code(r types.CancellationReason) string {
	if r.Code == nil {
		return reasonNone
	}
	return *r.Code
}

// retryableCancel reports whether a transaction was canceled only for reasons that a new attempt
// can clear (a concurrent transaction on the same items, throttling), not by a condition.
func retryableCancel(reasons []types.CancellationReason) bool {
	any := false
	for _, r := range reasons {
		switch code(r) {
		case reasonNone:
		case reasonConflict, reasonThrottled, reasonProvisioned:
			any = true
		default:
			return false
		}
	}
	return any
}
