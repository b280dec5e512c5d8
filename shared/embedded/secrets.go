package embedded

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// keepVersions bounds how many versions of a secret are kept: the current one plus enough
// earlier ones for Repair to restore the version an item points at after a failed rotation.
const keepVersions = 3

// Secrets keeps secret versions sealed with AES-256-GCM; the key lives beside the database,
// created on first run with mode 0600.
type Secrets struct {
	db   *bolt.DB
	aead *sealer
}

var _ fleet.SecretStore = (*Secrets)(nil)

type secretRecord struct {
	Current   string            `json:"current"`
	Order     []string          `json:"order"` // oldest first
	Versions  map[string][]byte `json:"versions"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

func (s *Secrets) Put(_ context.Context, ref fleet.SecretRef, version string, data map[string]string) error {
	plain, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSecrets)
		k := key(ref.Org, ref.ProviderID)
		rec, err := readRecord(b, k)
		now := time.Now().UTC()
		switch {
		case errors.Is(err, provider.ErrNotFound):
			rec = &secretRecord{Versions: map[string][]byte{}, CreatedAt: now}
		case err != nil:
			return err
		}
		if _, exists := rec.Versions[version]; exists {
			return nil // a retried Put of the same version
		}
		rec.Versions[version] = s.aead.seal(plain, aad(ref, version))
		rec.Order = append(rec.Order, version)
		rec.Current = version
		rec.UpdatedAt = now
		for len(rec.Order) > keepVersions {
			delete(rec.Versions, rec.Order[0])
			rec.Order = rec.Order[1:]
		}
		return writeRecord(b, k, rec)
	})
}

func (s *Secrets) Get(_ context.Context, ref fleet.SecretRef, version string) (map[string]string, error) {
	var out map[string]string
	err := s.db.View(func(tx *bolt.Tx) error {
		rec, err := readRecord(tx.Bucket(bucketSecrets), key(ref.Org, ref.ProviderID))
		if err != nil {
			return err
		}
		sealed, ok := rec.Versions[version]
		if !ok {
			return provider.ErrNotFound
		}
		plain, err := s.aead.open(sealed, aad(ref, version))
		if err != nil {
			return errors.New("embedded: secret cannot be decrypted with this data dir's key")
		}
		return json.Unmarshal(plain, &out)
	})
	return out, err
}

func (s *Secrets) Delete(_ context.Context, ref fleet.SecretRef) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSecrets).Delete(key(ref.Org, ref.ProviderID))
	})
}

func (s *Secrets) List(ctx context.Context, fn func(fleet.SecretInfo) error) error {
	var infos []fleet.SecretInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSecrets).ForEach(func(k, v []byte) error {
			org, id, ok := bytes.Cut(k, []byte{0})
			if !ok {
				return nil
			}
			var rec secretRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			infos = append(infos, fleet.SecretInfo{
				Ref:            fleet.SecretRef{Org: string(org), ProviderID: string(id)},
				CurrentVersion: rec.Current, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
			})
			return nil
		})
	})
	if err != nil {
		return err
	}
	// fn runs outside the read transaction: it may write (Repair deletes and restores).
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

func (s *Secrets) SetCurrent(_ context.Context, ref fleet.SecretRef, version string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSecrets)
		k := key(ref.Org, ref.ProviderID)
		rec, err := readRecord(b, k)
		if err != nil {
			return err
		}
		if _, ok := rec.Versions[version]; !ok {
			return provider.ErrNotFound
		}
		rec.Current = version
		rec.UpdatedAt = time.Now().UTC()
		return writeRecord(b, k, rec)
	})
}

func readRecord(b *bolt.Bucket, k []byte) (*secretRecord, error) {
	v := b.Get(k)
	if v == nil {
		return nil, provider.ErrNotFound
	}
	var rec secretRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

func writeRecord(b *bolt.Bucket, k []byte, rec *secretRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

// aad binds a ciphertext to its secret and version, so sealed values cannot be swapped around.
func aad(ref fleet.SecretRef, version string) []byte { return key(ref.Org, ref.ProviderID, version) }

type sealer struct{ gcm cipher.AEAD }

func newSealer(k []byte) (*sealer, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{gcm: gcm}, nil
}

func (s *sealer) seal(plain, ad []byte) []byte {
	nonce := make([]byte, s.gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return s.gcm.Seal(nonce, nonce, plain, ad)
}

func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	n := s.gcm.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("short ciphertext")
	}
	return s.gcm.Open(nil, sealed[:n], sealed[n:], ad)
}

// loadOrCreateKey reads the 32-byte data key at path, creating it (0600) on first run.
func loadOrCreateKey(path string) ([]byte, error) {
	k, err := os.ReadFile(path)
	if err == nil {
		if len(k) != 32 {
			return nil, fmt.Errorf("embedded: %s must hold a 32-byte key", path)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("embedded: read key: %w", err)
	}
	k = make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: create key: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(k); err != nil {
		return nil, err
	}
	return k, f.Sync()
}
