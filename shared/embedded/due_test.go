package embedded_test

import (
	"testing"

	"github.com/streamtime/fleet-providers/shared/embedded"
	"github.com/streamtime/fleet-providers/shared/revalidate/duetest"
)

// The embedded store lists due providers exactly as DynamoDB's index does, so `make revalidate`
// picks what the deployed dispatcher would.
func TestDueConformance(t *testing.T) {
	duetest.Run(t, func(t *testing.T) duetest.Stores {
		db, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s := db.Providers()
		return duetest.Stores{Store: s, Due: s}
	})
}

// A checkpoint survives reopening the data directory, so an interrupted local run resumes.
func TestDueCheckpointPersists(t *testing.T) {
	dir := t.TempDir()
	db, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Providers().SetDueCheckpoint(t.Context(), "0#x"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.Providers().DueCheckpoint(t.Context()); err != nil || got != "0#x" {
		t.Fatalf("checkpoint after reopen: %q, %v", got, err)
	}
}
