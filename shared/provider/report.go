package provider

import (
	"slices"
	"time"
)

// CheckStatus is the outcome of one validation check.
type CheckStatus string

const (
	CheckPassed  CheckStatus = "passed"
	CheckFailed  CheckStatus = "failed"
	CheckUnknown CheckStatus = "unknown"
	CheckError   CheckStatus = "error"
)

// Check is one line of a validation report: authentication, one permission, or one probe.
type Check struct {
	Name       string      `json:"name"`
	Status     CheckStatus `json:"status"`
	Message    string      `json:"message,omitempty"`
	Permission string      `json:"permission,omitempty"`
}

// Report is the result of validating a provider's credentials and permissions.
type Report struct {
	Status             Status            `json:"status"`
	CheckedAt          time.Time         `json:"checked_at"`
	DurationMS         int64             `json:"duration_ms"`
	Identity           map[string]string `json:"identity"`
	Checks             []Check           `json:"checks"`
	MissingPermissions []string          `json:"missing_permissions"`
	// Remediation is a policy snippet that grants the missing permissions.
	Remediation string   `json:"remediation,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
}

// Clone returns a deep copy.
func (r Report) Clone() Report {
	c := r
	if r.Identity != nil {
		c.Identity = make(map[string]string, len(r.Identity))
		for k, v := range r.Identity {
			c.Identity[k] = v
		}
	}
	c.Checks = slices.Clone(r.Checks)
	c.MissingPermissions = slices.Clone(r.MissingPermissions)
	c.Warnings = slices.Clone(r.Warnings)
	return c
}

// Normalize gives a report its derived status (when unset) and empty rather than null lists, so
// every report has the same shape whichever validator made it.
func (r *Report) Normalize() {
	if r.Status == "" {
		r.Status = Summarize(r.Checks)
	}
	if r.Identity == nil {
		r.Identity = map[string]string{}
	}
	if r.Checks == nil {
		r.Checks = []Check{}
	}
	if r.MissingPermissions == nil {
		r.MissingPermissions = []string{}
	}
}

// Summarize derives a report's status from its checks: valid only when every check passed;
// invalid when any check definitely failed (authentication or a permission); error when the
// provider could not be reached; unverified when some checks could only be unknown.
func Summarize(checks []Check) Status {
	var failed, errored, unknown bool
	for _, c := range checks {
		switch c.Status {
		case CheckFailed:
			failed = true
		case CheckError:
			errored = true
		case CheckUnknown:
			unknown = true
		}
	}
	switch {
	case len(checks) == 0:
		return StatusError
	case failed:
		return StatusInvalid
	case errored:
		return StatusError
	case unknown:
		return StatusUnverified
	default:
		return StatusValid
	}
}
