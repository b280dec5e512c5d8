package fleet

import (
	"context"
	"errors"
	"time"

	"github.com/streamtime/fleet-providers/shared/logging"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// RepairStats counts what a Repair run found and fixed.
type RepairStats struct {
	Secrets          int `json:"secrets"`
	OrphansDeleted   int `json:"orphans_deleted"`
	VersionsRestored int `json:"versions_restored"`
}

// Repair finishes what interrupted writes left behind, for secrets untouched for at least grace
// (longer than any request can run, so work in flight is never mistaken for debris):
//   - a secret whose provider does not exist (create died before the item, or delete died after
//     it) is deleted;
//   - a secret whose current version is not the one its provider uses (rotation died before the
//     item moved) gets the provider's version back as current.
//
// Items are always written after their secret, so an item without a secret cannot arise.
func (s *Service) Repair(ctx context.Context, grace time.Duration) (RepairStats, error) {
	var st RepairStats
	cutoff := s.opts.Now().Add(-grace)
	err := s.secrets.List(ctx, func(info SecretInfo) error {
		st.Secrets++
		if info.UpdatedAt.After(cutoff) {
			return nil
		}
		p, err := s.store.Get(ctx, info.Ref.Org, info.Ref.ProviderID)
		switch {
		case errors.Is(err, provider.ErrNotFound):
			if err := s.secrets.Delete(ctx, info.Ref); err != nil {
				return err
			}
			st.OrphansDeleted++
			logging.From(ctx).Info("repair: deleted orphan secret", "organization", info.Ref.Org, "provider_id", info.Ref.ProviderID)
		case err != nil:
			return err
		case p.SecretVersion != info.CurrentVersion:
			if err := s.secrets.SetCurrent(ctx, info.Ref, p.SecretVersion); err != nil {
				return err
			}
			st.VersionsRestored++
			logging.From(ctx).Info("repair: restored secret version", "organization", info.Ref.Org, "provider_id", info.Ref.ProviderID)
		}
		return nil
	})
	return st, err
}
