// Package awserr maps AWS SDK failures that mean "busy or down, try again" to the domain's
// *provider.UnavailableError, for every backend that talks to an AWS service.
package awserr

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// Retry-After hints. AWS gives none; these are long enough for the SDK's own backoff to have been
// exhausted and short enough not to stall a client.
const (
	RetryAfterThrottled   = 1 * time.Second
	RetryAfterUnavailable = 5 * time.Second
)

// Unavailable returns cause as a *provider.UnavailableError (whose Error() shows no AWS text) when
// err is throttling, a 5xx answer or a failure to reach the service, and nil otherwise.
func Unavailable(err, cause error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		if _, ok := retry.DefaultThrottleErrorCodes[api.ErrorCode()]; ok {
			return &provider.UnavailableError{RetryAfter: RetryAfterThrottled, Cause: cause}
		}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return &provider.UnavailableError{RetryAfter: RetryAfterUnavailable, Cause: cause}
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return &provider.UnavailableError{RetryAfter: RetryAfterUnavailable, Cause: cause}
	}
	return nil
}
