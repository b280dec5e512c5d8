package validate

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/provider"
)

func TestParallelRunsConcurrentlyAndKeepsOrder(t *testing.T) {
	slow := func(name string) CheckFunc {
		return func(ctx context.Context) []provider.Check {
			select {
			case <-time.After(100 * time.Millisecond):
				return []provider.Check{{Name: name, Status: provider.CheckPassed}}
			case <-ctx.Done():
				return []provider.Check{{Name: name, Status: provider.CheckError}}
			}
		}
	}
	start := time.Now()
	checks := Parallel(context.Background(), time.Second, slow("a"), slow("b"), slow("c"))
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("checks ran one after another: %v", d)
	}
	if len(checks) != 3 || checks[0].Name != "a" || checks[2].Name != "c" {
		t.Fatalf("order: %+v", checks)
	}
	// A per-check deadline shorter than the work ends each check on its own.
	checks = Parallel(context.Background(), 10*time.Millisecond, slow("x"))
	if checks[0].Status != provider.CheckError {
		t.Fatalf("per-check deadline not applied: %+v", checks)
	}
}

func TestUnreachable(t *testing.T) {
	if !Unreachable(context.DeadlineExceeded) || !Unreachable(&net.OpError{Op: "dial", Err: errors.New("refused")}) {
		t.Fatal("network errors not recognised")
	}
	if Unreachable(errors.New("AccessDenied")) || Unreachable(nil) {
		t.Fatal("a refusal is not an outage")
	}
}

func TestMissingOncePerPermission(t *testing.T) {
	got := Missing([]provider.Check{
		{Status: provider.CheckFailed, Permission: "a"},
		{Status: provider.CheckPassed, Permission: "b"},
		{Status: provider.CheckFailed, Permission: "a"},
		{Status: provider.CheckFailed, Permission: "c"},
		{Status: provider.CheckUnknown, Permission: "d"},
	})
	if !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("Missing = %v", got)
	}
}
