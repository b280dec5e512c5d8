package embedded

import (
	"context"
	"encoding/json"
	"iter"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// bucketRevalidate holds the dispatcher's checkpoint. It is created on first write, so data
// directories from before scheduled revalidation open unchanged.
var (
	bucketRevalidate = []byte("revalidate")
	checkpointKey    = []byte("checkpoint")
)

var _ fleet.DueStore = (*Store)(nil)

// Due yields the due providers in key order. The embedded store serves one developer's
// providers, so it reads them all and sorts, rather than keeping an index in step with writes.
func (s *Store) Due(_ context.Context, after string, before time.Time) iter.Seq2[fleet.Due, error] {
	return func(yield func(fleet.Due, error) bool) {
		hi := fleet.DueBefore(before)
		var due []fleet.Due
		err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketProviders).ForEach(func(_, v []byte) error {
				var p provider.Provider
				if err := json.Unmarshal(v, &p); err != nil {
					return err
				}
				if k := fleet.DueKey(&p); k > after && k < hi {
					due = append(due, fleet.Due{Org: p.Organization, ID: p.ID, Key: k})
				}
				return nil
			})
		})
		if err != nil {
			yield(fleet.Due{}, err)
			return
		}
		slices.SortFunc(due, func(a, b fleet.Due) int { return strings.Compare(a.Key, b.Key) })
		for _, d := range due {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// DueCheckpoint returns where the last dispatcher run stopped ("" when it finished its pass).
func (s *Store) DueCheckpoint(context.Context) (string, error) {
	var after string
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRevalidate); b != nil {
			after = string(b.Get(checkpointKey))
		}
		return nil
	})
	return after, err
}

// SetDueCheckpoint records where a dispatcher run stopped.
func (s *Store) SetDueCheckpoint(_ context.Context, after string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRevalidate)
		if err != nil {
			return err
		}
		return b.Put(checkpointKey, []byte(after))
	})
}
