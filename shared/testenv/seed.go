package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// The provider every file in events/ refers to: an AWS provider of org acme.
const (
	EventProviderID     = "01936f4e-6a1b-7c2d-9e3f-4a5b6c7d8e9f"
	EventProviderSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// SeedEventProvider stores the provider the events refer to, with its secret.
func SeedEventProvider(tb testing.TB, store fleet.Store, secrets fleet.SecretStore) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	p := &provider.Provider{ID: EventProviderID, Organization: "acme", Identifier: "seeded-fleet", Type: provider.AWS,
		Config: map[string]any{"aws_access_key": "AKIAIOSFODNN7EXAMPLE"}, SecretFields: []string{"aws_access_secret"},
		SecretVersion: "01936f4e-6a1b-7c2d-9e3f-000000000001", Status: provider.StatusPending, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := secrets.Put(ctx, fleet.SecretRef{Org: "acme", ProviderID: EventProviderID}, p.SecretVersion,
		map[string]string{"aws_access_secret": EventProviderSecret}); err != nil {
		tb.Fatal(err)
	}
	if err := store.Create(ctx, p); err != nil {
		tb.Fatal(err)
	}
}
