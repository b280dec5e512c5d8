package awsval

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/streamtime/fleet-providers/shared/validate"
)

type errKind int

const (
	// kindOther: AWS answered with an error that says nothing definite about the credentials.
	kindOther errKind = iota
	// kindUnreachable: no answer, a timeout, throttling or a server error: try again later.
	kindUnreachable
	// kindCredentials: AWS does not accept the credentials themselves.
	kindCredentials
	// kindDenied: the credentials are fine but the identity may not do this.
	kindDenied
)

var (
	credentialCodes = map[string]bool{
		"InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "UnrecognizedClientException": true,
		"InvalidAccessKeyId": true, "IncompleteSignature": true, "ExpiredToken": true,
		"ExpiredTokenException": true, "InvalidToken": true,
		// EC2's answer to unknown keys and bad signatures, and in regions not enabled for the account.
		"AuthFailure": true, "OptInRequired": true,
	}
	deniedCodes = map[string]bool{
		"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
		"UnauthorizedAccess": true,
	}
	transientCodes = map[string]bool{
		"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
		"RequestLimitExceeded": true, "TooManyRequestsException": true, "RequestThrottled": true,
		"RequestThrottledException": true, "SlowDown": true, "ServiceUnavailable": true,
		"InternalFailure": true, "InternalError": true,
	}
)

// explanation is what validation makes of an AWS SDK error.
type explanation struct {
	kind   errKind
	code   string // AWS error code, "" if AWS did not answer with one
	status int    // HTTP status, 0 without an answer
	msg    string // for customers: never the raw SDK error, which may quote a request
}

// short names the answer without AWS's text, which may name the caller: the code, or the status.
func (e explanation) short() string {
	switch {
	case e.code != "":
		return e.code
	case e.status != 0:
		return fmt.Sprintf("HTTP %d", e.status)
	default:
		return "no answer"
	}
}

// explain classifies err from a call to service ("STS", "IAM", ...). AWS error codes decide first;
// without one (moto and some gateways answer 403 with a body the SDK cannot parse) the HTTP status
// does, so a refusal is never mistaken for an outage or the other way round.
func (s *session) explain(service string, err error) explanation {
	var e explanation
	var awsMsg string
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "UnknownError" { // the SDK's name for "could not parse"
		e.code, awsMsg = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		e.status = re.HTTPStatusCode()
	}
	answer := fmt.Sprintf("HTTP %d", e.status)
	if e.code != "" {
		answer += " " + e.code
	}
	quote := func(what string) string {
		if awsMsg != "" {
			what += ": " + truncate(s.redact(awsMsg), 300)
		}
		return what
	}
	switch {
	case credentialCodes[e.code]:
		e.kind, e.msg = kindCredentials, quote(credentialText(e.code))
	case deniedCodes[e.code]:
		e.kind, e.msg = kindDenied, quote(e.code)
	case transientCodes[e.code]:
		e.kind, e.msg = kindUnreachable, fmt.Sprintf("AWS %s is busy (%s); try again later", service, e.code)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		e.kind, e.msg = kindUnreachable, fmt.Sprintf("AWS %s did not answer in time", service)
	case e.status >= 500:
		e.kind, e.msg = kindUnreachable, fmt.Sprintf("AWS %s failed (%s)", service, answer)
	case e.status == 401:
		e.kind, e.msg = kindCredentials, fmt.Sprintf("AWS %s refused the credentials (%s)", service, answer)
	case e.status == 403:
		e.kind, e.msg = kindDenied, fmt.Sprintf("AWS %s refused the request (%s)", service, answer)
	case e.status == 0 && validate.Unreachable(err):
		e.kind, e.msg = kindUnreachable, fmt.Sprintf("could not reach AWS %s: %s", service, s.redact(networkCause(err)))
	case e.code != "":
		e.kind, e.msg = kindOther, quote(fmt.Sprintf("AWS %s answered %s", service, e.code))
	default:
		e.kind, e.msg = kindOther, fmt.Sprintf("unexpected answer from AWS %s (%s)", service, answer)
	}
	return e
}

func credentialText(code string) string {
	switch code {
	case "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId":
		return "AWS does not know this access key id; check that the key exists and is active (" + code + ")"
	case "SignatureDoesNotMatch":
		return "the secret access key does not belong to this access key id (SignatureDoesNotMatch)"
	case "ExpiredToken", "ExpiredTokenException":
		return "the credentials have expired (" + code + ")"
	case "OptInRequired":
		return "the account is not subscribed to this service or region (OptInRequired)"
	default:
		return "AWS did not accept the credentials (" + code + ")"
	}
}

// networkCause names the network failure without the request the SDK quotes around it.
func networkCause(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Error()
	}
	return "network error"
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
