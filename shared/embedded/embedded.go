// Package embedded is the local, persistent backend: provider metadata and encrypted secrets in
// one bbolt file under a data directory. It needs no AWS, Docker or emulator, for `make run`.
package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	bucketProviders   = []byte("providers")   // org \x00 id -> provider JSON
	bucketIdentifiers = []byte("identifiers") // org \x00 identifier -> id
	bucketSecrets     = []byte("secrets")     // org \x00 id -> sealed secret record
)

// DB is an open data directory.
type DB struct {
	bolt *bolt.DB
	aead *sealer
}

// Open opens (creating if needed) the data directory dir.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: create data dir: %w", err)
	}
	key, err := loadOrCreateKey(filepath.Join(dir, "secrets.key"))
	if err != nil {
		return nil, err
	}
	s, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "fleet.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("embedded: %s is in use by another process", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: open: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketProviders, bucketIdentifiers, bucketSecrets} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: init: %w", err)
	}
	return &DB{bolt: db, aead: s}, nil
}

// Close releases the data directory.
func (d *DB) Close() error { return d.bolt.Close() }

// Providers is the metadata store.
func (d *DB) Providers() *Store { return &Store{db: d.bolt} }

// Secrets is the secret store.
func (d *DB) Secrets() *Secrets { return &Secrets{db: d.bolt, aead: d.aead} }

func key(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}
