// Package fleet is the Fleet Providers service: it orchestrates the metadata store, the secret
// store and the validators, and owns the ordering of writes that keeps the two stores consistent.
package fleet

import (
	"context"
	"time"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// Store keeps provider metadata. Implementations map their errors to the provider.Err* values.
type Store interface {
	// Create stores a new provider with Version 1. ErrConflict if its identifier is taken in the org.
	Create(ctx context.Context, p *provider.Provider) error
	// Get returns a provider of org. ErrNotFound if there is none (including another org's id).
	Get(ctx context.Context, org, id string) (*provider.Provider, error)
	// List returns up to limit providers of org in id order after the position `after`
	// (a token a previous call returned; "" for the first page) and the token for the next page,
	// "" on the last page. ErrInvalidCursor for a token it did not issue.
	List(ctx context.Context, org string, limit int, after string) (items []*provider.Provider, next string, err error)
	// Update replaces prev (as read, including its Version and Identifier) by next, setting
	// next.Version to prev.Version+1. ErrStale if the stored version is no longer prev.Version,
	// ErrNotFound if the provider is gone, ErrConflict if next's identifier is taken.
	Update(ctx context.Context, prev, next *provider.Provider) error
	// Delete removes a provider and frees its identifier. ErrNotFound if there is none.
	Delete(ctx context.Context, org, id string) error
}

// SecretRef names the secret of one provider.
type SecretRef struct {
	Org        string
	ProviderID string
}

// SecretInfo describes a stored secret without its value, for the repair sweep.
type SecretInfo struct {
	Ref            SecretRef
	CurrentVersion string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// SecretStore keeps the secret part of provider configurations, one secret per provider, in
// versions. Implementations never include secret values in errors.
type SecretStore interface {
	// Put stores data as version of ref's secret, creating the secret if needed, and makes it the
	// current version. Repeating a Put with the same version is a no-op (idempotent retries).
	Put(ctx context.Context, ref SecretRef, version string, data map[string]string) error
	// Get returns the data of one version. ErrNotFound if the secret or version does not exist.
	Get(ctx context.Context, ref SecretRef, version string) (map[string]string, error)
	// Delete removes ref's secret. Deleting an absent secret is not an error.
	Delete(ctx context.Context, ref SecretRef) error
	// List calls fn for every stored secret, stopping at fn's first error.
	List(ctx context.Context, fn func(SecretInfo) error) error
	// SetCurrent makes an existing version the current one again (repair after a failed rotation).
	SetCurrent(ctx context.Context, ref SecretRef, version string) error
}

// Validator proves a provider's credentials and permissions. It returns a complete report whatever
// happens: unreachable clouds give checks with status error, not a Go error.
type Validator interface {
	Validate(ctx context.Context, p *provider.Provider, secret map[string]string) provider.Report
}

// Validators holds one validator per provider type; a type without one cannot be validated yet.
type Validators map[provider.Type]Validator

// StatusChange is a provider crossing between valid and not valid. It carries no secret.
type StatusChange struct {
	Organization       string          `json:"organization"`
	ProviderID         string          `json:"provider_id"`
	Identifier         string          `json:"identifier"`
	ProviderType       provider.Type   `json:"provider_type"`
	From               provider.Status `json:"from"`
	To                 provider.Status `json:"to"`
	Reason             string          `json:"reason"`
	MissingPermissions []string        `json:"missing_permissions"`
	CheckedAt          time.Time       `json:"checked_at"`
}

// ChangeNotifier publishes status changes (EventBridge in production).
type ChangeNotifier interface {
	StatusChanged(ctx context.Context, c StatusChange) error
}
