package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/streamtime/fleet-providers/shared/logging"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// ErrCredentialsChanged: the provider's credentials were replaced while it was being validated,
// so the report describes credentials it no longer has and is not stored.
var ErrCredentialsChanged = errors.New("credentials changed during validation")

// CanValidate reports whether a validator exists for t.
func (s *Service) CanValidate(t provider.Type) bool {
	_, ok := s.validators[t]
	return ok
}

// Validate runs the provider's validator and stores the report and the status it implies.
// It returns the report and the provider as stored afterwards.
func (s *Service) Validate(ctx context.Context, org, id string) (provider.Report, *provider.Provider, error) {
	p, err := s.store.Get(ctx, org, id)
	if err != nil {
		return provider.Report{}, nil, err
	}
	return s.validateRead(ctx, p)
}

// validateRead validates the provider as read: its validator on its current secret, then the
// report stored. The secret store is read only here.
func (s *Service) validateRead(ctx context.Context, p *provider.Provider) (provider.Report, *provider.Provider, error) {
	v, ok := s.validators[p.Type]
	if !ok {
		return provider.Report{}, nil, fmt.Errorf("validation of %s providers: %w", p.Type, provider.ErrNotImplemented)
	}
	secret, err := s.secrets.Get(ctx, SecretRef{Org: p.Organization, ProviderID: p.ID}, p.SecretVersion)
	if err != nil {
		return provider.Report{}, nil, fmt.Errorf("read secret: %w", err)
	}
	vctx, cancel := context.WithTimeout(ctx, s.opts.ValidateTimeout)
	start := s.opts.Now()
	report := v.Validate(vctx, p, secret)
	cancel()
	report.CheckedAt = start
	report.Normalize()
	stored, err := s.StoreReport(ctx, p, report)
	return report, stored, err
}

// StoreReport records report on the provider read as p, retrying on concurrent writes. A report is
// dropped (ErrCredentialsChanged) when the credentials it checked were replaced meanwhile, and kept
// out of the way when a newer report was stored first.
func (s *Service) StoreReport(ctx context.Context, p *provider.Provider, report provider.Report) (*provider.Provider, error) {
	prev := p
	for attempt := 0; ; attempt++ {
		if prev.SecretVersion != p.SecretVersion {
			return prev, ErrCredentialsChanged
		}
		if prev.Validation != nil && prev.Validation.CheckedAt.After(report.CheckedAt) {
			return prev, nil
		}
		next := prev.Clone()
		ApplyReport(next, report, s.opts.ErrorThreshold)
		next.UpdatedAt = s.opts.Now()
		err := s.store.Update(ctx, prev, next)
		if err == nil {
			s.notify(ctx, prev, next)
			return next, nil
		}
		if !errors.Is(err, provider.ErrStale) || attempt >= 5 {
			return nil, err
		}
		if prev, err = s.store.Get(ctx, p.Organization, p.ID); err != nil {
			return nil, err
		}
	}
}

// ApplyReport sets a provider's validation, status and history from a report. An "error" report
// (provider unreachable) leaves a valid provider valid until threshold consecutive errors.
func ApplyReport(p *provider.Provider, r provider.Report, threshold int) {
	rc := r.Clone()
	p.Validation = &rc
	at := r.CheckedAt
	p.LastValidatedAt = &at
	switch r.Status {
	case provider.StatusValid:
		p.ConsecutiveFailures = 0
		p.LastValidAt = &at
		p.Status = provider.StatusValid
	case provider.StatusError:
		p.ConsecutiveFailures++
		if p.Status != provider.StatusValid || p.ConsecutiveFailures >= threshold {
			p.Status = provider.StatusError
		}
	default:
		p.ConsecutiveFailures++
		p.Status = r.Status
	}
}

// notify publishes a change between valid and not valid. The report is already stored, so a
// failure to publish is logged rather than undoing it.
func (s *Service) notify(ctx context.Context, prev, next *provider.Provider) {
	if s.opts.Notifier == nil || (prev.Status == provider.StatusValid) == (next.Status == provider.StatusValid) {
		return
	}
	c := StatusChange{
		Organization: next.Organization, ProviderID: next.ID, Identifier: next.Identifier, ProviderType: next.Type,
		From: prev.Status, To: next.Status, Reason: reason(next.Validation),
		MissingPermissions: []string{}, CheckedAt: next.Validation.CheckedAt,
	}
	c.MissingPermissions = append(c.MissingPermissions, next.Validation.MissingPermissions...)
	if err := s.opts.Notifier.StatusChanged(ctx, c); err != nil {
		logging.From(ctx).Error("status change not published", "organization", c.Organization, "provider_id", c.ProviderID,
			"from", string(c.From), "to", string(c.To), "error", err)
	}
}

// reason is the first check that kept the report from passing, in words.
func reason(r *provider.Report) string {
	if r.Status == provider.StatusValid {
		return "every check passed"
	}
	for _, want := range []provider.CheckStatus{provider.CheckFailed, provider.CheckError, provider.CheckUnknown} {
		for _, c := range r.Checks {
			if c.Status == want {
				if c.Message != "" {
					return c.Name + ": " + c.Message
				}
				return c.Name + " " + string(c.Status)
			}
		}
	}
	return "validation " + string(r.Status)
}
