package jwtauth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Development tokens: the local server trusts a key created on first use under its data dir, and
// `make token` signs with the same key. Never used by the deployed service.
const (
	DevIssuer   = "https://dev.streamtime.local"
	DevAudience = "fleet-providers"
	devKeyFile  = "dev-signing-key.pem"
	devKeyID    = "dev"
)

// LoadOrCreateDevKey returns the development signing key in dir, creating it (mode 0600) if absent.
func LoadOrCreateDevKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, devKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateDevKey(dir) // another process created it first
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
			return nil, err
		}
		return priv, f.Sync()
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s is not a PEM key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an Ed25519 key", path)
	}
	return priv, nil
}

// DevJWKS is the key set holding the public half of a development key.
func DevJWKS(priv ed25519.PrivateKey) []byte {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: devKeyID, Algorithm: string(jose.EdDSA), Use: "sig"}}}
	b, _ := json.Marshal(set)
	return b
}

// IssueDevToken signs a development token for org with scopes, valid for ttl.
func IssueDevToken(priv ed25519.PrivateKey, org string, scopes []string, ttl time.Duration) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", devKeyID))
	if err != nil {
		return "", err
	}
	now := time.Now()
	std := jwt.Claims{
		Issuer:   DevIssuer,
		Subject:  "dev@" + org,
		Audience: jwt.Audience{DevAudience},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(ttl)),
	}
	scope := ""
	for i, s := range scopes {
		if i > 0 {
			scope += " "
		}
		scope += s
	}
	return jwt.Signed(signer).Claims(std).Claims(Claims{Org: org, Scope: scope}).Serialize()
}
