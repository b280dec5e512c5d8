package fleet

import (
	"context"
	"iter"
	"time"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// Due is a provider due for revalidation, as the scheduled dispatcher reads it.
type Due struct {
	Org string
	ID  string
	// Key is the provider's DueKey when it was read: its place in due order, and the position a
	// dispatcher run that stops early resumes after.
	Key string
}

// DueStore finds providers due for revalidation, for the scheduled dispatcher. Stores implement
// it beside Store; reads stay bounded by what the caller consumes, so no run walks the whole table.
type DueStore interface {
	// Due yields, in key order, the providers whose DueKey is greater than after ("" for the
	// start) and below DueBefore(before). A store reads ahead at most a page per shard, so a
	// caller that stops early has read little more than it took.
	Due(ctx context.Context, after string, before time.Time) iter.Seq2[Due, error]
	// DueCheckpoint returns the key the last dispatcher run stopped after, or "" if it finished.
	DueCheckpoint(ctx context.Context) (string, error)
	// SetDueCheckpoint records the key a run stopped after ("" when it finished its pass).
	SetDueCheckpoint(ctx context.Context, key string) error
}

// dueTimeFormat is fixed width, so that string order is time order.
const dueTimeFormat = "2006-01-02T15:04:05.000000000Z"

// DueKey orders providers for revalidation: first those whose current credentials were never
// checked (new, or rotated since: no report), by when that happened; then the others by their
// last check, oldest first. The id makes keys unique, so a key is an exact resume position.
// Backends store it (an index key in DynamoDB), so every write of a provider must refresh it.
func DueKey(p *provider.Provider) string {
	if p.Validation == nil || p.LastValidatedAt == nil {
		return "0#" + p.UpdatedAt.UTC().Format(dueTimeFormat) + "#" + p.ID
	}
	return "1#" + p.LastValidatedAt.UTC().Format(dueTimeFormat) + "#" + p.ID
}

// DueBefore is the bound of the due range for a cutoff: providers never checked, and those last
// checked before the cutoff, have keys below it.
func DueBefore(before time.Time) string {
	return "1#" + before.UTC().Format(dueTimeFormat)
}
