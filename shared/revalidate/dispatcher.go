package revalidate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/logging"
)

// DispatchOptions tune a Dispatcher; zero values take the documented defaults unless noted.
type DispatchOptions struct {
	// Interval is how old a provider's last check must be for it to be due. Zero makes every
	// provider due (a local "revalidate everything"); deployments set it (REVALIDATE_INTERVAL).
	Interval time.Duration
	// Budget bounds one run (default 2 min). A run that reaches it records where it stopped and
	// the next run continues from there. It also stays DeadlineMargin inside ctx's deadline.
	Budget time.Duration
	// MaxPerRun bounds the providers one run enqueues, and so its reads (default 200,000).
	MaxPerRun int
	// Senders is how many Send calls run at once (default 16): SQS calls take milliseconds, and
	// 16 of them enqueue 100,000 messages in about ten seconds.
	Senders int
	// Now is for tests.
	Now func() time.Time
}

// DeadlineMargin is the time a run leaves before its context's deadline (the Lambda timeout)
// to finish its sends and record its checkpoint.
const DeadlineMargin = 10 * time.Second

// Dispatcher enqueues the providers due for revalidation.
type Dispatcher struct {
	store fleet.DueStore
	queue Queue
	opts  DispatchOptions
}

// NewDispatcher returns a Dispatcher reading store and sending to queue.
func NewDispatcher(store fleet.DueStore, queue Queue, opts DispatchOptions) *Dispatcher {
	if opts.Budget <= 0 {
		opts.Budget = 2 * time.Minute
	}
	if opts.MaxPerRun <= 0 {
		opts.MaxPerRun = 200_000
	}
	if opts.Senders <= 0 {
		opts.Senders = 16
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	return &Dispatcher{store: store, queue: queue, opts: opts}
}

// RunResult describes one run.
type RunResult struct {
	Enqueued int       `json:"enqueued"`
	Cutoff   time.Time `json:"cutoff"`
	// ResumedAfter is the checkpoint the run started after ("" for a new pass).
	ResumedAfter string `json:"resumed_after,omitempty"`
	// Complete: the run reached the end of the due providers. Otherwise it stopped at its budget
	// or MaxPerRun, and Checkpoint is where the next run continues.
	Complete   bool   `json:"complete"`
	Checkpoint string `json:"checkpoint,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// Run enqueues the due providers in due order, from the last run's checkpoint, until none is
// left or the run's budget is spent, and records where it stopped.
//
// The checkpoint only moves past messages that were sent: a failed send returns an error and
// leaves it where it was, so the next run sends some messages again (harmless) rather than
// skipping any. Providers stay due until a worker validates them, so nothing is lost either way.
// A resumed pass does not go back for providers that became due before its checkpoint since
// (new or rotated credentials sort first); the next pass, normally the next run, takes them.
func (d *Dispatcher) Run(ctx context.Context) (RunResult, error) {
	began := time.Now()
	stopAt := began.Add(d.opts.Budget)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-DeadlineMargin).Before(stopAt) {
		stopAt = dl.Add(-DeadlineMargin)
	}
	now := d.opts.Now()
	res := RunResult{Cutoff: now.Add(-d.opts.Interval)}
	after, err := d.store.DueCheckpoint(ctx)
	if err != nil {
		return res, fmt.Errorf("read checkpoint: %w", err)
	}
	res.ResumedAfter = after

	sendCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan []Message)
	var wg sync.WaitGroup
	for range d.opts.Senders {
		wg.Go(func() {
			for b := range batches {
				if err := d.queue.Send(sendCtx, b); err != nil {
					cancel(fmt.Errorf("enqueue: %w", err))
				}
			}
		})
	}
	send := func(b []Message) bool {
		select {
		case batches <- b:
			return true
		case <-sendCtx.Done():
			return false
		}
	}

	var (
		batch   []Message
		last    = after // key of the last provider handed to a sender
		readErr error
	)
	res.Complete = true
	for due, err := range d.store.Due(ctx, after, res.Cutoff) {
		if err != nil {
			readErr, res.Complete = err, false
			break
		}
		batch = append(batch, Message{Org: due.Org, ProviderID: due.ID, EnqueuedAt: now})
		res.Enqueued++
		last = due.Key
		if len(batch) == MaxBatch {
			if !send(batch) {
				break
			}
			batch = nil
		}
		if res.Enqueued >= d.opts.MaxPerRun || time.Now().After(stopAt) {
			res.Complete = false
			break
		}
	}
	if len(batch) > 0 {
		send(batch)
	}
	close(batches)
	wg.Wait()
	res.DurationMS = time.Since(began).Milliseconds()
	if err := context.Cause(sendCtx); err != nil {
		return res, err
	}

	if !res.Complete {
		res.Checkpoint = last
	}
	if res.Checkpoint != after {
		if err := d.store.SetDueCheckpoint(ctx, res.Checkpoint); err != nil {
			return res, errors.Join(readErr, fmt.Errorf("record checkpoint: %w", err))
		}
	}
	if readErr != nil {
		return res, fmt.Errorf("read due providers: %w", readErr)
	}
	logging.From(ctx).Info("revalidation dispatched", "enqueued", res.Enqueued, "complete", res.Complete,
		"cutoff", res.Cutoff, "resumed_after", res.ResumedAfter, "checkpoint", res.Checkpoint, "duration_ms", res.DurationMS)
	return res, nil
}
