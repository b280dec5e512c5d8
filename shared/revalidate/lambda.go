package revalidate

// The deployed side: the functions' wiring and Lambda handlers. The mains, `make revalidate`
// and the tests of events/ all build the two sides here, so they run the same code.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/logging"
)

// WorkerFor returns the worker over a's service (built with the validators and the notifier),
// tuned by a's configuration.
func WorkerFor(a *app.App) *Worker {
	return NewWorker(a.Service, a.Config.RevalidateConcurrency)
}

// DispatcherFor returns the dispatcher on a's store, sending to q, tuned by a's configuration.
func DispatcherFor(a *app.App, q Queue) (*Dispatcher, error) {
	due, ok := a.Store.(fleet.DueStore)
	if !ok {
		return nil, fmt.Errorf("store %q cannot list due providers", a.Config.Store)
	}
	return NewDispatcher(due, q, DispatchOptions{
		Interval:  a.Config.RevalidateInterval,
		Budget:    a.Config.RevalidateBudget,
		MaxPerRun: a.Config.RevalidateMaxPerRun,
	}), nil
}

// SQSHandler is the worker function's Lambda handler.
func SQSHandler(w *Worker, logger *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return w.HandleSQS(logging.With(ctx, logger), ev)
	}
}

// ScheduleHandler is the dispatcher function's Lambda handler.
func ScheduleHandler(d *Dispatcher, logger *slog.Logger) func(context.Context, ScheduleEvent) (RunResult, error) {
	return func(ctx context.Context, ev ScheduleEvent) (RunResult, error) {
		return d.HandleSchedule(logging.With(ctx, logger), ev)
	}
}

// HandleSQS is the worker's Lambda handler (the event source has ReportBatchItemFailures): it
// processes the batch's messages concurrently and reports the ones to deliver again. It never
// fails the whole batch, which would repeat the messages that succeeded.
func (w *Worker) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	sem := make(chan struct{}, w.concurrency)
	var wg sync.WaitGroup
	for i, rec := range ev.Records {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			failed[i] = w.handleRecord(ctx, rec) != nil
		})
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

func (w *Worker) handleRecord(ctx context.Context, rec events.SQSMessage) (err error) {
	ctx = logging.Attrs(ctx, "message_id", rec.MessageId, "receive_count", rec.Attributes["ApproximateReceiveCount"])
	// One provider's panic must not take its batch mates with it (a crash retries them all).
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			logging.From(ctx).Error("revalidation panicked", "error", err)
		}
	}()
	var m Message
	if err := json.Unmarshal([]byte(rec.Body), &m); err != nil {
		logging.From(ctx).Error("revalidation message unreadable", "error", err)
		return ErrBadMessage
	}
	return w.Handle(ctx, m)
}

// ScheduleEvent is what the schedule sends the dispatcher: template.yaml's Input, with
// EventBridge Scheduler's context attributes filled in. It only names the run in the logs; a
// manual invoke with {} runs just the same.
type ScheduleEvent struct {
	ScheduleARN   string `json:"schedule_arn"`
	ScheduledTime string `json:"scheduled_time"`
	ExecutionID   string `json:"execution_id"`
	AttemptNumber string `json:"attempt_number"`
}

// HandleSchedule is the dispatcher's Lambda handler.
func (d *Dispatcher) HandleSchedule(ctx context.Context, ev ScheduleEvent) (RunResult, error) {
	ctx = logging.Attrs(ctx, "execution_id", ev.ExecutionID, "scheduled_time", ev.ScheduledTime, "attempt", ev.AttemptNumber)
	res, err := d.Run(ctx)
	if err != nil {
		// The error fails the invocation, for the function's error metric and alarms. What was
		// enqueued stays enqueued, and the next run resumes from the checkpoint.
		logging.From(ctx).Error("revalidation dispatch failed", "enqueued", res.Enqueued, "error", err)
	}
	return res, err
}
