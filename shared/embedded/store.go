package embedded

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Store keeps provider metadata; each write is one bbolt transaction, so the identifier index and
// the provider never disagree.
type Store struct{ db *bolt.DB }

var _ fleet.Store = (*Store)(nil)

func (s *Store) Create(_ context.Context, p *provider.Provider) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		ids := tx.Bucket(bucketIdentifiers)
		ik := key(p.Organization, p.Identifier)
		if ids.Get(ik) != nil {
			return provider.ErrConflict
		}
		c := p.Clone()
		c.Version = 1
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if err := ids.Put(ik, []byte(p.ID)); err != nil {
			return err
		}
		p.Version = 1
		return tx.Bucket(bucketProviders).Put(key(p.Organization, p.ID), data)
	})
}

func (s *Store) Get(_ context.Context, org, id string) (*provider.Provider, error) {
	var p *provider.Provider
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		p, err = load(tx, org, id)
		return err
	})
	return p, err
}

func load(tx *bolt.Tx, org, id string) (*provider.Provider, error) {
	data := tx.Bucket(bucketProviders).Get(key(org, id))
	if data == nil {
		return nil, provider.ErrNotFound
	}
	var p provider.Provider
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *Store) List(_ context.Context, org string, limit int, after string) ([]*provider.Provider, string, error) {
	if after != "" {
		if _, err := uuid.Parse(after); err != nil {
			return nil, "", provider.ErrInvalidCursor
		}
	}
	var items []*provider.Provider
	next := ""
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := key(org, "")
		c := tx.Bucket(bucketProviders).Cursor()
		k, v := c.Seek(prefix)
		if after != "" {
			k, v = c.Seek(key(org, after))
			if k != nil && bytes.Equal(k, key(org, after)) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(items) == limit {
				next = items[len(items)-1].ID
				return nil
			}
			var p provider.Provider
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			items = append(items, &p)
		}
		return nil
	})
	return items, next, err
}

func (s *Store) Update(_ context.Context, prev, next *provider.Provider) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		cur, err := load(tx, prev.Organization, prev.ID)
		if err != nil {
			return err
		}
		if cur.Version != prev.Version {
			return provider.ErrStale
		}
		ids := tx.Bucket(bucketIdentifiers)
		if next.Identifier != cur.Identifier {
			nk := key(next.Organization, next.Identifier)
			if ids.Get(nk) != nil {
				return provider.ErrConflict
			}
			if err := ids.Delete(key(cur.Organization, cur.Identifier)); err != nil {
				return err
			}
			if err := ids.Put(nk, []byte(next.ID)); err != nil {
				return err
			}
		}
		c := next.Clone()
		c.Version = prev.Version + 1
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketProviders).Put(key(next.Organization, next.ID), data); err != nil {
			return err
		}
		next.Version = c.Version
		return nil
	})
}

func (s *Store) Delete(_ context.Context, org, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		cur, err := load(tx, org, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketIdentifiers).Delete(key(org, cur.Identifier)); err != nil {
			return err
		}
		return tx.Bucket(bucketProviders).Delete(key(org, id))
	})
}
