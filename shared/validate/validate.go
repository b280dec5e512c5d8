// Package validate holds what every cloud validator shares: running checks concurrently under
// per-check deadlines, telling "could not reach the cloud" from "the cloud said no", and
// assembling the report.
package validate

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// CheckFunc runs one or more checks and returns their results. It must honour ctx.
type CheckFunc func(ctx context.Context) []provider.Check

// Parallel runs fns concurrently, each under its own timeout within ctx, and returns their checks
// in the order of fns. A CheckFunc that has not returned when its deadline passes is reported by
// the CheckFunc itself (it sees ctx expire); Parallel never waits past ctx.
func Parallel(ctx context.Context, perCheck time.Duration, fns ...CheckFunc) []provider.Check {
	results := make([][]provider.Check, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, perCheck)
			defer cancel()
			results[i] = fn(cctx)
		}()
	}
	wg.Wait()
	var out []provider.Check
	for _, r := range results {
		out = append(out, r...)
	}
	return out
}

// Unreachable reports whether err means the cloud could not be reached or did not answer in time
// (as opposed to answering with a refusal).
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// Finish completes a report: status from its checks, duration, and never-nil lists.
func Finish(r *provider.Report, start time.Time) {
	r.Status = provider.Summarize(r.Checks)
	r.DurationMS = time.Since(start).Milliseconds()
	r.Normalize()
}

// Missing collects the Permission of every failed check, once each, in check order (a permission
// can fail both its evaluation and a probe).
func Missing(checks []provider.Check) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range checks {
		if c.Status == provider.CheckFailed && c.Permission != "" && !seen[c.Permission] {
			seen[c.Permission] = true
			out = append(out, c.Permission)
		}
	}
	return out
}

// Check names every cloud's report uses, so clients can read reports of any type alike.
const (
	CheckAuthentication = "authentication"
	permissionPrefix    = "permission:"
	probePrefix         = "probe:"
)

// PermissionCheck names the check of one required permission.
func PermissionCheck(permission string) string { return permissionPrefix + permission }

// ProbeCheck names a side-effect-free probe call, e.g. ProbeCheck("gke:ListClusters").
func ProbeCheck(call string) string { return probePrefix + call }

// IsPermissionCheck reports whether name was made by PermissionCheck.
func IsPermissionCheck(name string) bool { return strings.HasPrefix(name, permissionPrefix) }

// IsProbeCheck reports whether name was made by ProbeCheck.
func IsProbeCheck(name string) bool { return strings.HasPrefix(name, probePrefix) }

// NotChecked lists permissions that could not be checked (authentication did not pass) as unknown
// checks with the reason, so a report always names every required permission.
func NotChecked(permissions []string, reason string) []provider.Check {
	out := make([]provider.Check, len(permissions))
	for i, p := range permissions {
		out[i] = provider.Check{Name: PermissionCheck(p), Status: provider.CheckUnknown, Message: reason, Permission: p}
	}
	return out
}

// Failed is a check the cloud definitely refused.
func Failed(name, msg string) provider.Check {
	return provider.Check{Name: name, Status: provider.CheckFailed, Message: msg}
}

// Errored is a check the cloud could not answer.
func Errored(name, msg string) provider.Check {
	return provider.Check{Name: name, Status: provider.CheckError, Message: msg}
}
