package jwtauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// jwksServer serves a key set that the test can change, counting fetches.
type jwksServer struct {
	mu    sync.Mutex
	keys  []jose.JSONWebKey
	down  bool
	hits  atomic.Int32
	srv   *httptest.Server
	clock time.Time
}

func newJWKSServer(t *testing.T) *jwksServer {
	s := &jwksServer{clock: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys})
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) set(keys ...jose.JSONWebKey) { s.mu.Lock(); s.keys = keys; s.mu.Unlock() }
func (s *jwksServer) setDown(d bool)              { s.mu.Lock(); s.down = d; s.mu.Unlock() }
func (s *jwksServer) now() time.Time              { s.mu.Lock(); defer s.mu.Unlock(); return s.clock }
func (s *jwksServer) advance(d time.Duration)     { s.mu.Lock(); s.clock = s.clock.Add(d); s.mu.Unlock() }

type signingKey struct {
	priv *ecdsa.PrivateKey
	kid  string
}

func newSigningKey(t *testing.T, kid string) signingKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{k, kid}
}

func (k signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: "ES256", Use: "sig"}
}

func (k signingKey) token(t *testing.T, now time.Time) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(jwt.Claims{Issuer: "https://idp.example", Audience: jwt.Audience{"fleet-providers"},
		Expiry: jwt.NewNumericDate(now.Add(time.Hour))}).Claims(Claims{Org: "acme"}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func remoteVerifier(t *testing.T, s *jwksServer) *Verifier {
	v, err := NewVerifier(VerifierConfig{Issuer: "https://idp.example", Audience: "fleet-providers", JWKSURL: s.srv.URL, Now: s.now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The identity provider rotates its signing key: the new key is picked up without a redeploy.
func TestJWKSURLPicksUpRotatedKeys(t *testing.T) {
	s := newJWKSServer(t)
	k1, k2 := newSigningKey(t, "k1"), newSigningKey(t, "k2")
	s.set(k1.public())
	v := remoteVerifier(t, s)
	if _, err := v.Verify(k1.token(t, s.now())); err != nil {
		t.Fatalf("k1: %v", err)
	}
	if _, err := v.Verify(k1.token(t, s.now())); err != nil || s.hits.Load() != 1 {
		t.Fatalf("cached key refetched: %d fetches, %v", s.hits.Load(), err)
	}
	s.set(k1.public(), k2.public()) // the provider publishes k2 and starts signing with it
	s.advance(jwksMinRefetch)
	if _, err := v.Verify(k2.token(t, s.now())); err != nil {
		t.Fatalf("rotated key not picked up: %v", err)
	}
}

// Tokens naming keys nobody has cannot make the verifier hammer the identity provider.
func TestJWKSURLUnknownKeysRefetchAtMostOncePerInterval(t *testing.T) {
	s := newJWKSServer(t)
	k1, stranger := newSigningKey(t, "k1"), newSigningKey(t, "nobody")
	s.set(k1.public())
	v := remoteVerifier(t, s)
	for i := 0; i < 50; i++ {
		if _, err := v.Verify(stranger.token(t, s.now())); err == nil {
			t.Fatal("token of an unknown key accepted")
		}
	}
	if n := s.hits.Load(); n != 1 {
		t.Fatalf("%d fetches for 50 unknown-key tokens within the interval, want 1", n)
	}
	s.advance(jwksMinRefetch)
	_, _ = v.Verify(stranger.token(t, s.now()))
	if n := s.hits.Load(); n != 2 {
		t.Fatalf("%d fetches after the interval, want 2", n)
	}
}

// An identity provider outage keeps the last good keys; an old set is refetched, so a key the
// provider withdrew stops working.
func TestJWKSURLOutageAndRevocation(t *testing.T) {
	s := newJWKSServer(t)
	k1, k2 := newSigningKey(t, "k1"), newSigningKey(t, "k2")
	s.set(k1.public())
	v := remoteVerifier(t, s)
	if _, err := v.Verify(k1.token(t, s.now())); err != nil {
		t.Fatal(err)
	}
	s.setDown(true)
	s.advance(jwksMaxAge + time.Minute)
	if _, err := v.Verify(k1.token(t, s.now())); err != nil {
		t.Fatalf("outage turned a valid token away: %v", err)
	}
	s.setDown(false)
	s.set(k2.public()) // k1 withdrawn
	s.advance(jwksMinRefetch)
	if _, err := v.Verify(k1.token(t, s.now())); err == nil {
		t.Fatal("a withdrawn key still verifies after the set was refetched")
	}
	if _, err := v.Verify(k2.token(t, s.now())); err != nil {
		t.Fatalf("k2: %v", err)
	}
}

func TestJWKSURLRulesAndRedirects(t *testing.T) {
	for _, bad := range []string{"http://idp.example/jwks", "ftp://idp.example/jwks", "/jwks", "https://"} {
		if _, err := NewVerifier(VerifierConfig{Issuer: "i", Audience: "a", JWKSURL: bad}); err == nil {
			t.Errorf("JWKS URL %q accepted", bad)
		}
	}
	if _, err := NewVerifier(VerifierConfig{Issuer: "i", Audience: "a", JWKSURL: "https://idp.example/.well-known/jwks.json"}); err != nil {
		t.Errorf("https URL refused: %v", err)
	}
	// A redirect is never followed: keys come from the configured URL only.
	k1 := newSigningKey(t, "k1")
	elsewhere := newJWKSServer(t)
	elsewhere.set(k1.public())
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.srv.URL, http.StatusFound))
	defer redirect.Close()
	v, err := NewVerifier(VerifierConfig{Issuer: "https://idp.example", Audience: "fleet-providers", JWKSURL: redirect.URL, Now: elsewhere.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(k1.token(t, elsewhere.now())); err == nil || elsewhere.hits.Load() != 0 {
		t.Fatalf("redirect followed: %v, %d fetches elsewhere", err, elsewhere.hits.Load())
	}
}
