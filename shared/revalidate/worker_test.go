package revalidate_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/revalidate"
)

func sqsEvent(t *testing.T, bodies map[string]any, order ...string) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	for _, id := range order {
		body, ok := bodies[id].(string)
		if !ok {
			b, err := json.Marshal(bodies[id])
			if err != nil {
				t.Fatal(err)
			}
			body = string(b)
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, Body: body, EventSource: "aws:sqs",
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	return ev
}

func failures(resp events.SQSEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func (w *world) message(id string) revalidate.Message {
	return revalidate.Message{Org: "acme", ProviderID: id, EnqueuedAt: w.clock.Now()}
}

// failingStore fails every read of one provider, as an unreachable DynamoDB would.
type failingStore struct {
	fleet.Store
	id string
}

func (f failingStore) Get(ctx context.Context, org, id string) (*provider.Provider, error) {
	if id == f.id {
		return nil, &provider.UnavailableError{RetryAfter: time.Second, Cause: errors.New("injected outage")}
	}
	return f.Store.Get(ctx, org, id)
}

// Only the messages that can succeed later are reported for another delivery; the rest of the
// batch is done with, whatever happened to its neighbours.
func TestWorkerReportsBatchItemFailures(t *testing.T) {
	w := newWorld(t)
	ok, gone, down, panics := w.create(t, "fine"), w.create(t, "gone"), w.create(t, "down"), w.create(t, "panics")
	if err := w.svc.Delete(ctx, "acme", gone.ID); err != nil {
		t.Fatal(err)
	}
	w.validator.set(func(p *provider.Provider) provider.Report {
		if p.ID == panics.ID {
			panic("validator bug")
		}
		return report(provider.CheckPassed, "authenticate", "")
	})
	svc := fleet.New(failingStore{Store: w.store, id: down.ID}, w.secrets, fleet.Validators{provider.AWS: w.validator}, fleet.Options{Now: w.clock.Now})
	worker := revalidate.NewWorker(svc, 3)
	ev := sqsEvent(t, map[string]any{
		"m-ok":        w.message(ok.ID),
		"m-gone":      w.message(gone.ID),
		"m-unknown":   w.message("01936f4e-0000-7000-8000-000000000000"),
		"m-down":      w.message(down.ID),
		"m-panics":    w.message(panics.ID),
		"m-garbage":   "not json",
		"m-no-org":    revalidate.Message{ProviderID: ok.ID, EnqueuedAt: time.Now()},
		"m-ok-again":  w.message(ok.ID),
		"m-wrong-org": revalidate.Message{Org: "other", ProviderID: ok.ID, EnqueuedAt: time.Now()},
	}, "m-ok", "m-gone", "m-unknown", "m-down", "m-panics", "m-garbage", "m-no-org", "m-wrong-org")

	resp, err := revalidate.SQSHandler(worker, slog.New(slog.DiscardHandler))(ctx, ev)
	if err != nil {
		t.Fatalf("the handler failed the whole batch: %v", err)
	}
	if got, want := failures(resp), []string{"m-down", "m-panics", "m-garbage", "m-no-org"}; !slices.Equal(got, want) {
		t.Fatalf("batch item failures %v, want %v", got, want)
	}
	if p := w.get(t, ok.ID); p.Status != provider.StatusValid || p.Version != 2 {
		t.Fatalf("ok provider after the batch: %s v%d", p.Status, p.Version)
	}
	// The response is what Lambda expects: an empty list, never null, when all succeed.
	resp, _ = worker.HandleSQS(ctx, sqsEvent(t, map[string]any{"m-ok-again": w.message(ok.ID)}, "m-ok-again"))
	if b, _ := json.Marshal(resp); string(b) != `{"batchItemFailures":[]}` {
		t.Fatalf("all-success response %s", b)
	}
}

// A second delivery of a message, or one overtaken by any newer check, costs a read and no
// validation.
func TestWorkerDuplicateDelivery(t *testing.T) {
	w := newWorld(t)
	p := w.create(t, "dup")
	worker := revalidate.NewWorker(w.svc, 10)
	m := w.message(p.ID)
	for i, want := range []revalidate.Outcome{revalidate.Validated, revalidate.Fresh, revalidate.Fresh} {
		if got, err := worker.Process(ctx, m); err != nil || got != want {
			t.Fatalf("delivery %d: %s, %v; want %s", i+1, got, err, want)
		}
	}
	if n := w.validator.count(); n != 1 {
		t.Fatalf("validated %d times", n)
	}
	if q := w.get(t, p.ID); q.Version != 2 || len(w.notes.take()) != 1 {
		t.Fatalf("after duplicates: v%d", q.Version)
	}

	// Two deliveries at once may both validate; the provider still ends consistent: the newer
	// report stored, one notification for the one change of status.
	q := w.create(t, "dup-concurrent")
	m = w.message(q.ID)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := worker.Process(ctx, m); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := w.get(t, q.ID)
	if got.Status != provider.StatusValid || got.ConsecutiveFailures != 0 || got.Version > 3 {
		t.Fatalf("after concurrent duplicates: %s, %d failures, v%d", got.Status, got.ConsecutiveFailures, got.Version)
	}
	if n := len(w.notes.take()); n != 1 {
		t.Fatalf("%d notifications for one change", n)
	}
}

// A provider deleted after it was enqueued, or while it is being validated, is skipped: the
// message succeeds and the provider stays deleted.
func TestWorkerProviderDeletedMidRun(t *testing.T) {
	w := newWorld(t)
	worker := revalidate.NewWorker(w.svc, 10)

	before := w.create(t, "deleted-before")
	q := &recorder{}
	if _, err := w.dispatcher(q, revalidate.DispatchOptions{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := q.take()
	if len(msgs) != 1 || msgs[0].ProviderID != before.ID {
		t.Fatalf("enqueued %v", msgs)
	}
	if err := w.svc.Delete(ctx, "acme", before.ID); err != nil {
		t.Fatal(err)
	}
	if out, err := worker.Process(ctx, msgs[0]); err != nil || out != revalidate.Gone {
		t.Fatalf("deleted before delivery: %s, %v", out, err)
	}

	during := w.create(t, "deleted-during")
	w.validator.set(func(p *provider.Provider) provider.Report {
		if err := w.svc.Delete(ctx, "acme", p.ID); err != nil {
			t.Error(err)
		}
		return report(provider.CheckPassed, "authenticate", "")
	})
	if out, err := worker.Process(ctx, w.message(during.ID)); err != nil || out != revalidate.Gone {
		t.Fatalf("deleted during validation: %s, %v", out, err)
	}
	for _, id := range []string{before.ID, during.ID} {
		if _, err := w.store.Get(ctx, "acme", id); !errors.Is(err, provider.ErrNotFound) {
			t.Fatalf("deleted provider came back: %v", err)
		}
	}
}

// A scheduled and a manual validation of one provider racing: each store is conditional on the
// version read, the newer report wins whichever finishes first, and nothing fails.
func TestWorkerRacesManualValidate(t *testing.T) {
	for _, scheduledFirst := range []bool{true, false} {
		name := map[bool]string{true: "ScheduledStartsFirst", false: "ManualStartsFirst"}[scheduledFirst]
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			p := w.create(t, "raced")
			worker := revalidate.NewWorker(w.svc, 10)
			m := w.message(p.ID)
			started, release := make(chan struct{}), make(chan struct{})
			var calls sync.Mutex
			n := 0
			// The first validation to start waits until the second has stored its report.
			w.validator.set(func(*provider.Provider) provider.Report {
				calls.Lock()
				n++
				first := n == 1
				calls.Unlock()
				if first {
					close(started)
					<-release
					return report(provider.CheckFailed, "eks:CreateCluster", "denied")
				}
				return report(provider.CheckPassed, "authenticate", "")
			})
			scheduled := func() error {
				out, err := worker.Process(ctx, m)
				if err == nil && out != revalidate.Validated {
					err = errors.New("outcome " + string(out))
				}
				return err
			}
			manual := func() error { _, _, err := w.svc.Validate(ctx, "acme", p.ID); return err }
			first, second := scheduled, manual
			if !scheduledFirst {
				first, second = manual, scheduled
			}
			errc := make(chan error, 1)
			go func() { errc <- first() }()
			<-started
			if err := second(); err != nil {
				t.Fatalf("second validation: %v", err)
			}
			close(release)
			if err := <-errc; err != nil {
				t.Fatalf("first validation: %v", err)
			}
			got := w.get(t, p.ID)
			// The second started later, so its report (valid) is the newer one and stays.
			if got.Version != 2 || got.Status != provider.StatusValid || len(got.Validation.MissingPermissions) != 0 {
				t.Fatalf("after the race: v%d %s %v", got.Version, got.Status, got.Validation.MissingPermissions)
			}
			if ch := w.notes.take(); len(ch) != 1 || ch[0].To != provider.StatusValid {
				t.Fatalf("notifications %+v", ch)
			}
		})
	}
}
