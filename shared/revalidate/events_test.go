package revalidate_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/revalidate"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// wantFailures is the batch item failures each worker event must produce against a store holding
// the seeded provider. Every worker event must be listed: a new event states its outcome.
var wantFailures = map[string][]string{
	"worker.json": {},
	// The seeded provider (validated), a deleted one (skipped) and a truncated body (poison).
	"worker-batch.json": {"e7d6c5b4-a392-4817-9f6e-5d4c3b2a1908"},
}

// wantEnqueued is how many providers each dispatcher event's run must enqueue: the seeded
// provider was never validated, so it is due.
var wantEnqueued = map[string]int{"dispatcher.json": 1}

// eventApp is the app as the functions build it, on an embedded store holding the seeded provider.
func eventApp(t *testing.T, parts ...app.Parts) *app.App {
	t.Helper()
	env := map[string]string{"STORE": "embedded", "DATA_DIR": t.TempDir(), "AUTH_MODE": "authorizer"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var p0 app.Parts
	if len(parts) > 0 {
		p0 = parts[0]
	}
	a, err := app.Build(ctx, cfg, p0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	testenv.SeedEventProvider(t, a.Store, a.Secrets)
	return a
}

func eventFiles(t *testing.T, fn string) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{fn + ".json", fn + "-*.json"} {
		files, err := filepath.Glob(filepath.Join(testenv.Root(), "events", pattern))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, files...)
	}
	if len(out) == 0 {
		t.Fatalf("no events/%s*.json", fn)
	}
	return out
}

func TestWorkerEvents(t *testing.T) {
	seen := 0
	for _, file := range eventFiles(t, "worker") {
		name := filepath.Base(file)
		want, ok := wantFailures[name]
		if !ok {
			t.Errorf("%s: add its expected failures to wantFailures", name)
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.SQSEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			for _, r := range ev.Records {
				sum := md5.Sum([]byte(r.Body))
				if r.EventSource != "aws:sqs" || r.MessageId == "" || r.Md5OfBody != hex.EncodeToString(sum[:]) ||
					r.Attributes["ApproximateReceiveCount"] == "" || !strings.HasPrefix(r.EventSourceARN, "arn:aws:sqs:") {
					t.Fatalf("not an SQS event record as Lambda delivers it: %+v", r)
				}
			}
			notes := &notifier{}
			a := eventApp(t, app.Parts{Validators: fleet.Validators{provider.AWS: &validator{answer: answer(provider.CheckPassed)}}, Notifier: notes})
			resp, err := revalidate.SQSHandler(revalidate.WorkerFor(a), a.Logger)(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := failures(resp); !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
				t.Fatalf("batch item failures %v, want %v", got, want)
			}
			p, err := a.Store.Get(ctx, "acme", testenv.EventProviderID)
			if err != nil || p.Status != provider.StatusValid {
				t.Fatalf("seeded provider after the event: %v, %v", p, err)
			}
			if ch := notes.take(); len(ch) != 1 || ch[0].ProviderID != testenv.EventProviderID || ch[0].To != provider.StatusValid {
				t.Fatalf("status changes %+v", ch)
			}
		})
	}
	if seen != len(wantFailures) {
		t.Errorf("ran %d worker events, expected %d: an event file is missing", seen, len(wantFailures))
	}
}

func TestDispatcherEvents(t *testing.T) {
	for _, file := range eventFiles(t, "dispatcher") {
		name := filepath.Base(file)
		want, ok := wantEnqueued[name]
		if !ok {
			t.Errorf("%s: add its expected count to wantEnqueued", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev revalidate.ScheduleEvent
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields() // the event is exactly the template's Input
			if err := dec.Decode(&ev); err != nil {
				t.Fatal(err)
			}
			if _, err := time.Parse(time.RFC3339, ev.ScheduledTime); err != nil || ev.ExecutionID == "" ||
				ev.AttemptNumber == "" || !strings.HasPrefix(ev.ScheduleARN, "arn:aws:scheduler:") {
				t.Fatalf("not the schedule's input with its context attributes filled in: %+v", ev)
			}
			a := eventApp(t)
			q := &recorder{}
			d, err := revalidate.DispatcherFor(a, q)
			if err != nil {
				t.Fatal(err)
			}
			res, err := revalidate.ScheduleHandler(d, a.Logger)(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			msgs := q.take()
			if res.Enqueued != want || !res.Complete || len(msgs) != want || (want > 0 && msgs[0].ProviderID != testenv.EventProviderID) {
				t.Fatalf("run %+v enqueued %v, want %d", res, msgs, want)
			}
		})
	}
}
