package dynamostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/dynamostore"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/revalidate/duetest"
)

func TestDueConformance(t *testing.T) {
	duetest.Run(t, func(t *testing.T) duetest.Stores {
		client, table := newTable(t)
		s := dynamostore.New(client, table)
		return duetest.Stores{Store: s, Due: s}
	})
}

// seed loads n never-validated providers spread over orgs.
func seed(t *testing.T, s *dynamostore.Store, n int, at time.Time) {
	t.Helper()
	ps := make([]*provider.Provider, n)
	for i := range ps {
		ts := at.Add(time.Duration(i) * time.Millisecond)
		ps[i] = &provider.Provider{
			ID: uuid.Must(uuid.NewV7()).String(), Organization: fmt.Sprintf("org-%d", i%50), Identifier: fmt.Sprintf("p-%05d", i),
			Type: provider.AWS, Config: map[string]any{"region": "eu-west-1"}, SecretVersion: uuid.NewString(),
			Status: provider.StatusPending, CreatedAt: ts, UpdatedAt: ts, Version: 1,
		}
	}
	if err := s.Load(context.Background(), ps); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

// A caller that takes a few due providers reads one small page per shard, not the table.
func TestDueReadsAreBounded(t *testing.T) {
	client, table := newTable(t)
	s := dynamostore.New(client, table)
	const n, take = 3000, 100
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seed(t, s, n, t0)

	got, last := 0, ""
	for d, err := range s.Due(context.Background(), "", t0) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Key <= last {
			t.Fatalf("out of order: %q after %q", d.Key, last)
		}
		last = d.Key
		if got++; got == take {
			break
		}
	}
	r := s.DueReads()
	t.Logf("took %d of %d: %d pages, %d entries, %.1f read units", take, n, r.Pages, r.Items, r.CapacityUnits)
	if r.Pages != dynamostore.DueShards || r.Items > dynamostore.DueShards*64 {
		t.Fatalf("reads for %d of %d due: %+v, want one first page per shard", take, n, r)
	}

	// The whole range, merged from every shard, is in order and complete.
	all, last := 0, ""
	for d, err := range s.Due(context.Background(), "", t0) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Key <= last {
			t.Fatalf("out of order: %q after %q", d.Key, last)
		}
		last = d.Key
		all++
	}
	if all != n {
		t.Fatalf("listed %d of %d", all, n)
	}
}

func TestLoadedProvidersReadBack(t *testing.T) {
	client, table := newTable(t)
	s := dynamostore.New(client, table)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seed(t, s, 30, t0)
	items, _, err := s.List(context.Background(), "org-7", 100, "")
	if err != nil || len(items) == 0 {
		t.Fatalf("List after Load: %d items, %v", len(items), err)
	}
	p := items[0]
	// The identifier is reserved too: Create refuses it.
	q := &provider.Provider{ID: uuid.NewString(), Organization: p.Organization, Identifier: p.Identifier, Type: provider.AWS}
	if err := s.Create(context.Background(), q); err == nil {
		t.Fatal("Create reused a loaded provider's identifier")
	}
}
