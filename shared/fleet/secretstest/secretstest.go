// Package secretstest is the conformance suite every fleet.SecretStore must pass. A backend's
// test calls Run with a constructor for an empty store:
//
//	func TestConformance(t *testing.T) { secretstest.Run(t, func(t *testing.T) fleet.SecretStore { ... }) }
package secretstest

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Run runs the suite. newSecrets returns an empty store for one subtest (and cleans it up with t).
// Versions are UUIDs, as fleet.Service makes them (Secrets Manager wants 32 to 64 characters).
func Run(t *testing.T, newSecrets func(t *testing.T) fleet.SecretStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s fleet.SecretStore)
	}{
		{"RoundTrip", testRoundTrip},
		{"PutIdempotent", testPutIdempotent},
		{"NewVersion", testNewVersion},
		{"GetUnknown", testGetUnknown},
		{"Delete", testDelete},
		{"SetCurrent", testSetCurrent},
		{"List", testList},
		{"ListStops", testListStops},
		{"ErrorsHideValues", testErrorsHideValues},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newSecrets(t)) })
	}
}

var ctx = context.Background()

func newVersion() string { return uuid.Must(uuid.NewV7()).String() }

func newRef(org string) fleet.SecretRef {
	return fleet.SecretRef{Org: org, ProviderID: uuid.Must(uuid.NewV7()).String()}
}

func mustPut(t *testing.T, s fleet.SecretStore, ref fleet.SecretRef, version string, data map[string]string) {
	t.Helper()
	if err := s.Put(ctx, ref, version, data); err != nil {
		t.Fatalf("Put(%v, %s): %v", ref, version, err)
	}
}

func wantData(t *testing.T, s fleet.SecretStore, ref fleet.SecretRef, version string, want map[string]string) {
	t.Helper()
	got, err := s.Get(ctx, ref, version)
	if err != nil {
		t.Fatalf("Get(%v, %s): %v", ref, version, err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("Get(%v, %s) returned other data (%d keys, want %d)", ref, version, len(got), len(want))
	}
}

// infos lists the store's secrets by provider id.
func infos(t *testing.T, s fleet.SecretStore) map[string]fleet.SecretInfo {
	t.Helper()
	out := map[string]fleet.SecretInfo{}
	err := s.List(ctx, func(i fleet.SecretInfo) error {
		if _, dup := out[i.Ref.ProviderID]; dup {
			t.Errorf("List visited %v twice", i.Ref)
		}
		out[i.Ref.ProviderID] = i
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return out
}

func wantCurrent(t *testing.T, s fleet.SecretStore, ref fleet.SecretRef, version string) {
	t.Helper()
	info, ok := infos(t, s)[ref.ProviderID]
	if !ok {
		t.Fatalf("List does not show %v", ref)
	}
	if info.Ref != ref || info.CurrentVersion != version {
		t.Fatalf("List shows %v at version %s, want %v at %s", info.Ref, info.CurrentVersion, ref, version)
	}
}

func testRoundTrip(t *testing.T, s fleet.SecretStore) {
	ref, v := newRef("org-a"), newVersion()
	data := map[string]string{
		"aws_access_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"private_key":       "-----BEGIN PRIVATE KEY-----\nMIIE\"quoted\"\n-----END PRIVATE KEY-----\n",
		"unicode":           "pässwörd ✓",
		"empty":             "",
	}
	mustPut(t, s, ref, v, data)
	wantData(t, s, ref, v, data)
	wantCurrent(t, s, ref, v)
}

func testPutIdempotent(t *testing.T, s fleet.SecretStore) {
	ref, v := newRef("org-a"), newVersion()
	data := map[string]string{"client_secret": "s1"}
	mustPut(t, s, ref, v, data)
	mustPut(t, s, ref, v, data) // a retry
	wantData(t, s, ref, v, data)
	wantCurrent(t, s, ref, v)
	if n := len(infos(t, s)); n != 1 {
		t.Fatalf("List shows %d secrets after a repeated Put, want 1", n)
	}

	// A retry that arrives after a newer version does not take "current" back.
	v2 := newVersion()
	mustPut(t, s, ref, v2, map[string]string{"client_secret": "s2"})
	mustPut(t, s, ref, v, data)
	wantCurrent(t, s, ref, v2)
}

func testNewVersion(t *testing.T, s fleet.SecretStore) {
	ref := newRef("org-a")
	v1, v2 := newVersion(), newVersion()
	d1, d2 := map[string]string{"k": "one"}, map[string]string{"k": "two", "extra": "x"}
	mustPut(t, s, ref, v1, d1)
	mustPut(t, s, ref, v2, d2)
	wantCurrent(t, s, ref, v2)
	wantData(t, s, ref, v2, d2)
	wantData(t, s, ref, v1, d1) // the previous version stays readable
}

func testGetUnknown(t *testing.T, s fleet.SecretStore) {
	_, err := s.Get(ctx, newRef("org-a"), newVersion())
	if !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("Get of an unknown secret: %v, want ErrNotFound", err)
	}
	ref := newRef("org-a")
	mustPut(t, s, ref, newVersion(), map[string]string{"k": "v"})
	_, err = s.Get(ctx, ref, newVersion())
	if !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("Get of an unknown version: %v, want ErrNotFound", err)
	}
	// Another org's secret is another secret.
	_, err = s.Get(ctx, fleet.SecretRef{Org: "org-b", ProviderID: ref.ProviderID}, newVersion())
	if !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("Get as another org: %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s fleet.SecretStore) {
	ref, keep, v := newRef("org-a"), newRef("org-a"), newVersion()
	mustPut(t, s, ref, v, map[string]string{"k": "v"})
	mustPut(t, s, keep, newVersion(), map[string]string{"k": "v"})
	if err := s.Delete(ctx, ref); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, ref, v); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	list := infos(t, s)
	if _, ok := list[ref.ProviderID]; ok {
		t.Fatal("List still shows a deleted secret")
	}
	if _, ok := list[keep.ProviderID]; !ok {
		t.Fatal("Delete removed another secret")
	}
	if err := s.Delete(ctx, ref); err != nil {
		t.Fatalf("second Delete: %v, want nil", err)
	}
	if err := s.Delete(ctx, newRef("org-a")); err != nil {
		t.Fatalf("Delete of a secret that never existed: %v, want nil", err)
	}
}

func testSetCurrent(t *testing.T, s fleet.SecretStore) {
	ref := newRef("org-a")
	v1, v2 := newVersion(), newVersion()
	d1, d2 := map[string]string{"k": "one"}, map[string]string{"k": "two"}
	mustPut(t, s, ref, v1, d1)
	mustPut(t, s, ref, v2, d2)
	if err := s.SetCurrent(ctx, ref, v1); err != nil {
		t.Fatalf("SetCurrent(v1): %v", err)
	}
	wantCurrent(t, s, ref, v1)
	wantData(t, s, ref, v1, d1)
	wantData(t, s, ref, v2, d2)
	if err := s.SetCurrent(ctx, ref, v1); err != nil {
		t.Fatalf("SetCurrent of the current version: %v", err)
	}
	wantCurrent(t, s, ref, v1)
	if err := s.SetCurrent(ctx, ref, v2); err != nil {
		t.Fatalf("SetCurrent(v2): %v", err)
	}
	wantCurrent(t, s, ref, v2)

	if err := s.SetCurrent(ctx, ref, newVersion()); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("SetCurrent of an unknown version: %v, want ErrNotFound", err)
	}
	wantCurrent(t, s, ref, v2)
	if err := s.SetCurrent(ctx, newRef("org-a"), v1); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("SetCurrent of an unknown secret: %v, want ErrNotFound", err)
	}
}

func testList(t *testing.T, s fleet.SecretStore) {
	if n := len(infos(t, s)); n != 0 {
		t.Fatalf("new store lists %d secrets", n)
	}
	before := time.Now().Add(-time.Minute)
	want := map[string]string{} // provider id -> current version
	refs := map[string]fleet.SecretRef{}
	for _, org := range []string{"org-a", "org-b"} {
		for range 3 {
			ref, v := newRef(org), newVersion()
			mustPut(t, s, ref, v, map[string]string{"k": ref.ProviderID})
			want[ref.ProviderID], refs[ref.ProviderID] = v, ref
		}
	}
	after := time.Now().Add(time.Minute)
	got := infos(t, s)
	if len(got) != len(want) {
		t.Fatalf("List shows %d secrets, want %d", len(got), len(want))
	}
	for id, v := range want {
		info := got[id]
		if info.Ref != refs[id] || info.CurrentVersion != v {
			t.Errorf("List shows %v at %s, want %v at %s", info.Ref, info.CurrentVersion, refs[id], v)
		}
		for name, ts := range map[string]time.Time{"CreatedAt": info.CreatedAt, "UpdatedAt": info.UpdatedAt} {
			if ts.Before(before) || ts.After(after) {
				t.Errorf("%v: %s = %v, want about now", info.Ref, name, ts)
			}
		}
		if info.UpdatedAt.Before(info.CreatedAt) {
			t.Errorf("%v: UpdatedAt %v before CreatedAt %v", info.Ref, info.UpdatedAt, info.CreatedAt)
		}
	}
}

func testListStops(t *testing.T, s fleet.SecretStore) {
	for range 3 {
		mustPut(t, s, newRef("org-a"), newVersion(), map[string]string{"k": "v"})
	}
	stop := errors.New("stop")
	calls := 0
	err := s.List(ctx, func(fleet.SecretInfo) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("List with a failing fn: %v after %d calls, want fn's error after 1", err, calls)
	}
}

// testErrorsHideValues provokes the errors a store can give around secret data and checks that
// none of them quotes it.
func testErrorsHideValues(t *testing.T, s fleet.SecretStore) {
	const marker = "S3CR3T-MARKER-"
	secret := map[string]string{"client_secret": marker + "one"}
	other := map[string]string{"client_secret": marker + "two"}
	huge := map[string]string{"private_key": strings.Repeat(marker, 70000/len(marker)+1)}
	ref, v := newRef("org-a"), newVersion()
	mustPut(t, s, ref, v, secret)

	var errs []error
	errs = append(errs, s.Put(ctx, ref, v, other))                       // same version, other data
	errs = append(errs, s.Put(ctx, newRef("org-a"), newVersion(), huge)) // over service limits
	_, err := s.Get(ctx, ref, newVersion())
	errs = append(errs, err)
	errs = append(errs, s.SetCurrent(ctx, ref, newVersion()))
	for i, err := range errs {
		if err != nil && strings.Contains(err.Error(), marker) {
			t.Errorf("error %d quotes secret data: %.200s", i, err.Error())
		}
	}
	// Whatever the same-version Put did, the first data is still what v holds.
	wantData(t, s, ref, v, secret)
}
