package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/embedded"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

func newService(t *testing.T, v fleet.Validators, now func() time.Time) (*fleet.Service, *embedded.DB) {
	t.Helper()
	db, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return fleet.New(db.Providers(), db.Secrets(), v, fleet.Options{Now: now}), db
}

var awsConfig = json.RawMessage(`{"aws_access_key":"AKIAIOSFODNN7EXAMPLE","aws_access_secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`)

func TestApplyReportErrorThreshold(t *testing.T) {
	p := &provider.Provider{Status: provider.StatusValid}
	at := time.Now()
	errRep := provider.Report{Status: provider.StatusError, CheckedAt: at}
	fleet.ApplyReport(p, errRep, 3)
	fleet.ApplyReport(p, errRep, 3)
	if p.Status != provider.StatusValid || p.ConsecutiveFailures != 2 {
		t.Fatalf("after 2 errors: %s/%d, want still valid", p.Status, p.ConsecutiveFailures)
	}
	fleet.ApplyReport(p, errRep, 3)
	if p.Status != provider.StatusError {
		t.Fatalf("after 3 errors: %s, want error", p.Status)
	}
	fleet.ApplyReport(p, provider.Report{Status: provider.StatusValid, CheckedAt: at}, 3)
	if p.Status != provider.StatusValid || p.ConsecutiveFailures != 0 || p.LastValidAt == nil {
		t.Fatalf("after valid: %+v", p)
	}
	// A definite refusal is never softened.
	fleet.ApplyReport(p, provider.Report{Status: provider.StatusInvalid, CheckedAt: at}, 3)
	if p.Status != provider.StatusInvalid {
		t.Fatalf("invalid report gave %s", p.Status)
	}
	// A provider that was never valid shows the error at once.
	q := &provider.Provider{Status: provider.StatusPending}
	fleet.ApplyReport(q, errRep, 3)
	if q.Status != provider.StatusError {
		t.Fatalf("pending + error = %s", q.Status)
	}
}

func TestStoreReportKeepsNewerAndDropsReportsForReplacedCredentials(t *testing.T) {
	ctx := context.Background()
	svc, db := newService(t, nil, nil)
	p, err := svc.Create(ctx, fleet.CreateInput{Org: "acme", Identifier: "fleet-one", Type: provider.AWS, Config: awsConfig})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	older := provider.Report{Status: provider.StatusInvalid, CheckedAt: t0}
	newer := provider.Report{Status: provider.StatusValid, CheckedAt: t0.Add(time.Second)}

	// Both read the same version; the newer report lands first, then the older one retries on ErrStale.
	if _, err := svc.StoreReport(ctx, p, newer); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StoreReport(ctx, p, older); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Providers().Get(ctx, "acme", p.ID)
	if got.Status != provider.StatusValid || !got.Validation.CheckedAt.Equal(newer.CheckedAt) {
		t.Fatalf("older report overwrote newer: %s at %v", got.Status, got.Validation.CheckedAt)
	}

	// Credentials rotated while a validation ran: its report is not stored.
	if _, err := svc.Update(ctx, "acme", p.ID, fleet.UpdateInput{Config: awsConfig}); err != nil {
		t.Fatal(err)
	}
	late := provider.Report{Status: provider.StatusValid, CheckedAt: t0.Add(time.Hour)}
	if _, err := svc.StoreReport(ctx, got, late); !errors.Is(err, fleet.ErrCredentialsChanged) {
		t.Fatalf("report for replaced credentials: %v", err)
	}
	now, _ := db.Providers().Get(ctx, "acme", p.ID)
	if now.Status != provider.StatusPending || now.Validation != nil {
		t.Fatalf("rotated provider got an old report: %+v", now)
	}
}

func TestRepairOnEmbedded(t *testing.T) {
	ctx := context.Background()
	clock := time.Now().UTC()
	svc, db := newService(t, nil, func() time.Time { return clock })
	p, err := svc.Create(ctx, fleet.CreateInput{Org: "acme", Identifier: "fleet-one", Type: provider.AWS, Config: awsConfig})
	if err != nil {
		t.Fatal(err)
	}
	// An orphan: a create that died after its secret.
	orphan := fleet.SecretRef{Org: "acme", ProviderID: "01936f4e-0000-7000-8000-000000000001"}
	if err := db.Secrets().Put(ctx, orphan, "v", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	// A rotation that died after writing the new version.
	if err := db.Secrets().Put(ctx, fleet.SecretRef{Org: "acme", ProviderID: p.ID}, "unused-version", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	// Within the grace period nothing is touched: it could be work in flight.
	st, err := svc.Repair(ctx, time.Hour)
	if err != nil || st.OrphansDeleted != 0 || st.VersionsRestored != 0 {
		t.Fatalf("repair inside grace: %+v %v", st, err)
	}
	clock = clock.Add(2 * time.Hour)
	st, err = svc.Repair(ctx, time.Hour)
	if err != nil || st.OrphansDeleted != 1 || st.VersionsRestored != 1 {
		t.Fatalf("repair: %+v %v", st, err)
	}
	if _, err := db.Secrets().Get(ctx, orphan, "v"); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("orphan survived: %v", err)
	}
	var current string
	_ = db.Secrets().List(ctx, func(i fleet.SecretInfo) error { current = i.CurrentVersion; return nil })
	if current != p.SecretVersion {
		t.Fatalf("current version %q, want the item's %q", current, p.SecretVersion)
	}
}

type recordingNotifier struct{ changes []fleet.StatusChange }

func (r *recordingNotifier) StatusChanged(_ context.Context, c fleet.StatusChange) error {
	r.changes = append(r.changes, c)
	return nil
}

func TestStatusChangesAreNotifiedBetweenValidAndNotValid(t *testing.T) {
	ctx := context.Background()
	db, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := &recordingNotifier{}
	svc := fleet.New(db.Providers(), db.Secrets(), nil, fleet.Options{Notifier: n, ErrorThreshold: 2})
	p, err := svc.Create(ctx, fleet.CreateInput{Org: "acme", Identifier: "fleet-one", Type: provider.AWS, Config: awsConfig})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	store := func(r provider.Report) {
		t.Helper()
		at = at.Add(time.Second)
		r.CheckedAt = at
		cur, _ := db.Providers().Get(ctx, "acme", p.ID)
		if _, err := svc.StoreReport(ctx, cur, r); err != nil {
			t.Fatal(err)
		}
	}
	valid := provider.Report{Status: provider.StatusValid, Checks: []provider.Check{{Name: "authentication", Status: provider.CheckPassed}}}
	missing := provider.Report{Status: provider.StatusInvalid, MissingPermissions: []string{"eks:CreateCluster"},
		Checks: []provider.Check{{Name: "permission:eks:CreateCluster", Status: provider.CheckFailed, Message: "implicitDeny", Permission: "eks:CreateCluster"}}}
	unreachable := provider.Report{Status: provider.StatusError, Checks: []provider.Check{{Name: "authentication", Status: provider.CheckError, Message: "no answer"}}}

	store(valid)       // pending -> valid: change
	store(valid)       // valid -> valid: none
	store(unreachable) // still valid (1 of 2 errors): none
	store(unreachable) // valid -> error: change
	store(missing)     // error -> invalid: both not valid, none
	store(valid)       // invalid -> valid: change
	store(missing)     // valid -> invalid: change

	want := [][2]provider.Status{
		{provider.StatusPending, provider.StatusValid},
		{provider.StatusValid, provider.StatusError},
		{provider.StatusInvalid, provider.StatusValid},
		{provider.StatusValid, provider.StatusInvalid},
	}
	if len(n.changes) != len(want) {
		t.Fatalf("%d changes, want %d: %+v", len(n.changes), len(want), n.changes)
	}
	for i, w := range want {
		if c := n.changes[i]; c.From != w[0] || c.To != w[1] || c.ProviderID != p.ID || c.Organization != "acme" || c.ProviderType != provider.AWS {
			t.Errorf("change %d = %+v, want %s -> %s", i, c, w[0], w[1])
		}
	}
	last := n.changes[3]
	if len(last.MissingPermissions) != 1 || last.MissingPermissions[0] != "eks:CreateCluster" || last.Reason != "permission:eks:CreateCluster: implicitDeny" {
		t.Errorf("last change lacks its reason: %+v", last)
	}
}
