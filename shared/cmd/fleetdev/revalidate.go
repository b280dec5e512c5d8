package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/logging"
	rv "github.com/streamtime/fleet-providers/shared/revalidate"
	"github.com/streamtime/fleet-providers/shared/validators"
)

// revalidate runs one scheduled revalidation in this process: the dispatcher fills an in-memory
// queue and workers drain it, against the configured store (embedded by default: stop `make run`
// first, it holds the data directory). Status changes are logged, or published to EVENT_BUS_NAME
// if set. It prints a summary and fails if any message ended undelivered.
func revalidate(args []string) error {
	fs := flag.NewFlagSet("revalidate", flag.ExitOnError)
	interval := fs.Duration("interval", -1, "revalidate providers last checked longer ago than this (default $REVALIDATE_INTERVAL or 24h; 0 for all)")
	concurrency := fs.Int("concurrency", 0, "validations at once (default $REVALIDATE_CONCURRENCY or 10)")
	_ = fs.Parse(args)
	cfg, err := devConfig()
	if err != nil {
		return err
	}
	if *interval >= 0 {
		cfg.RevalidateInterval = *interval
	}
	if *concurrency > 0 {
		cfg.RevalidateConcurrency = *concurrency
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	parts, err := validators.Parts(ctx, cfg)
	if err != nil {
		return err
	}
	a, err := app.Build(ctx, cfg, parts)
	if err != nil {
		return err
	}
	defer a.Close()
	q := rv.NewMemQueue(3)
	d, err := rv.DispatcherFor(a, q)
	if err != nil {
		return err
	}
	w := rv.WorkerFor(a)
	ctx = logging.With(ctx, a.Logger)

	start := time.Now()
	var res rv.RunResult
	var runErr error
	go func() {
		defer q.Close()
		res, runErr = d.Run(ctx)
	}()
	var mu sync.Mutex
	outcomes := map[rv.Outcome]int{}
	q.Serve(ctx, cfg.RevalidateConcurrency, func(ctx context.Context, m rv.Message) error {
		out, err := w.Process(ctx, m)
		if err != nil {
			a.Logger.Error("revalidation failed", "organization", m.Org, "provider_id", m.ProviderID, "error", err)
			return err
		}
		mu.Lock()
		outcomes[out]++
		mu.Unlock()
		return nil
	})
	dead := q.Dead()
	fmt.Printf("revalidate: %d enqueued (providers last checked before %s), %d validated, %d already fresh, %d deleted meanwhile, %d rotated meanwhile, %d without a validator, %d failed, in %s\n",
		res.Enqueued, res.Cutoff.Format(time.RFC3339), outcomes[rv.Validated], outcomes[rv.Fresh], outcomes[rv.Gone],
		outcomes[rv.Rotated], outcomes[rv.Unsupported], len(dead), time.Since(start).Round(time.Millisecond))
	if !res.Complete && runErr == nil {
		fmt.Printf("revalidate: stopped at the run's budget or limit; the next run continues after %s\n", res.Checkpoint)
	}
	switch {
	case runErr != nil:
		return runErr
	case ctx.Err() != nil:
		return ctx.Err()
	case len(dead) > 0:
		return errors.New("some providers could not be revalidated (see the log)")
	}
	return nil
}
