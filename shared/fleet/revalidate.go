package fleet

import (
	"context"
	"time"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// ValidateIfDue is Validate for the scheduled worker: it skips (validated false, the provider as
// read, no error) a provider whose current credentials were checked at or after since, the time
// the worker's message was enqueued. A duplicate delivery, or a manual validate that got there
// first, then costs one read rather than a validation and a write, and the provider's cloud is
// not called twice. Its errors are Validate's.
func (s *Service) ValidateIfDue(ctx context.Context, org, id string, since time.Time) (report provider.Report, stored *provider.Provider, validated bool, err error) {
	p, err := s.store.Get(ctx, org, id)
	if err != nil {
		return provider.Report{}, nil, false, err
	}
	if p.Validation != nil && !p.Validation.CheckedAt.Before(since) {
		return provider.Report{}, p, false, nil
	}
	report, stored, err = s.validateRead(ctx, p)
	return report, stored, true, err
}
