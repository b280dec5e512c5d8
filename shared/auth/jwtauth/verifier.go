// Package jwtauth verifies JWT bearer tokens (issuer, audience, expiry, signature against a
// configured key set) and issues development tokens. Only what verifies tokens imports it - the
// Lambda authorizer and the local server - so the functions behind the authorizer do not link a
// JOSE implementation they never use.
package jwtauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/streamtime/fleet-providers/shared/auth"
)

// Algorithms accepted for tokens; "none" and HMAC are never accepted.
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384, jose.EdDSA}

// VerifierConfig says which tokens to trust.
type VerifierConfig struct {
	Issuer   string
	Audience string
	// JWKS is a JSON Web Key Set with the issuer's public keys, and/or JWKSURL the issuer's
	// jwks_uri (https) to fetch, cache and refetch it from when the issuer rotates its keys.
	JWKS    []byte
	JWKSURL string
	// HTTPClient fetches JWKSURL (default: a plain client; redirects are never followed).
	HTTPClient *http.Client
	// Leeway tolerates clock skew on exp/nbf/iat (default 30 s).
	Leeway time.Duration
	Now    func() time.Time
}

// Verifier checks JWT bearer tokens: signature against the configured keys, issuer, audience,
// expiry, and the org and scope claims.
type Verifier struct {
	cfg    VerifierConfig
	keys   jose.JSONWebKeySet // configured inline
	remote *remoteKeys        // fetched from JWKSURL, if set
}

// NewVerifier validates cfg and parses its key set.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: issuer and audience are required")
	}
	if len(cfg.JWKS) == 0 && cfg.JWKSURL == "" {
		return nil, errors.New("auth: a JWKS or a JWKS URL is required")
	}
	var keys jose.JSONWebKeySet
	if len(cfg.JWKS) > 0 {
		var err error
		if keys, err = parseKeySet(cfg.JWKS); err != nil {
			return nil, fmt.Errorf("auth: JWKS: %w", err)
		}
	}
	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{cfg: cfg, keys: keys}
	if cfg.JWKSURL != "" {
		v.remote = newRemoteKeys(cfg.JWKSURL, cfg.HTTPClient, cfg.Now)
	}
	return v, nil
}

// Claims are the token claims this service reads beyond the registered ones.
type Claims struct {
	Org string `json:"org"`
	// Scope is space separated (RFC 8693 / OAuth 2.0 style); Scp is the array form some IdPs use.
	Scope string   `json:"scope,omitempty"`
	Scp   []string `json:"scp,omitempty"`
}

// Verify checks token and returns its principal; every failure is auth.ErrUnauthenticated.
func (v *Verifier) Verify(token string) (auth.Principal, error) {
	tok, err := jwt.ParseSigned(token, algorithms)
	if err != nil || len(tok.Headers) != 1 {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	key, ok := v.key(tok.Headers[0].KeyID)
	if !ok {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	var std jwt.Claims
	var c Claims
	if err := tok.Claims(key.Key, &std, &c); err != nil {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if std.Expiry == nil {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	err = std.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.cfg.Issuer,
		AnyAudience: jwt.Audience{v.cfg.Audience},
		Time:        v.cfg.Now(),
	}, v.cfg.Leeway)
	if err != nil || c.Org == "" {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	scopes := append(strings.Fields(c.Scope), c.Scp...)
	return auth.Principal{Subject: std.Subject, Org: c.Org, Scopes: scopes}, nil
}

func (v *Verifier) key(kid string) (jose.JSONWebKey, bool) {
	if k, ok := keyIn(v.keys, kid); ok {
		return k, true
	}
	if v.remote != nil {
		return v.remote.lookup(kid)
	}
	return jose.JSONWebKey{}, false
}

// Authenticate verifies the request's bearer token.
func (v *Verifier) Authenticate(r *http.Request) (auth.Principal, error) {
	token, ok := auth.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return v.Verify(token)
}
