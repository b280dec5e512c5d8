// Package validatetest holds what the cloud validators' tests share.
package validatetest

import (
	"testing"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// Check returns the check called name in r, failing the test if there is none.
func Check(tb testing.TB, r provider.Report, name string) provider.Check {
	tb.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	tb.Fatalf("no check %q in %+v", name, r.Checks)
	return provider.Check{}
}
