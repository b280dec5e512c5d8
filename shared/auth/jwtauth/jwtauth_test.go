package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"github.com/streamtime/fleet-providers/shared/auth"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

type claims struct {
	jwt.Claims
	Org   string   `json:"org,omitempty"`
	Scope string   `json:"scope,omitempty"`
	Scp   []string `json:"scp,omitempty"`
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, c claims) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifier(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: ec.Public(), KeyID: "k1", Algorithm: "ES256"}}})
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	v, err := NewVerifier(VerifierConfig{Issuer: "https://idp.example", Audience: "fleet-providers", JWKS: jwks, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	good := claims{
		Claims: jwt.Claims{Issuer: "https://idp.example", Audience: jwt.Audience{"fleet-providers"}, Subject: "alice",
			Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now)},
		Org: "acme", Scope: auth.ScopeRead + " " + auth.ScopeWrite,
	}
	p, err := v.Verify(sign(t, jose.ES256, ec, "k1", good))
	if err != nil || p.Org != "acme" || !p.Has(auth.ScopeWrite) || p.Subject != "alice" {
		t.Fatalf("good token: %+v %v", p, err)
	}
	scp := good
	scp.Scope, scp.Scp = "", []string{auth.ScopeRead}
	if p, err := v.Verify(sign(t, jose.ES256, ec, "k1", scp)); err != nil || !p.Has(auth.ScopeRead) || p.Has(auth.ScopeWrite) {
		t.Fatalf("scp array: %+v %v", p, err)
	}

	mutate := map[string]func(c *claims){
		"wrong issuer":   func(c *claims) { c.Issuer = "https://evil.example" },
		"wrong audience": func(c *claims) { c.Audience = jwt.Audience{"other"} },
		"expired":        func(c *claims) { c.Expiry = jwt.NewNumericDate(now.Add(-time.Hour)) },
		"no expiry":      func(c *claims) { c.Expiry = nil },
		"not yet valid":  func(c *claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) },
		"no org":         func(c *claims) { c.Org = "" },
	}
	for name, m := range mutate {
		c := good
		m(&c)
		if _, err := v.Verify(sign(t, jose.ES256, ec, "k1", c)); err != auth.ErrUnauthenticated {
			t.Errorf("%s: %v, want auth.ErrUnauthenticated", name, err)
		}
	}
	if _, err := v.Verify(sign(t, jose.EdDSA, other, "k1", good)); err != auth.ErrUnauthenticated {
		t.Errorf("foreign key accepted")
	}
	if _, err := v.Verify(sign(t, jose.ES256, ec, "unknown-kid", good)); err != auth.ErrUnauthenticated {
		t.Errorf("unknown kid accepted")
	}
	if _, err := v.Verify(sign(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "k1", good)); err != auth.ErrUnauthenticated {
		t.Errorf("HMAC token accepted")
	}
	// alg "none": header {"alg":"none"} with the good claims and no signature.
	payload, _ := json.Marshal(good)
	none := b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(string(payload)) + "."
	if _, err := v.Verify(none); err != auth.ErrUnauthenticated {
		t.Errorf("alg none accepted")
	}

	r := httptest.NewRequest("GET", "/", nil)
	if _, err := v.Authenticate(r); err != auth.ErrUnauthenticated {
		t.Errorf("no header accepted")
	}
	r.Header.Set("Authorization", "Basic Zm9vOmJhcg==")
	if _, err := v.Authenticate(r); err != auth.ErrUnauthenticated {
		t.Errorf("basic auth accepted")
	}
	r.Header.Set("Authorization", "bearer "+sign(t, jose.ES256, ec, "k1", good))
	if _, err := v.Authenticate(r); err != nil {
		t.Errorf("lowercase bearer scheme refused: %v", err)
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	private, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv, KeyID: "x"}}})
	for name, cfg := range map[string]VerifierConfig{
		"no issuer":   {Audience: "a", JWKS: DevJWKS(priv)},
		"no audience": {Issuer: "i", JWKS: DevJWKS(priv)},
		"bad jwks":    {Issuer: "i", Audience: "a", JWKS: []byte("{")},
		"empty jwks":  {Issuer: "i", Audience: "a", JWKS: []byte(`{"keys":[]}`)},
		"private key": {Issuer: "i", Audience: "a", JWKS: private},
	} {
		if _, err := NewVerifier(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDevKeyIsCreatedOnceWithPrivateMode(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateDevKey(dir)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("key not reused: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, devKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	v, _ := NewVerifier(VerifierConfig{Issuer: DevIssuer, Audience: DevAudience, JWKS: DevJWKS(k1)})
	tok, _ := IssueDevToken(k2, "acme", []string{auth.ScopeRead}, time.Minute)
	if p, err := v.Verify(tok); err != nil || p.Org != "acme" {
		t.Fatalf("dev token not accepted: %v", err)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
