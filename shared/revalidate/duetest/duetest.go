// Package duetest is the conformance suite every fleet.DueStore must pass, so that the embedded
// store behind `make revalidate` picks providers exactly as DynamoDB does when deployed:
//
//	func TestDue(t *testing.T) { duetest.Run(t, func(t *testing.T) duetest.Stores { ... }) }
package duetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Stores is one backend's Store and DueStore over the same, empty, data.
type Stores struct {
	fleet.Store
	Due fleet.DueStore
}

// Run runs the suite; newStores returns empty stores for one subtest.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Stores)
	}{
		{"Order", testOrder},
		{"ResumeAfter", testResumeAfter},
		{"StopEarly", testStopEarly},
		{"MovesWhenValidated", testMovesWhenValidated},
		{"Deleted", testDeleted},
		{"Checkpoint", testCheckpoint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStores(t)) })
	}
}

var (
	ctx = context.Background()
	// t0 has nanoseconds, so keys must keep full precision to order correctly.
	t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)
)

// create stores a provider created at `created` and, when checked is set, validated then.
func create(t *testing.T, s Stores, org string, created time.Time, checked *time.Time) *provider.Provider {
	t.Helper()
	p := &provider.Provider{
		ID: uuid.Must(uuid.NewV7()).String(), Organization: org, Identifier: "p-" + uuid.NewString()[:8],
		Type: provider.AWS, Config: map[string]any{"aws_access_key": "AKIAIOSFODNN7EXAMPLE"},
		SecretFields: []string{"aws_access_secret"}, SecretVersion: uuid.NewString(),
		Status: provider.StatusPending, CreatedAt: created, UpdatedAt: created,
	}
	if err := s.Create(ctx, p); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if checked != nil {
		return validate(t, s, p, *checked)
	}
	return p
}

// validate stores a report checked at `at` on p, as fleet.Service does.
func validate(t *testing.T, s Stores, p *provider.Provider, at time.Time) *provider.Provider {
	t.Helper()
	next := p.Clone()
	fleet.ApplyReport(next, provider.Report{Status: provider.StatusValid, CheckedAt: at, Checks: []provider.Check{}}, 3)
	next.UpdatedAt = at
	if err := s.Update(ctx, p, next); err != nil {
		t.Fatalf("Update: %v", err)
	}
	return next
}

func ptr(t time.Time) *time.Time { return &t }

// list returns the ids Due yields, failing the test on an error.
func list(t *testing.T, s Stores, after string, before time.Time) (ids, keys []string) {
	t.Helper()
	for d, err := range s.Due.Due(ctx, after, before) {
		if err != nil {
			t.Fatalf("Due: %v", err)
		}
		ids, keys = append(ids, d.ID), append(keys, d.Key)
	}
	return ids, keys
}

func ids(ps ...*provider.Provider) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func testOrder(t *testing.T, s Stores) {
	cutoff := t0.Add(10 * time.Hour)
	// Created in one order, checked in another: due order follows the check, not the id.
	newer := create(t, s, "org-a", t0.Add(2*time.Minute), nil)
	checkedLate := create(t, s, "org-b", t0, ptr(t0.Add(9*time.Hour)))
	older := create(t, s, "org-b", t0.Add(time.Minute), nil)
	checkedEarly := create(t, s, "org-a", t0, ptr(t0.Add(3*time.Hour)))
	create(t, s, "org-a", t0, ptr(cutoff.Add(time.Second))) // checked after the cutoff: not due
	checkedMid := create(t, s, "org-c", t0, ptr(t0.Add(5*time.Hour)))
	// Rotated: a report of old credentials, none of the current ones. New credentials go first.
	rotated := create(t, s, "org-c", t0, ptr(t0.Add(4*time.Hour)))
	r := rotated.Clone()
	r.SecretVersion, r.Status, r.Validation, r.ConsecutiveFailures = uuid.NewString(), provider.StatusPending, nil, 0
	r.UpdatedAt = t0.Add(8 * time.Hour)
	if err := s.Update(ctx, rotated, r); err != nil {
		t.Fatal(err)
	}

	got, keys := list(t, s, "", cutoff)
	want := ids(older, newer, r, checkedEarly, checkedMid, checkedLate)
	if !slices.Equal(got, want) {
		t.Fatalf("due order:\n got  %v\n want %v (never checked by time, then oldest check first)", got, want)
	}
	if !slices.IsSorted(keys) {
		t.Fatalf("keys out of order: %v", keys)
	}
	if got, _ := list(t, s, "", t0.Add(4*time.Hour)); !slices.Equal(got, ids(older, newer, r, checkedEarly)) {
		t.Fatalf("earlier cutoff: %v", got)
	}
}

func testResumeAfter(t *testing.T, s Stores) {
	var all []string
	for i := range 40 {
		var checked *time.Time
		if i%3 != 0 {
			checked = ptr(t0.Add(time.Duration(i*7%40) * time.Minute))
		}
		all = append(all, create(t, s, fmt.Sprintf("org-%d", i%4), t0.Add(time.Duration(i)*time.Second), checked).ID)
	}
	cutoff := t0.Add(time.Hour)
	wantIDs, keys := list(t, s, "", cutoff)
	if len(wantIDs) != len(all) {
		t.Fatalf("%d due, want %d", len(wantIDs), len(all))
	}
	// Resuming after any key gives exactly the rest: nothing repeated, nothing skipped.
	for _, i := range []int{0, 1, 13, 26, 38, 39} {
		got, _ := list(t, s, keys[i], cutoff)
		if !slices.Equal(got, wantIDs[i+1:]) {
			t.Fatalf("after key %d: got %d ids, want the %d after it", i, len(got), len(wantIDs)-i-1)
		}
	}
	if got, _ := list(t, s, fleet.DueBefore(cutoff), cutoff); len(got) != 0 {
		t.Fatalf("after the cutoff: %v", got)
	}
}

func testStopEarly(t *testing.T, s Stores) {
	for i := range 30 {
		create(t, s, "org-a", t0.Add(time.Duration(i)*time.Second), nil)
	}
	n := 0
	for _, err := range s.Due.Due(ctx, "", t0) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
	if n != 5 {
		t.Fatalf("took %d", n)
	}
}

func testMovesWhenValidated(t *testing.T, s Stores) {
	a := create(t, s, "org-a", t0, nil)
	b := create(t, s, "org-a", t0.Add(time.Second), nil)
	validate(t, s, a, t0.Add(time.Hour))
	if got, _ := list(t, s, "", t0.Add(30*time.Minute)); !slices.Equal(got, ids(b)) {
		t.Fatalf("after validating a: %v, want only b", got)
	}
	if got, _ := list(t, s, "", t0.Add(2*time.Hour)); !slices.Equal(got, ids(b, a)) {
		t.Fatalf("once a is due again: %v, want b then a", got)
	}
}

func testDeleted(t *testing.T, s Stores) {
	a := create(t, s, "org-a", t0, nil)
	b := create(t, s, "org-a", t0.Add(time.Second), nil)
	if err := s.Delete(ctx, a.Organization, a.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := list(t, s, "", t0); !slices.Equal(got, ids(b)) {
		t.Fatalf("after delete: %v", got)
	}
}

func testCheckpoint(t *testing.T, s Stores) {
	if got, err := s.Due.DueCheckpoint(ctx); err != nil || got != "" {
		t.Fatalf("initial checkpoint %q, %v", got, err)
	}
	key := "1#2026-03-14T15:09:26.535897932Z#0195"
	if err := s.Due.SetDueCheckpoint(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Due.DueCheckpoint(ctx); err != nil || got != key {
		t.Fatalf("checkpoint %q, %v, want %q", got, err, key)
	}
	if err := s.Due.SetDueCheckpoint(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Due.DueCheckpoint(ctx); err != nil || got != "" {
		t.Fatalf("cleared checkpoint %q, %v", got, err)
	}
	// The checkpoint is not a provider: listings never show it.
	if items, _, err := s.List(ctx, "SCHEDULER", 10, ""); err != nil || len(items) != 0 {
		t.Fatalf("checkpoint visible in a listing: %v %v", items, err)
	}
}
