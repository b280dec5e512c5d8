package gcpval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/auth"
	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/api/googleapi"

	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate"
)

// authFailure tells a rejected key (failed) from a token endpoint that could not answer (error).
func authFailure(err error, timeout time.Duration) (provider.CheckStatus, string) {
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Response != nil {
		code := ae.Response.StatusCode
		detail := oauthError(ae.Body)
		// Google answers 400 invalid_grant (or 401 invalid_client) for a deleted, disabled or
		// wrong key and for a deleted or disabled account; anything else is not about the key.
		if code == http.StatusBadRequest || code == http.StatusUnauthorized || code == http.StatusForbidden {
			return provider.CheckFailed, fmt.Sprintf("Google rejected the service account key (HTTP %d%s): "+
				"the key or the service account may have been deleted or disabled; create a new key", code, detail)
		}
		return provider.CheckError, fmt.Sprintf("the token endpoint answered HTTP %d%s", code, detail)
	}
	if validate.Unreachable(err) {
		return provider.CheckError, "could not reach the token endpoint: " + describe(err, timeout)
	}
	return provider.CheckError, "unexpected answer from the token endpoint: " + err.Error()
}

// oauthError renders the error fields of an OAuth error body, and nothing else of it.
func oauthError(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	if e.Description == "" {
		return ", " + e.Error
	}
	return ", " + e.Error + ": " + e.Description
}

// httpCode is the HTTP status of a Google API error, 0 if err is not one.
func httpCode(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// transient: Google could not be reached or could not answer now, as opposed to refusing.
func transient(err error) bool {
	code := httpCode(err)
	return validate.Unreachable(err) || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// describe is err in words for a check message: the HTTP status, Google's reason (such as
// SERVICE_DISABLED) and message of an API error, rather than its whole body.
func describe(err error, timeout time.Duration) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		s := fmt.Sprintf("HTTP %d", ge.Code)
		var ae *apierror.APIError
		if errors.As(err, &ae) && ae.Reason() != "" {
			s += " " + ae.Reason()
		}
		if ge.Message != "" {
			s += ": " + ge.Message
		} else if t := http.StatusText(ge.Code); t != "" {
			s += ": " + t
		}
		return s
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s or before the validation deadline", timeout)
	}
	return err.Error()
}

var (
	pemRE = regexp.MustCompile(`(?s)-----BEGIN [A-Z ]+-----.*?(-----END [A-Z ]+-----|$)`)
	jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
)

// secretsOf lists strings no message may contain: the private key, each line of it, the token.
func secretsOf(k saKey, token string) []string {
	out := []string{k.PrivateKey, token}
	for _, line := range strings.Split(strings.ReplaceAll(k.PrivateKey, `\n`, "\n"), "\n") {
		if line = strings.TrimSpace(line); len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// scrubReport is the last line of defence: messages are built from errors and server answers,
// and a server or library that echoes a request must not put a secret in a stored report.
func scrubReport(r *provider.Report, secrets []string) {
	for i := range r.Checks {
		r.Checks[i].Message = scrub(r.Checks[i].Message, secrets)
	}
	for i := range r.Warnings {
		r.Warnings[i] = scrub(r.Warnings[i], secrets)
	}
	for k, v := range r.Identity {
		r.Identity[k] = scrub(v, secrets)
	}
}

const maxMessage = 600

func scrub(s string, secrets []string) string {
	for _, x := range secrets {
		if len(x) >= 8 {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	s = pemRE.ReplaceAllString(s, "[redacted]")
	s = jwtRE.ReplaceAllString(s, "[redacted]")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMessage {
		cut := maxMessage
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
