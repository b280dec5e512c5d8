package revalidate_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/logging"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/revalidate"
)

// benchConcurrency is the benchmark's worker concurrency C. The default suits DynamoDB Local on
// a small machine: it serves about 450 TransactWriteItems and 2,400 GetItem calls a second on
// two vCPUs, and each revalidation makes one of each, so beyond about 30 workers the benchmark
// measures the emulator rather than the pipeline. (Deployed, C is the event source's
// MaximumConcurrency × REVALIDATE_CONCURRENCY, against DynamoDB's far higher limits.)
var benchConcurrency = flag.Int("concurrency", 25, "BenchmarkRevalidate10k's worker concurrency")

// BenchmarkRevalidate10k revalidates 10,000 providers in DynamoDB Local through the dispatcher,
// an in-process queue and C workers, with a validator that takes 100 ms, and checks each round
// against the ideal n × 100 ms / C:
//
//	go test -run '^$' -bench Revalidate10k -benchtime 1x ./shared/revalidate/ [-args -concurrency 50]
func BenchmarkRevalidate10k(b *testing.B) {
	const (
		n       = 10_000
		latency = 100 * time.Millisecond
	)
	concurrency := *benchConcurrency
	ideal := time.Duration(n) * latency / time.Duration(concurrency)

	// Enough idle connections for every worker: the SDK's default keeps 10 and would reconnect.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 2*concurrency, 2*concurrency
	})
	store := newStore(b, func(o *dynamodb.Options) { o.HTTPClient = httpClient })
	secrets := &memSecrets{}
	seedStart := time.Now()
	ps := make([]*provider.Provider, n)
	for i := range ps {
		now := time.Now().UTC()
		ps[i] = &provider.Provider{
			ID: uuid.Must(uuid.NewV7()).String(), Organization: fmt.Sprintf("org-%03d", i%200), Identifier: fmt.Sprintf("fleet-%05d", i),
			Type: provider.AWS, Config: map[string]any{"aws_access_key": "AKIAIOSFODNN7EXAMPLE"}, SecretFields: []string{"aws_access_secret"},
			SecretVersion: uuid.NewString(), Status: provider.StatusPending, CreatedAt: now, UpdatedAt: now, Version: 1,
		}
		_ = secrets.Put(ctx, fleet.SecretRef{Org: ps[i].Organization, ProviderID: ps[i].ID}, ps[i].SecretVersion,
			map[string]string{"aws_access_secret": secretValue})
	}
	if err := store.Load(ctx, ps); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d providers in %s", n, time.Since(seedStart).Round(time.Millisecond))

	// The per-provider log lines would measure the terminal.
	ctx := logging.With(ctx, slog.New(slog.DiscardHandler))

	// Warm the emulator's JIT on the calls a round makes (a cold DynamoDB Local is a third
	// slower), with an instant validator; these providers stay due for the rounds.
	warm := time.Now()
	fast := revalidate.NewWorker(fleet.New(store, secrets, fleet.Validators{provider.AWS: benchValidator{}}, fleet.Options{}), concurrency)
	wq := revalidate.NewMemQueue(1)
	for _, p := range ps[:3000] {
		_ = wq.Send(ctx, []revalidate.Message{{Org: p.Organization, ProviderID: p.ID, EnqueuedAt: time.Now()}})
	}
	wq.Close()
	wq.Serve(ctx, concurrency, fast.Handle)
	b.Logf("warmed up in %s", time.Since(warm).Round(time.Millisecond))

	slow := fleet.Validators{provider.AWS: benchValidator{latency}}
	worker := revalidate.NewWorker(fleet.New(store, secrets, slow, fleet.Options{}), concurrency)

	var elapsed, dispatch time.Duration
	var reads float64
	var pages int64
	runs := 0
	for b.Loop() {
		q := revalidate.NewMemQueue(3)
		// Interval 0: every provider checked before this run is due, so each round has n.
		d := revalidate.NewDispatcher(store, q, revalidate.DispatchOptions{})
		var validated atomic.Int64
		before := store.DueReads()
		start := time.Now()
		var res revalidate.RunResult
		var runErr error
		go func() {
			defer q.Close()
			res, runErr = d.Run(ctx)
		}()
		q.Serve(ctx, concurrency, func(ctx context.Context, m revalidate.Message) error {
			out, err := worker.Process(ctx, m)
			if out == revalidate.Validated {
				validated.Add(1)
			}
			return err
		})
		took := time.Since(start)
		if runErr != nil || !res.Complete || res.Enqueued != n || validated.Load() != n || len(q.Dead()) > 0 {
			b.Fatalf("run: %+v, %v; validated %d of %d, %d dead", res, runErr, validated.Load(), n, len(q.Dead()))
		}
		b.Logf("round %d: %s (%.2fx ideal)", runs+1, took.Round(time.Millisecond), took.Seconds()/ideal.Seconds())
		after := store.DueReads()
		elapsed += took
		dispatch += time.Duration(res.DurationMS) * time.Millisecond
		reads += after.CapacityUnits - before.CapacityUnits
		pages += after.Pages - before.Pages
		runs++
	}
	per := elapsed / time.Duration(runs)
	b.ReportMetric(float64(n)/per.Seconds(), "providers/s")
	b.ReportMetric(per.Seconds()/ideal.Seconds(), "x_ideal")
	b.ReportMetric(float64(dispatch.Milliseconds())/float64(runs), "dispatch_ms")
	b.ReportMetric(float64(pages)/float64(runs), "dispatch_pages")
	b.ReportMetric(reads/float64(runs), "dispatch_RCU")
	b.Logf("%d providers, %d workers, %s validator: %s per round (ideal %s, %.2fx); dispatcher %s, %d pages, %.1f RCU",
		n, concurrency, latency, per.Round(time.Millisecond), ideal, per.Seconds()/ideal.Seconds(),
		(dispatch / time.Duration(runs)).Round(time.Millisecond), pages/int64(runs), reads/float64(runs))
	if per > ideal*12/10 {
		b.Errorf("%s per round exceeds 1.2 × the ideal %s", per.Round(time.Millisecond), ideal)
	}
}

// benchValidator passes every check after a fixed latency, as a cloud's round trips would take.
type benchValidator struct{ latency time.Duration }

func (v benchValidator) Validate(ctx context.Context, _ *provider.Provider, _ map[string]string) provider.Report {
	if v.latency > 0 {
		select {
		case <-time.After(v.latency):
		case <-ctx.Done():
		}
	}
	return provider.Report{Checks: []provider.Check{{Name: "authenticate", Status: provider.CheckPassed}}}
}
