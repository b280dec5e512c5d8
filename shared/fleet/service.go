package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/logging"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Options tune a Service; zero values take the documented defaults.
type Options struct {
	// ValidateTimeout bounds one validation run (default 20 s, inside API Gateway's 29 s).
	ValidateTimeout time.Duration
	// ErrorThreshold is how many consecutive "error" validations a valid provider tolerates before
	// its status leaves valid (default 3): an unreachable cloud is not proof of bad credentials.
	ErrorThreshold int
	// Notifier, if set, hears of every change between valid and not valid.
	Notifier ChangeNotifier
	// Now and NewID are for tests.
	Now   func() time.Time
	NewID func() string
}

// Service implements the Fleet Providers operations over a Store, a SecretStore and validators.
type Service struct {
	store      Store
	secrets    SecretStore
	validators Validators
	opts       Options
}

// New returns a Service. validators may be nil (no type can be validated).
func New(store Store, secrets SecretStore, validators Validators, opts Options) *Service {
	if opts.ValidateTimeout <= 0 {
		opts.ValidateTimeout = 20 * time.Second
	}
	if opts.ErrorThreshold <= 0 {
		opts.ErrorThreshold = 3
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	if opts.NewID == nil {
		opts.NewID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	return &Service{store: store, secrets: secrets, validators: validators, opts: opts}
}

// CreateInput is a new provider as a client describes it.
type CreateInput struct {
	Org        string
	Identifier string
	Type       provider.Type
	Config     json.RawMessage
}

// Create checks the input, stores the secret and then the provider.
//
// Order matters: the secret is written first, so an item never exists without its secret. A process
// that dies between the two leaves only an unreferenced secret, which Repair deletes.
func (s *Service) Create(ctx context.Context, in CreateInput) (*provider.Provider, error) {
	errs := &provider.ValidationError{}
	if !provider.ValidIdentifier(in.Identifier) {
		errs.Add("identifier", "must be "+provider.IdentifierRule)
	}
	var cfg provider.Configuration
	if !in.Type.Valid() {
		errs.Add("provider_type", "must be one of aws, gcp, azure, oci")
	} else {
		var err error
		if cfg, err = provider.ParseConfiguration(in.Type, in.Config); err != nil {
			var ve *provider.ValidationError
			if errors.As(err, &ve) {
				errs.Fields = append(errs.Fields, ve.Fields...)
			} else {
				return nil, err
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	now := s.opts.Now()
	p := &provider.Provider{
		ID:            s.opts.NewID(),
		Organization:  in.Org,
		Identifier:    in.Identifier,
		Type:          in.Type,
		Config:        cfg.Public,
		SecretFields:  cfg.SecretFieldNames(),
		SecretVersion: s.opts.NewID(),
		Status:        provider.StatusPending,
		CreatedAt:     now,
		UpdatedAt:     now,
		Version:       1,
	}
	ctx = logging.Attrs(ctx, "provider_id", p.ID)
	ref := SecretRef{Org: p.Organization, ProviderID: p.ID}
	if err := s.secrets.Put(ctx, ref, p.SecretVersion, cfg.Secret); err != nil {
		return nil, fmt.Errorf("store secret: %w", err)
	}
	if err := s.store.Create(ctx, p); err != nil {
		// Only a conflict proves the item was not written; after a timeout or a lost reply it may
		// exist, and deleting its secret would orphan it. Those cases are left to Repair.
		if errors.Is(err, provider.ErrConflict) {
			if derr := s.secrets.Delete(context.WithoutCancel(ctx), ref); derr != nil {
				logging.From(ctx).Warn("secret left for repair after failed create", "error", derr)
			}
		}
		return nil, fmt.Errorf("store provider: %w", err)
	}
	return p, nil
}

// Get returns one provider of org.
func (s *Service) Get(ctx context.Context, org, id string) (*provider.Provider, error) {
	return s.store.Get(ctx, org, id)
}

// Page is one page of a list.
type Page struct {
	Items      []*provider.Provider
	NextCursor string
}

// List returns a page of org's providers. cursor is "" or a NextCursor issued for org.
func (s *Service) List(ctx context.Context, org string, limit int, cursor string) (Page, error) {
	after, err := decodeCursor(org, cursor)
	if err != nil {
		return Page{}, err
	}
	items, next, err := s.store.List(ctx, org, limit, after)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: items, NextCursor: encodeCursor(org, next)}, nil
}

// UpdateInput holds the fields a PATCH changes; nil means unchanged.
type UpdateInput struct {
	Identifier *string
	Config     json.RawMessage
}

// Update renames a provider and/or replaces its configuration. New credentials are written as a
// new secret version before the item points at it, and the provider returns to pending_validation.
func (s *Service) Update(ctx context.Context, org, id string, in UpdateInput) (*provider.Provider, error) {
	prev, err := s.store.Get(ctx, org, id)
	if err != nil {
		return nil, err
	}
	errs := &provider.ValidationError{}
	if in.Identifier != nil && !provider.ValidIdentifier(*in.Identifier) {
		errs.Add("identifier", "must be "+provider.IdentifierRule)
	}
	var cfg provider.Configuration
	if in.Config != nil {
		if cfg, err = provider.ParseConfiguration(prev.Type, in.Config); err != nil {
			var ve *provider.ValidationError
			if !errors.As(err, &ve) {
				return nil, err
			}
			errs.Fields = append(errs.Fields, ve.Fields...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	next := prev.Clone()
	next.UpdatedAt = s.opts.Now()
	if in.Identifier != nil {
		next.Identifier = *in.Identifier
	}
	if in.Config != nil {
		// A role's trust policy names its external id: keep it across configuration changes.
		if old, ok := prev.Config["external_id"]; ok {
			if _, role := cfg.Public["external_id"]; role {
				cfg.Public["external_id"] = old
			}
		}
		next.Config = cfg.Public
		next.SecretFields = cfg.SecretFieldNames()
		next.SecretVersion = s.opts.NewID()
		next.Status = provider.StatusPending
		next.Validation = nil
		next.ConsecutiveFailures = 0
		// Until the item points at it, the new version is unused; if we die here, Repair makes
		// the item's version current again.
		if err := s.secrets.Put(ctx, SecretRef{Org: org, ProviderID: id}, next.SecretVersion, cfg.Secret); err != nil {
			return nil, fmt.Errorf("store secret: %w", err)
		}
	}
	if err := s.store.Update(ctx, prev, next); err != nil {
		// On a definite refusal the item still uses the old version: make it current again now.
		// Otherwise the update may have landed, and Repair decides from the item.
		if in.Config != nil && (errors.Is(err, provider.ErrStale) || errors.Is(err, provider.ErrConflict) || errors.Is(err, provider.ErrNotFound)) {
			if rerr := s.secrets.SetCurrent(context.WithoutCancel(ctx), SecretRef{Org: org, ProviderID: id}, prev.SecretVersion); rerr != nil {
				logging.From(ctx).Warn("secret version left for repair after failed update", "error", rerr)
			}
		}
		return nil, err
	}
	return next, nil
}

// Delete removes the provider, then its secret. A secret whose deletion fails is left to Repair:
// the provider is gone either way, and an item never outlives its secret.
func (s *Service) Delete(ctx context.Context, org, id string) error {
	if err := s.store.Delete(ctx, org, id); err != nil {
		return err
	}
	if err := s.secrets.Delete(ctx, SecretRef{Org: org, ProviderID: id}); err != nil {
		logging.From(ctx).Warn("secret left for repair after delete", "error", err)
	}
	return nil
}
