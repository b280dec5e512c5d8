package revalidate_test

import (
	"context"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/revalidate"
)

// round is one scheduled run as `make revalidate` does it: the dispatcher fills a MemQueue and
// workers drain it.
func (w *world) round(t *testing.T) revalidate.RunResult {
	t.Helper()
	q := revalidate.NewMemQueue(3)
	d := w.dispatcher(q, revalidate.DispatchOptions{Interval: 24 * time.Hour})
	worker := revalidate.NewWorker(w.svc, 4)
	var res revalidate.RunResult
	var err error
	go func() {
		defer q.Close()
		res, err = d.Run(ctx)
	}()
	q.Serve(ctx, 4, worker.Handle)
	if err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	if dead := q.Dead(); len(dead) > 0 {
		t.Fatalf("dead messages: %v", dead)
	}
	return res
}

// An unreachable cloud ("error") does not make a valid provider invalid until the configured
// number of consecutive errors (3 by default); the change, and the recovery, are published once.
func TestScheduledRunsErrorThreshold(t *testing.T) {
	w := newWorld(t)
	p := w.create(t, "flaky")
	if _, _, err := w.svc.Validate(ctx, "acme", p.ID); err != nil {
		t.Fatal(err)
	}
	validAt := *w.get(t, p.ID).LastValidAt
	w.notes.take()

	w.validator.set(func(*provider.Provider) provider.Report {
		return report(provider.CheckError, "authenticate", "sts.amazonaws.com unreachable")
	})
	for run, want := range []struct {
		status   provider.Status
		failures int
	}{{provider.StatusValid, 1}, {provider.StatusValid, 2}, {provider.StatusError, 3}, {provider.StatusError, 4}} {
		w.clock.Advance(25 * time.Hour)
		if res := w.round(t); res.Enqueued != 1 {
			t.Fatalf("run %d enqueued %d", run+1, res.Enqueued)
		}
		got := w.get(t, p.ID)
		if got.Status != want.status || got.ConsecutiveFailures != want.failures {
			t.Fatalf("after run %d: %s with %d failures, want %s with %d", run+1, got.Status, got.ConsecutiveFailures, want.status, want.failures)
		}
		if !got.LastValidAt.Equal(validAt) || !got.LastValidatedAt.After(validAt) {
			t.Fatalf("history after run %d: last valid %v, last validated %v", run+1, got.LastValidAt, got.LastValidatedAt)
		}
		changes := w.notes.take()
		if run == 2 {
			if len(changes) != 1 || changes[0].From != provider.StatusValid || changes[0].To != provider.StatusError ||
				changes[0].Reason != "authenticate: sts.amazonaws.com unreachable" {
				t.Fatalf("run 3 published %+v, want one valid -> error", changes)
			}
		} else if len(changes) != 0 {
			t.Fatalf("run %d published %+v", run+1, changes)
		}
	}
	// Within the interval nothing is due: a run enqueues nothing.
	if res := w.round(t); res.Enqueued != 0 {
		t.Fatalf("run within the interval enqueued %d", res.Enqueued)
	}

	w.validator.set(answer(provider.CheckPassed))
	w.clock.Advance(25 * time.Hour)
	w.round(t)
	got := w.get(t, p.ID)
	if got.Status != provider.StatusValid || got.ConsecutiveFailures != 0 || !got.LastValidAt.After(validAt) {
		t.Fatalf("after recovery: %s, %d failures", got.Status, got.ConsecutiveFailures)
	}
	if changes := w.notes.take(); len(changes) != 1 || changes[0].From != provider.StatusError || changes[0].To != provider.StatusValid {
		t.Fatalf("recovery published %+v", changes)
	}
}

// A message that fails every delivery ends in the MemQueue's dead letters, as in SQS's DLQ.
func TestMemQueueDeadLetters(t *testing.T) {
	q := revalidate.NewMemQueue(3)
	_ = q.Send(ctx, []revalidate.Message{{Org: "acme", ProviderID: "poison"}, {Org: "acme", ProviderID: "fine"}})
	q.Close()
	tries := map[string]int{}
	q.Serve(ctx, 1, func(_ context.Context, m revalidate.Message) error {
		tries[m.ProviderID]++
		if m.ProviderID == "poison" {
			return revalidate.ErrBadMessage
		}
		return nil
	})
	if tries["poison"] != 3 || tries["fine"] != 1 {
		t.Fatalf("deliveries %v", tries)
	}
	if dead := q.Dead(); len(dead) != 1 || dead[0].ProviderID != "poison" {
		t.Fatalf("dead letters %v", dead)
	}
}
