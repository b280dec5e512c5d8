// Package revalidate re-checks every provider's credentials on a schedule, for ten providers or a
// hundred thousand: a dispatcher lists the providers due (never checked first, then the oldest
// check) with bounded reads and enqueues them; workers validate them with the same code as POST
// validate. Deployed, the queue is SQS (package sqsqueue) and each side is a Lambda function;
// locally both run in one process around a MemQueue.
//
// Delivery is at least once end to end: the dispatcher may enqueue a provider twice (a run that
// is retried, a due index that lags a write) and SQS may deliver a message twice. The worker
// makes that harmless by skipping a provider checked since the message was enqueued.
package revalidate

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Message asks a worker to revalidate one provider.
type Message struct {
	Org        string    `json:"org"`
	ProviderID string    `json:"provider_id"`
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// MaxBatch is the most messages one Send takes (SQS SendMessageBatch's limit).
const MaxBatch = 10

// Queue carries messages from the dispatcher to the workers.
type Queue interface {
	// Send enqueues up to MaxBatch messages. On error, any of them may have been enqueued.
	Send(ctx context.Context, batch []Message) error
}

// MemQueue is the in-process Queue of local runs and the benchmark. Like SQS, it redelivers a
// message whose handling failed, up to maxReceives deliveries, then sets it aside (its DLQ).
type MemQueue struct {
	mu          sync.Mutex
	cond        *sync.Cond
	pending     []delivery
	inFlight    int
	closed      bool
	maxReceives int
	dead        []Message
}

type delivery struct {
	msg      Message
	receives int
}

// NewMemQueue returns an empty queue that gives a message at most maxReceives deliveries (at
// least 1).
func NewMemQueue(maxReceives int) *MemQueue {
	q := &MemQueue{maxReceives: max(1, maxReceives)}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Send enqueues batch; it never blocks, so a local dispatcher is never slowed by its workers.
func (q *MemQueue) Send(_ context.Context, batch []Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range batch {
		q.pending = append(q.pending, delivery{msg: m})
	}
	q.cond.Broadcast()
	return nil
}

// Close says no more messages will be sent: Serve returns once the queue has drained.
func (q *MemQueue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Dead returns the messages whose every delivery failed.
func (q *MemQueue) Dead() []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Message(nil), q.dead...)
}

// Serve hands messages to handle from concurrency goroutines until the queue is closed and
// drained, or ctx ends.
func (q *MemQueue) Serve(ctx context.Context, concurrency int, handle func(context.Context, Message) error) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.cond.Broadcast()
	})
	defer stop()
	var wg sync.WaitGroup
	for range max(1, concurrency) {
		wg.Go(func() {
			for {
				d, ok := q.receive(ctx)
				if !ok {
					return
				}
				q.done(d, handle(ctx, d.msg))
			}
		})
	}
	wg.Wait()
}

func (q *MemQueue) receive(ctx context.Context) (delivery, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.pending) == 0 {
		// In-flight messages may come back for another delivery, so only a closed queue with
		// nothing in flight is finished.
		if ctx.Err() != nil || (q.closed && q.inFlight == 0) {
			return delivery{}, false
		}
		q.cond.Wait()
	}
	if ctx.Err() != nil {
		return delivery{}, false
	}
	d := q.pending[0]
	q.pending = q.pending[1:]
	d.receives++
	q.inFlight++
	return d, true
}

func (q *MemQueue) done(d delivery, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight--
	switch {
	case err == nil:
	case d.receives < q.maxReceives:
		q.pending = append(q.pending, d)
	default:
		q.dead = append(q.dead, d.msg)
	}
	q.cond.Broadcast()
}

// LogQueue logs what it is sent instead of enqueuing it: the dispatcher's queue when a function
// runs locally on the embedded store (`make invoke`), where there is no SQS.
type LogQueue struct{ Logger *slog.Logger }

// Send logs each message.
func (q LogQueue) Send(_ context.Context, batch []Message) error {
	for _, m := range batch {
		q.Logger.Info("would enqueue", "organization", m.Org, "provider_id", m.ProviderID, "enqueued_at", m.EnqueuedAt)
	}
	return nil
}
