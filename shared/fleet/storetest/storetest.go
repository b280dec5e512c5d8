// Package storetest is the conformance suite every fleet.Store must pass. A backend's test calls
// Run with a constructor for an empty store:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, func(t *testing.T) fleet.Store { ... }) }
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Run runs the suite. newStore returns an empty store for one subtest (and cleans it up with t).
func Run(t *testing.T, newStore func(t *testing.T) fleet.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s fleet.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"GetOtherOrg", testGetOtherOrg},
		{"DuplicateIdentifier", testDuplicateIdentifier},
		{"ConcurrentCreates", testConcurrentCreates},
		{"UpdateVersions", testUpdateVersions},
		{"UpdateStale", testUpdateStale},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"UpdateMissing", testUpdateMissing},
		{"Rename", testRename},
		{"RenameConflict", testRenameConflict},
		{"Delete", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"ListPages", testListPages},
		{"ListExactPages", testListExactPages},
		{"ListEmpty", testListEmpty},
		{"ListOrgIsolation", testListOrgIsolation},
		{"ReturnsCopies", testReturnsCopies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var ctx = context.Background()

// base is a fixed instant with nanoseconds, so stores must keep full precision.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// newProvider returns a provider as fleet.Service.Create builds one.
func newProvider(org, identifier string) *provider.Provider {
	return &provider.Provider{
		ID:           uuid.Must(uuid.NewV7()).String(),
		Organization: org,
		Identifier:   identifier,
		Type:         provider.GCP,
		Config: map[string]any{
			"project_id": "proj-1",
			"service_account_key": map[string]any{
				"type":         "service_account",
				"client_email": "sa@proj-1.iam.gserviceaccount.com",
				"private_key":  provider.Mask,
				"nested":       map[string]any{"n": 3.5, "ok": true, "none": nil, "list": []any{"a", 1.0}},
			},
			"empty": "",
		},
		SecretFields:  []string{"private_key"},
		SecretVersion: uuid.Must(uuid.NewV7()).String(),
		Status:        provider.StatusPending,
		CreatedAt:     base,
		UpdatedAt:     base,
		Version:       1,
	}
}

func report(at time.Time) *provider.Report {
	return &provider.Report{
		Status:     provider.StatusInvalid,
		CheckedAt:  at,
		DurationMS: 1234,
		Identity:   map[string]string{"account": "123456789012"},
		Checks: []provider.Check{
			{Name: "authenticate", Status: provider.CheckPassed},
			{Name: "eks:CreateCluster", Status: provider.CheckFailed, Message: "denied", Permission: "eks:CreateCluster"},
		},
		MissingPermissions: []string{"eks:CreateCluster"},
		Remediation:        `{"Version":"2012-10-17"}`,
		Warnings:           []string{"w1"},
	}
}

func mustCreate(t *testing.T, s fleet.Store, p *provider.Provider) {
	t.Helper()
	if err := s.Create(ctx, p); err != nil {
		t.Fatalf("Create(%s/%s): %v", p.Organization, p.Identifier, err)
	}
}

func mustGet(t *testing.T, s fleet.Store, org, id string) *provider.Provider {
	t.Helper()
	p, err := s.Get(ctx, org, id)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", org, id, err)
	}
	return p
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// assertEqual compares two providers field by field; times must be equal instants in UTC.
func assertEqual(t *testing.T, what string, got, want *provider.Provider) {
	t.Helper()
	checkTime := func(field string, g, w time.Time) {
		t.Helper()
		if !g.Equal(w) {
			t.Errorf("%s: %s = %v, want %v", what, field, g, w)
		}
		if g.Location() != time.UTC {
			t.Errorf("%s: %s is in %v, want UTC", what, field, g.Location())
		}
	}
	checkOptTime := func(field string, g, w *time.Time) {
		t.Helper()
		if (g == nil) != (w == nil) {
			t.Errorf("%s: %s = %v, want %v", what, field, g, w)
		} else if g != nil {
			checkTime(field, *g, *w)
		}
	}
	checkTime("CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	checkOptTime("LastValidatedAt", got.LastValidatedAt, want.LastValidatedAt)
	checkOptTime("LastValidAt", got.LastValidAt, want.LastValidAt)
	if (got.Validation == nil) != (want.Validation == nil) {
		t.Errorf("%s: Validation = %+v, want %+v", what, got.Validation, want.Validation)
	} else if got.Validation != nil {
		checkTime("Validation.CheckedAt", got.Validation.CheckedAt, want.Validation.CheckedAt)
		g, w := *got.Validation, *want.Validation
		g.CheckedAt, w.CheckedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: Validation = %+v, want %+v", what, g, w)
		}
	}
	g, w := *got, *want
	g.CreatedAt, g.UpdatedAt, g.LastValidatedAt, g.LastValidAt, g.Validation = time.Time{}, time.Time{}, nil, nil, nil
	w.CreatedAt, w.UpdatedAt, w.LastValidatedAt, w.LastValidAt, w.Validation = time.Time{}, time.Time{}, nil, nil, nil
	// No secret fields may come back as nil or empty (provider.Clone makes nil of empty);
	// the API omits the field either way.
	if len(g.SecretFields) == 0 && len(w.SecretFields) == 0 {
		g.SecretFields, w.SecretFields = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

func testRoundTrip(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "first")
	mustCreate(t, s, p)
	if p.Version != 1 {
		t.Fatalf("Version after Create = %d, want 1", p.Version)
	}
	assertEqual(t, "after Create", mustGet(t, s, "org-a", p.ID), p)

	// Every field a validation writes, including history.
	next := p.Clone()
	validated, valid := base.Add(time.Hour), base.Add(30*time.Minute)
	next.Validation = report(validated)
	next.Status = provider.StatusInvalid
	next.LastValidatedAt, next.LastValidAt = &validated, &valid
	next.ConsecutiveFailures = 2
	next.UpdatedAt = validated
	if err := s.Update(ctx, p, next); err != nil {
		t.Fatalf("Update: %v", err)
	}
	assertEqual(t, "after Update", mustGet(t, s, "org-a", p.ID), next)

	// A provider with no secret fields and empty lists.
	q := newProvider("org-a", "second")
	q.SecretFields, q.SecretVersion = []string{}, ""
	q.Config = map[string]any{"role_arn": "arn:aws:iam::123456789012:role/x", "external_id": "e"}
	q.Type = provider.AWS
	rep := report(base)
	rep.MissingPermissions, rep.Warnings = []string{}, nil
	q.Validation = rep
	mustCreate(t, s, q)
	assertEqual(t, "second after Create", mustGet(t, s, "org-a", q.ID), q)
}

func testGetOtherOrg(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "mine")
	mustCreate(t, s, p)
	_, err := s.Get(ctx, "org-b", p.ID)
	wantErr(t, "Get of org-a's id as org-b", err, provider.ErrNotFound)
	_, err = s.Get(ctx, "org-a", uuid.NewString())
	wantErr(t, "Get of an unknown id", err, provider.ErrNotFound)
}

func testDuplicateIdentifier(t *testing.T, s fleet.Store) {
	mustCreate(t, s, newProvider("org-a", "dup"))
	err := s.Create(ctx, newProvider("org-a", "dup"))
	wantErr(t, "second Create with the same identifier", err, provider.ErrConflict)
	mustCreate(t, s, newProvider("org-b", "dup")) // another org may use it
	items, _, err := s.List(ctx, "org-a", 10, "")
	if err != nil || len(items) != 1 {
		t.Fatalf("List org-a after conflict = %d items, %v; want 1", len(items), err)
	}
}

func testConcurrentCreates(t *testing.T, s fleet.Store) {
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Create(ctx, newProvider("org-a", "race"))
		}()
	}
	wg.Wait()
	exactlyOne(t, errs, provider.ErrConflict, "concurrent creates")
	items, _, err := s.List(ctx, "org-a", 100, "")
	if err != nil || len(items) != 1 {
		t.Fatalf("List after concurrent creates = %d items, %v; want 1", len(items), err)
	}
}

func testUpdateVersions(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "versions")
	mustCreate(t, s, p)
	prev := mustGet(t, s, "org-a", p.ID)
	for i := int64(1); i <= 3; i++ {
		next := prev.Clone()
		next.Status = provider.StatusValid
		next.UpdatedAt = base.Add(time.Duration(i) * time.Minute)
		if err := s.Update(ctx, prev, next); err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
		if next.Version != i+1 {
			t.Fatalf("next.Version after update %d = %d, want %d", i, next.Version, i+1)
		}
		prev = mustGet(t, s, "org-a", p.ID)
		if prev.Version != i+1 {
			t.Fatalf("stored Version after update %d = %d, want %d", i, prev.Version, i+1)
		}
	}
}

func testUpdateStale(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "stale")
	mustCreate(t, s, p)
	read1, read2 := mustGet(t, s, "org-a", p.ID), mustGet(t, s, "org-a", p.ID)
	n1 := read1.Clone()
	n1.Status = provider.StatusValid
	if err := s.Update(ctx, read1, n1); err != nil {
		t.Fatalf("first Update: %v", err)
	}
	n2 := read2.Clone()
	n2.Status = provider.StatusInvalid
	wantErr(t, "Update from a stale read", s.Update(ctx, read2, n2), provider.ErrStale)
	if got := mustGet(t, s, "org-a", p.ID); got.Status != provider.StatusValid || got.Version != 2 {
		t.Fatalf("after stale update: status %s version %d, want valid 2", got.Status, got.Version)
	}
}

func testConcurrentUpdates(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "contended")
	mustCreate(t, s, p)
	prev := mustGet(t, s, "org-a", p.ID)
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := prev.Clone()
			next.ConsecutiveFailures = i + 1
			errs[i] = s.Update(ctx, prev.Clone(), next)
		}()
	}
	wg.Wait()
	exactlyOne(t, errs, provider.ErrStale, "updates from the same read")
	if got := mustGet(t, s, "org-a", p.ID); got.Version != 2 {
		t.Fatalf("Version after contended updates = %d, want 2", got.Version)
	}
}

func testUpdateMissing(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "gone")
	mustCreate(t, s, p)
	prev := mustGet(t, s, "org-a", p.ID)
	if err := s.Delete(ctx, "org-a", p.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	next := prev.Clone()
	next.Status = provider.StatusValid
	wantErr(t, "Update of a deleted provider", s.Update(ctx, prev, next), provider.ErrNotFound)
	_, err := s.Get(ctx, "org-a", p.ID)
	wantErr(t, "Get after update of deleted provider", err, provider.ErrNotFound)
}

func testRename(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "old-name")
	mustCreate(t, s, p)
	prev := mustGet(t, s, "org-a", p.ID)
	next := prev.Clone()
	next.Identifier = "new-name"
	if err := s.Update(ctx, prev, next); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if got := mustGet(t, s, "org-a", p.ID); got.Identifier != "new-name" || got.Version != 2 {
		t.Fatalf("after rename: identifier %q version %d", got.Identifier, got.Version)
	}
	// The new name is taken, the old one is free.
	wantErr(t, "Create with the new name", s.Create(ctx, newProvider("org-a", "new-name")), provider.ErrConflict)
	mustCreate(t, s, newProvider("org-a", "old-name"))
}

func testRenameConflict(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "alpha")
	other := newProvider("org-a", "beta")
	mustCreate(t, s, p)
	mustCreate(t, s, other)
	prev := mustGet(t, s, "org-a", p.ID)
	next := prev.Clone()
	next.Identifier = "beta"
	next.Status = provider.StatusValid
	wantErr(t, "rename onto a taken identifier", s.Update(ctx, prev, next), provider.ErrConflict)

	// Nothing changed: both keep their names and versions, both names stay taken.
	assertEqual(t, "renamed provider after conflict", mustGet(t, s, "org-a", p.ID), prev)
	if got := mustGet(t, s, "org-a", other.ID); got.Identifier != "beta" || got.Version != 1 {
		t.Fatalf("other provider after conflict: identifier %q version %d", got.Identifier, got.Version)
	}
	wantErr(t, "Create alpha after failed rename", s.Create(ctx, newProvider("org-a", "alpha")), provider.ErrConflict)
	wantErr(t, "Create beta after failed rename", s.Create(ctx, newProvider("org-a", "beta")), provider.ErrConflict)

	// The same read can still be used for a rename that does not conflict.
	next.Identifier = "gamma"
	if err := s.Update(ctx, prev, next); err != nil {
		t.Fatalf("rename to a free identifier after the conflict: %v", err)
	}
}

func testDelete(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "doomed")
	mustCreate(t, s, p)
	wantErr(t, "Delete as another org", s.Delete(ctx, "org-b", p.ID), provider.ErrNotFound)
	if err := s.Delete(ctx, "org-a", p.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx, "org-a", p.ID)
	wantErr(t, "Get after Delete", err, provider.ErrNotFound)
	mustCreate(t, s, newProvider("org-a", "doomed")) // the identifier is free again

	// A renamed provider frees its current identifier, not its first one.
	q := newProvider("org-a", "first-name")
	mustCreate(t, s, q)
	prev := mustGet(t, s, "org-a", q.ID)
	next := prev.Clone()
	next.Identifier = "second-name"
	if err := s.Update(ctx, prev, next); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if err := s.Delete(ctx, "org-a", q.ID); err != nil {
		t.Fatalf("Delete renamed: %v", err)
	}
	mustCreate(t, s, newProvider("org-a", "second-name"))
	mustCreate(t, s, newProvider("org-a", "first-name"))
}

func testDeleteMissing(t *testing.T, s fleet.Store) {
	wantErr(t, "Delete of an unknown id", s.Delete(ctx, "org-a", uuid.NewString()), provider.ErrNotFound)
	p := newProvider("org-a", "twice")
	mustCreate(t, s, p)
	if err := s.Delete(ctx, "org-a", p.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantErr(t, "second Delete", s.Delete(ctx, "org-a", p.ID), provider.ErrNotFound)
}

// createN creates n providers in org and returns their ids in id order.
func createN(t *testing.T, s fleet.Store, org string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		p := newProvider(org, fmt.Sprintf("p-%03d", i))
		// Random (v4) ids: creation order must not be what makes the list ordered.
		p.ID = uuid.NewString()
		mustCreate(t, s, p)
		ids[i] = p.ID
	}
	slices.Sort(ids)
	return ids
}

// listAll pages through org's providers and returns the ids and page sizes.
func listAll(t *testing.T, s fleet.Store, org string, limit int) (ids []string, pages []int) {
	t.Helper()
	after := ""
	for range 100 {
		items, next, err := s.List(ctx, org, limit, after)
		if err != nil {
			t.Fatalf("List(%s, %d, %q): %v", org, limit, after, err)
		}
		if len(items) > limit {
			t.Fatalf("List returned %d items for limit %d", len(items), limit)
		}
		for _, p := range items {
			if p.Organization != org {
				t.Fatalf("List(%s) returned a provider of %s", org, p.Organization)
			}
			ids = append(ids, p.ID)
		}
		pages = append(pages, len(items))
		if next == "" {
			return ids, pages
		}
		after = next
	}
	t.Fatalf("List(%s) did not end after 100 pages", org)
	return nil, nil
}

func testListPages(t *testing.T, s fleet.Store) {
	want := createN(t, s, "org-a", 7)
	createN(t, s, "org-b", 3)
	got, pages := listAll(t, s, "org-a", 3)
	if !slices.Equal(got, want) {
		t.Fatalf("ids across pages = %v, want each once in id order %v", got, want)
	}
	if !slices.Equal(pages, []int{3, 3, 1}) {
		t.Fatalf("page sizes = %v, want [3 3 1]", pages)
	}
	// Listing is repeatable: the same pages again.
	again, _ := listAll(t, s, "org-a", 3)
	if !slices.Equal(again, want) {
		t.Fatalf("second listing = %v, want %v", again, want)
	}
	// Items are whole providers.
	items, _, err := s.List(ctx, "org-a", 1, "")
	if err != nil || len(items) != 1 {
		t.Fatalf("List limit 1: %d items, %v", len(items), err)
	}
	assertEqual(t, "listed provider", items[0], mustGet(t, s, "org-a", items[0].ID))
	// A large limit returns everything at once.
	all, next, err := s.List(ctx, "org-a", 50, "")
	if err != nil || len(all) != 7 || next != "" {
		t.Fatalf("List limit 50: %d items, next %q, %v; want 7, \"\"", len(all), next, err)
	}
}

func testListExactPages(t *testing.T, s fleet.Store) {
	want := createN(t, s, "org-a", 6)
	got, pages := listAll(t, s, "org-a", 3)
	if !slices.Equal(got, want) {
		t.Fatalf("ids across pages = %v, want %v", got, want)
	}
	// The page holding the last item says so: no token leading to an empty page.
	if !slices.Equal(pages, []int{3, 3}) {
		t.Fatalf("page sizes = %v, want [3 3]", pages)
	}
}

func testListEmpty(t *testing.T, s fleet.Store) {
	items, next, err := s.List(ctx, "org-empty", 10, "")
	if err != nil || len(items) != 0 || next != "" {
		t.Fatalf("List of an empty org = %d items, next %q, %v", len(items), next, err)
	}
}

func testListOrgIsolation(t *testing.T, s fleet.Store) {
	a := createN(t, s, "org-a", 4)
	b := createN(t, s, "org-b", 4)
	_, next, err := s.List(ctx, "org-a", 2, "")
	if err != nil || next == "" {
		t.Fatalf("first page of org-a: next %q, %v", next, err)
	}
	// org-a's position used with org-b: refused, or only org-b's data.
	items, _, err := s.List(ctx, "org-b", 10, next)
	if err != nil {
		wantErr(t, "org-a's token with org-b", err, provider.ErrInvalidCursor)
		return
	}
	for _, p := range items {
		if p.Organization != "org-b" || slices.Contains(a, p.ID) {
			t.Fatalf("org-a's token with org-b returned %s/%s", p.Organization, p.ID)
		}
		if !slices.Contains(b, p.ID) {
			t.Fatalf("org-a's token with org-b returned unknown id %s", p.ID)
		}
	}
}

func testReturnsCopies(t *testing.T, s fleet.Store) {
	p := newProvider("org-a", "copies")
	p.Validation = report(base)
	mustCreate(t, s, p)
	want := mustGet(t, s, "org-a", p.ID)

	// Mutating what the caller passed in or got back must not reach the store.
	p.Config["project_id"] = "changed"
	p.Config["service_account_key"].(map[string]any)["client_email"] = "changed"
	got := mustGet(t, s, "org-a", p.ID)
	got.Identifier = "changed"
	got.Config["project_id"] = "changed"
	got.Config["service_account_key"].(map[string]any)["type"] = "changed"
	got.SecretFields[0] = "changed"
	got.Validation.Checks[0].Name = "changed"
	got.Validation.Identity["account"] = "changed"
	items, _, err := s.List(ctx, "org-a", 10, "")
	if err != nil || len(items) != 1 {
		t.Fatalf("List: %d items, %v", len(items), err)
	}
	items[0].Config["project_id"] = "changed-too"
	items[0].SecretFields[0] = "changed-too"
	assertEqual(t, "after mutating returned copies", mustGet(t, s, "org-a", p.ID), want)
}

// exactlyOne checks that one of errs is nil and every other is the loser's error want.
func exactlyOne(t *testing.T, errs []error, want error, what string) {
	t.Helper()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, want):
			t.Errorf("%s: %v, want nil or %v", what, err, want)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d %s succeeded, want exactly 1", ok, len(errs), what)
	}
}
