package revalidate

import (
	"context"
	"errors"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/logging"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Outcome is what a worker did with a message it handled successfully.
type Outcome string

const (
	// Validated: the provider was validated and the report stored (or a newer one kept).
	Validated Outcome = "validated"
	// Fresh: the provider was checked at or after the message was enqueued: a duplicate
	// delivery, or a manual validate that got there first.
	Fresh Outcome = "fresh"
	// Gone: the provider was deleted meanwhile.
	Gone Outcome = "deleted"
	// Rotated: the credentials changed during validation; the new ones are pending and due.
	Rotated Outcome = "credentials_changed"
	// Unsupported: no validator exists for the provider's type yet; retrying cannot help.
	Unsupported Outcome = "unsupported"
)

// ErrBadMessage marks a message no retry can handle; it fails every delivery and so ends in the
// dead-letter queue, where someone can look at it.
var ErrBadMessage = errors.New("malformed revalidation message")

// Worker validates the providers named by messages, through the same fleet.Service code as
// POST validate: the same validators, the report stored with optimistic concurrency, status
// changes published by the service's notifier.
type Worker struct {
	svc         *fleet.Service
	concurrency int
}

// NewWorker returns a Worker on svc that handles up to concurrency messages of a batch at once
// (default 10).
func NewWorker(svc *fleet.Service, concurrency int) *Worker {
	if concurrency <= 0 {
		concurrency = 10
	}
	return &Worker{svc: svc, concurrency: concurrency}
}

// Process revalidates the provider m names. A nil error means the message is done with,
// whatever the Outcome; an error means it should be delivered again.
func (w *Worker) Process(ctx context.Context, m Message) (Outcome, error) {
	if m.Org == "" || m.ProviderID == "" || m.EnqueuedAt.IsZero() {
		return "", ErrBadMessage
	}
	ctx = logging.Attrs(ctx, "organization", m.Org, "provider_id", m.ProviderID)
	// Comparing the last report's time with the message's, rather than versions, also skips a
	// provider validated by hand since: its report is just as new.
	report, stored, validated, err := w.svc.ValidateIfDue(ctx, m.Org, m.ProviderID, m.EnqueuedAt)
	switch {
	case err != nil:
		return outcome(err)
	case !validated:
		return Fresh, nil
	}
	logging.From(ctx).Info("revalidated", "report_status", string(report.Status), "status", string(stored.Status),
		"consecutive_failures", stored.ConsecutiveFailures)
	return Validated, nil
}

// outcome sorts the errors of a read or a validation into done-with and try-again.
func outcome(err error) (Outcome, error) {
	switch {
	case errors.Is(err, provider.ErrNotFound):
		// The provider, or its secret, went with a delete (item first, then secret).
		return Gone, nil
	case errors.Is(err, fleet.ErrCredentialsChanged):
		return Rotated, nil
	case errors.Is(err, provider.ErrNotImplemented):
		return Unsupported, nil
	}
	return "", err
}

// Handle is Process for a MemQueue: it logs what happened and returns only the error.
func (w *Worker) Handle(ctx context.Context, m Message) error {
	out, err := w.Process(ctx, m)
	if err != nil {
		logging.From(ctx).Error("revalidation failed", "organization", m.Org, "provider_id", m.ProviderID, "error", err)
		return err
	}
	if out != Validated {
		logging.From(ctx).Debug("revalidation skipped", "organization", m.Org, "provider_id", m.ProviderID, "outcome", string(out))
	}
	return nil
}
