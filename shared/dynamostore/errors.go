package dynamostore

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamtime/fleet-providers/shared/awserr"
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
// *provider.UnavailableError, and wraps anything else with op.
func unavailable(op string, err error) error {
	cause := fmt.Errorf("dynamodb %s: %w", op, err)
	if u := awserr.Unavailable(err, cause); u != nil {
		return u
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
