package embedded

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/fleet/secretstest"
	"github.com/streamtime/fleet-providers/shared/fleet/storetest"
	"github.com/streamtime/fleet-providers/shared/provider"
)

const secretValue = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

func TestPersistsAcrossRestartsAndEncryptsAtRest(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider.Provider{ID: "01936f4e-6a1b-7c2d-9e3f-4a5b6c7d8e9f", Organization: "acme", Identifier: "fleet-one",
		Type: provider.AWS, Config: map[string]any{"aws_access_key": "AKIAIOSFODNN7EXAMPLE"}, SecretVersion: "v1",
		Status: provider.StatusPending, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(), Version: 1}
	ref := fleet.SecretRef{Org: "acme", ProviderID: p.ID}
	if err := db.Secrets().Put(ctx, ref, "v1", map[string]string{"aws_access_secret": secretValue}); err != nil {
		t.Fatal(err)
	}
	if err := db.Providers().Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	// A second process cannot open the same data dir while it is in use.
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(dir, "fleet.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secretValue)) || bytes.Contains(raw, []byte("EXAMPLEKEY")) {
		t.Fatal("secret stored in clear text")
	}
	for _, f := range []string{"fleet.db", "secrets.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}

	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Providers().Get(ctx, "acme", p.ID)
	if err != nil || got.Identifier != "fleet-one" {
		t.Fatalf("after restart: %+v %v", got, err)
	}
	s, err := db.Secrets().Get(ctx, ref, "v1")
	if err != nil || s["aws_access_secret"] != secretValue {
		t.Fatalf("secret after restart: %v", err)
	}
}

func TestSecretsNeedTheirKey(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref := fleet.SecretRef{Org: "acme", ProviderID: "p"}
	_ = db.Secrets().Put(ctx, ref, "v1", map[string]string{"k": secretValue})
	db.Close()
	// Replace the key: the old ciphertext must not open, and the error must not leak anything.
	if err := os.WriteFile(filepath.Join(dir, "secrets.key"), bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Secrets().Get(ctx, ref, "v1")
	if err == nil || strings.Contains(err.Error(), secretValue) {
		t.Fatalf("get with the wrong key: %v", err)
	}
}

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fleet.Store { return openTemp(t).Providers() })
}

func TestSecretsConformance(t *testing.T) {
	secretstest.Run(t, func(t *testing.T) fleet.SecretStore { return openTemp(t).Secrets() })
}

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
