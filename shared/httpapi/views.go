package httpapi

import (
	"time"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// providerView is a provider as clients see it: the seed's fields, secrets masked, plus status.
type providerView struct {
	ID                  string           `json:"id"`
	Organization        string           `json:"organization"`
	Identifier          string           `json:"identifier"`
	ProviderType        provider.Type    `json:"provider_type"`
	Configuration       map[string]any   `json:"configuration"`
	Status              provider.Status  `json:"status"`
	Validation          *provider.Report `json:"validation"`
	CreatedAt           time.Time        `json:"created_at"`
	UpdatedAt           time.Time        `json:"updated_at"`
	LastValidatedAt     *time.Time       `json:"last_validated_at,omitempty"`
	LastValidAt         *time.Time       `json:"last_valid_at,omitempty"`
	ConsecutiveFailures int              `json:"consecutive_failures"`
}

func viewOf(p *provider.Provider) providerView {
	return providerView{
		ID:                  p.ID,
		Organization:        p.Organization,
		Identifier:          p.Identifier,
		ProviderType:        p.Type,
		Configuration:       p.Masked(),
		Status:              p.Status,
		Validation:          p.Validation,
		CreatedAt:           p.CreatedAt.UTC(),
		UpdatedAt:           p.UpdatedAt.UTC(),
		LastValidatedAt:     utcPtr(p.LastValidatedAt),
		LastValidAt:         utcPtr(p.LastValidAt),
		ConsecutiveFailures: p.ConsecutiveFailures,
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type listView struct {
	Items      []providerView `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}
