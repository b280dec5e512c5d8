// Package validatetest holds what the cloud validators' tests share.
package validatetest

import (
	"encoding/json"
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

// MustJSON is v as JSON (reports are checked as clients receive them).
func MustJSON(tb testing.TB, v any) string {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(raw)
}
