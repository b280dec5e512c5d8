package jwtauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds of the remote key set.
const (
	jwksMaxBytes   = 1 << 20
	jwksTimeout    = 5 * time.Second
	jwksMaxAge     = time.Hour        // refetch at least this often: keys get revoked too
	jwksMinRefetch = 30 * time.Second // a token naming an unknown key refetches at most this often
)

// parseKeySet parses a JSON Web Key Set that must hold public keys only.
func parseKeySet(data []byte) (jose.JSONWebKeySet, error) {
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(data, &keys); err != nil {
		return keys, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	if len(keys.Keys) == 0 {
		return keys, errors.New("the key set has no keys")
	}
	for _, k := range keys.Keys {
		if !k.IsPublic() {
			return keys, errors.New("the key set must hold public keys only")
		}
	}
	return keys, nil
}

// checkJWKSURL allows https, and http only to a loopback host (development and tests).
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("the JWKS URL is not an absolute URL")
	}
	if u.Scheme == "https" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && (u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())) {
		return nil
	}
	return errors.New("the JWKS URL must be https")
}

// remoteKeys is the issuer's key set fetched from its jwks_uri, so a signing-key rotation at the
// identity provider needs no redeploy: a token naming a key not yet held triggers a refetch
// (rate-limited), and the set is refetched when older than jwksMaxAge.
type remoteKeys struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time // when keys were fetched
	tried   time.Time // the last attempt, successful or not
}

func newRemoteKeys(rawURL string, client *http.Client, now func() time.Time) *remoteKeys {
	if client == nil {
		client = &http.Client{}
	}
	c := *client
	c.Timeout = jwksTimeout
	// The configured URL is the only place keys come from: no redirect elsewhere.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &remoteKeys{url: rawURL, client: &c, now: now}
}

// lookup returns the key kid ("" when the token names none and the set has one key).
func (r *remoteKeys) lookup(kid string) (jose.JSONWebKey, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	stale := r.fetched.IsZero() || now.Sub(r.fetched) > jwksMaxAge
	k, found := keyIn(r.keys, kid)
	if (stale || !found) && now.Sub(r.tried) >= jwksMinRefetch {
		r.tried = now
		if keys, err := r.fetch(); err == nil {
			r.keys, r.fetched = keys, now
			k, found = keyIn(r.keys, kid)
		}
		// On failure the last good set stays in use: an identity provider outage must not
		// turn every valid token away.
	}
	return k, found
}

func (r *remoteKeys) fetch() (jose.JSONWebKeySet, error) {
	resp, err := r.client.Get(r.url)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("JWKS URL answered %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	if len(data) > jwksMaxBytes {
		return jose.JSONWebKeySet{}, errors.New("JWKS document too large")
	}
	return parseKeySet(data)
}

// keyIn finds kid in set; a token without kid matches a set of exactly one key.
func keyIn(set jose.JSONWebKeySet, kid string) (jose.JSONWebKey, bool) {
	if kid != "" {
		if ks := set.Key(kid); len(ks) > 0 {
			return ks[0], true
		}
		return jose.JSONWebKey{}, false
	}
	if len(set.Keys) == 1 {
		return set.Keys[0], true
	}
	return jose.JSONWebKey{}, false
}
