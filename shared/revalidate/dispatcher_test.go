package revalidate_test

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/dynamostore"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/revalidate"
)

func msgIDs(ms []revalidate.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ProviderID
	}
	return out
}

// dispatchAll runs d until a run completes (at most max runs) and returns each run's messages.
func dispatchAll(t *testing.T, d *revalidate.Dispatcher, q *recorder, max int) (runs [][]revalidate.Message, results []revalidate.RunResult) {
	t.Helper()
	for range max {
		res, err := d.Run(ctx)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		runs, results = append(runs, q.take()), append(results, res)
		if res.Complete {
			return runs, results
		}
	}
	t.Fatalf("no run completed in %d", max)
	return nil, nil
}

// Never-validated providers go first (oldest first), then the oldest checks; providers checked
// within the interval are not due. Bounded runs continue where the last one stopped.
func TestDispatchDueOrder(t *testing.T) {
	w := newWorld(t)
	var never, checked []string
	for i := range 4 {
		never = append(never, w.create(t, fmt.Sprintf("never-%d", i)).ID)
	}
	var created []string
	for i := range 6 {
		created = append(created, w.create(t, fmt.Sprintf("checked-%d", i)).ID)
	}
	// Checked in an order unrelated to creation (or id) order.
	for _, i := range []int{3, 0, 5, 1, 4, 2} {
		w.clock.Advance(time.Minute)
		if _, _, err := w.svc.Validate(ctx, "acme", created[i]); err != nil {
			t.Fatal(err)
		}
		checked = append(checked, created[i])
	}
	w.clock.Advance(25 * time.Hour)
	recent := w.create(t, "recent").ID
	if _, _, err := w.svc.Validate(ctx, "acme", recent); err != nil {
		t.Fatal(err)
	}

	q := &recorder{}
	d := w.dispatcher(q, revalidate.DispatchOptions{Interval: 24 * time.Hour, MaxPerRun: 3, Senders: 1})
	runs, results := dispatchAll(t, d, q, 10)
	var got []string
	for i, r := range runs {
		if len(r) > 3 {
			t.Fatalf("run %d enqueued %d, MaxPerRun is 3", i, len(r))
		}
		if i > 0 && results[i].ResumedAfter != results[i-1].Checkpoint {
			t.Fatalf("run %d resumed after %q, the last run stopped at %q", i, results[i].ResumedAfter, results[i-1].Checkpoint)
		}
		for _, m := range r {
			if m.Org != "acme" || m.EnqueuedAt.IsZero() {
				t.Fatalf("message %+v", m)
			}
		}
		got = append(got, msgIDs(r)...)
	}
	if want := append(slices.Clone(never), checked...); !slices.Equal(got, want) {
		t.Fatalf("dispatch order:\n got  %v\n want %v", got, want)
	}
	if len(runs) != 4 {
		t.Fatalf("%d runs for 10 due at 3 a run", len(runs))
	}
	if cp, err := w.store.DueCheckpoint(ctx); err != nil || cp != "" {
		t.Fatalf("checkpoint after a complete pass: %q, %v", cp, err)
	}
	// The next pass starts over: everything is still due (nothing was validated).
	if res, err := d.Run(ctx); err != nil || res.ResumedAfter != "" || len(q.take()) != 3 {
		t.Fatalf("new pass: %+v, %v", res, err)
	}
}

// load seeds n never-validated providers straight into the table (the dispatcher needs no
// secrets) and returns their ids in due order.
func load(t *testing.T, s *dynamostore.Store, n int) []string {
	t.Helper()
	ps := make([]*provider.Provider, n)
	ids := make([]string, n)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range ps {
		at := t0.Add(time.Duration(i) * time.Second)
		ps[i] = &provider.Provider{ID: uuid.Must(uuid.NewV7()).String(), Organization: fmt.Sprintf("org-%d", i%7),
			Identifier: fmt.Sprintf("fleet-%04d", i), Type: provider.AWS, SecretVersion: uuid.NewString(),
			Status: provider.StatusPending, CreatedAt: at, UpdatedAt: at, Version: 1}
		ids[i] = ps[i].ID
	}
	if err := s.Load(ctx, ps); err != nil {
		t.Fatal(err)
	}
	return ids
}

// A run that spends its budget stops, records where, and the next run continues from there:
// across runs every due provider is enqueued once, in order.
func TestDispatchContinuesAfterBudgetStop(t *testing.T) {
	w := newWorld(t)
	want := load(t, w.store, 60)
	q := &recorder{send: func([]revalidate.Message) error { time.Sleep(30 * time.Millisecond); return nil }}
	d := w.dispatcher(q, revalidate.DispatchOptions{Budget: 100 * time.Millisecond, Senders: 1})
	runs, results := dispatchAll(t, d, q, 20)
	if results[0].Complete || len(runs[0]) == 0 || len(runs[0]) >= len(want) {
		t.Fatalf("first run: %+v with %d messages; want a budget stop partway", results[0], len(runs[0]))
	}
	var got []string
	for _, r := range runs {
		got = append(got, msgIDs(r)...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("across %d runs: %d messages, want each of %d once in order", len(runs), len(got), len(want))
	}
}

// What one run reads is bounded by what it enqueues, not by the table.
func TestDispatchReadsAreBounded(t *testing.T) {
	w := newWorld(t)
	load(t, w.store, 2000)
	q := &recorder{}
	d := w.dispatcher(q, revalidate.DispatchOptions{MaxPerRun: 100})
	before := w.store.DueReads()
	res, err := d.Run(ctx)
	if err != nil || res.Complete || res.Enqueued != 100 {
		t.Fatalf("Run: %+v, %v", res, err)
	}
	r := w.store.DueReads()
	pages, items := r.Pages-before.Pages, r.Items-before.Items
	t.Logf("enqueued 100 of 2000: %d pages, %d index entries, %.1f read units", pages, items, r.CapacityUnits-before.CapacityUnits)
	if pages > dynamostore.DueShards+2 || items > 100+dynamostore.DueShards*64 {
		t.Fatalf("read %d pages, %d entries to enqueue 100", pages, items)
	}
}

// A failed send leaves the checkpoint where it was: the next run sends again (duplicates are
// harmless) rather than skip what was not sent.
func TestDispatchSendFailureKeepsCheckpoint(t *testing.T) {
	w := newWorld(t)
	want := load(t, w.store, 45)
	var calls atomic.Int32
	q := &recorder{send: func([]revalidate.Message) error {
		if calls.Add(1) == 3 {
			return errors.New("queue unavailable")
		}
		return nil
	}}
	d := w.dispatcher(q, revalidate.DispatchOptions{MaxPerRun: 20, Senders: 1})
	if _, err := d.Run(ctx); err != nil { // 20 sent, checkpoint after the 20th
		t.Fatal(err)
	}
	first := q.take()
	cp, _ := w.store.DueCheckpoint(ctx)
	if _, err := d.Run(ctx); err == nil {
		t.Fatal("Run with a failing send succeeded")
	}
	if got, _ := w.store.DueCheckpoint(ctx); got != cp {
		t.Fatalf("checkpoint moved past a failed send: %q -> %q", cp, got)
	}
	q.take()
	runs, _ := dispatchAll(t, d, q, 5)
	got := msgIDs(first)
	for _, r := range runs {
		got = append(got, msgIDs(r)...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after recovery: %d messages, want each of %d in order", len(got), len(want))
	}
}
