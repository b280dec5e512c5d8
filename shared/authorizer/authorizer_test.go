package authorizer_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/auth/jwtauth"
	"github.com/streamtime/fleet-providers/shared/authorizer"
	"github.com/streamtime/fleet-providers/shared/authorizer/example"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/lambdaapi"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

const (
	issuer   = "https://idp.test/"
	audience = "fleet-providers-test"
)

type claims struct {
	Std jwt.Claims
	Ext jwtauth.Claims
}

func sign(t *testing.T, key ed25519.PrivateKey, kid string, c claims) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(c.Std).Claims(c.Ext).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jwks(key ed25519.PrivateKey, kid string) []byte {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: kid, Algorithm: string(jose.EdDSA), Use: "sig"}}})
	return b
}

func newAuthorizer(t *testing.T, iss, aud string, keys []byte, logs *bytes.Buffer) *authorizer.Authorizer {
	t.Helper()
	env := map[string]string{"STORE": "embedded", "AUTH_MODE": "token", "AUTH_ISSUER": iss, "AUTH_AUDIENCE": aud, "AUTH_JWKS": string(keys)}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := authorizer.New(cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func request(header string) authorizer.Request {
	req := authorizer.Request{Version: "2.0", Type: "REQUEST", RouteKey: "GET /organizations/{org}/fleet-providers",
		Headers: map[string]string{}}
	if header != "" {
		req.IdentitySource = []string{header}
		req.Headers["authorization"] = header
	}
	return req
}

func TestHandle(t *testing.T) {
	key, other := newKey(t), newKey(t)
	now := time.Now()
	good := claims{
		Std: jwt.Claims{Issuer: issuer, Audience: jwt.Audience{audience}, Subject: "alice@acme.example",
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))},
		Ext: jwtauth.Claims{Org: "acme", Scope: "fleet-providers:read fleet-providers:write"},
	}
	with := func(f func(*claims)) claims { c := good; f(&c); return c }

	var logs bytes.Buffer
	a := newAuthorizer(t, issuer, audience, jwks(key, "k1"), &logs)

	valid := sign(t, key, "k1", good)
	res, err := a.Handle(context.Background(), request("Bearer "+valid))
	if err != nil || !res.IsAuthorized {
		t.Fatalf("valid token: %+v, %v", res, err)
	}
	want := map[string]any{"org": "acme", "scopes": "fleet-providers:read fleet-providers:write", "sub": "alice@acme.example"}
	if got, _ := json.Marshal(res.Context); string(got) != string(must(json.Marshal(want))) {
		t.Fatalf("context %s, want %v", got, want)
	}

	denied := map[string]string{
		"expired":        "Bearer " + sign(t, key, "k1", with(func(c *claims) { c.Std.Expiry = jwt.NewNumericDate(now.Add(-time.Hour)) })),
		"other issuer":   "Bearer " + sign(t, key, "k1", with(func(c *claims) { c.Std.Issuer = "https://evil.test/" })),
		"other audience": "Bearer " + sign(t, key, "k1", with(func(c *claims) { c.Std.Audience = jwt.Audience{"other"} })),
		"no org":         "Bearer " + sign(t, key, "k1", with(func(c *claims) { c.Ext.Org = "" })),
		"other key":      "Bearer " + sign(t, other, "k1", good),
		"unknown kid":    "Bearer " + sign(t, key, "k2", good),
		"garbage":        "Bearer not-a-jwt",
		"basic scheme":   "Basic " + valid,
		"no header":      "",
	}
	for name, header := range denied {
		t.Run(name, func(t *testing.T) {
			logs.Reset()
			res, err := a.Handle(context.Background(), request(header))
			// Passed on with no principal: the handlers answer 401 problem+json.
			if err != nil || !res.IsAuthorized || res.Context != nil {
				t.Fatalf("want no principal, got %+v, %v", res, err)
			}
			if !strings.Contains(logs.String(), "token not accepted") {
				t.Fatalf("rejection not logged: %s", logs.String())
			}
			if token, _ := auth.BearerToken(header); token != "" && strings.Contains(logs.String(), token) {
				t.Fatalf("log shows the token: %s", logs.String())
			}
		})
	}
}

// The header API Gateway names as identity source may arrive in any case in headers when the event
// (e.g. a hand-written one) has no identitySource.
func TestHeaderFallback(t *testing.T) {
	key := newKey(t)
	a := newAuthorizer(t, issuer, audience, jwks(key, "k1"), &bytes.Buffer{})
	now := time.Now()
	tok := sign(t, key, "k1", claims{
		Std: jwt.Claims{Issuer: issuer, Audience: jwt.Audience{audience}, Expiry: jwt.NewNumericDate(now.Add(time.Minute))},
		Ext: jwtauth.Claims{Org: "acme"},
	})
	req := authorizer.Request{Headers: map[string]string{"Authorization": "Bearer " + tok}}
	if res, _ := a.Handle(context.Background(), req); res.Context[auth.ContextOrg] != "acme" {
		t.Fatal("header without identitySource not used")
	}
}

// What the authorizer returns, API Gateway hands to the operation as JSON in
// requestContext.authorizer.lambda; lambdaapi.AuthorizerContext must read back the same principal.
func TestContextRoundTrip(t *testing.T) {
	p := auth.Principal{Subject: "alice@acme.example", Org: "acme", Scopes: []string{auth.ScopeRead, auth.ScopeWrite}}
	raw, _ := json.Marshal(authorizer.Response{IsAuthorized: true, Context: p.AuthorizerContext()})
	var res authorizer.Response
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	var got auth.Principal
	h := lambdaapi.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		if got, err = (lambdaapi.AuthorizerContext{}).Authenticate(r); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/", RequestContext: events.APIGatewayV2HTTPRequestContext{
		HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/"},
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: res.Context},
	}}
	if _, err := h(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if got.Org != p.Org || got.Subject != p.Subject || strings.Join(got.Scopes, " ") != strings.Join(p.Scopes, " ") {
		t.Fatalf("round trip gave %+v, want %+v", got, p)
	}
}

var update = flag.Bool("update", false, "regenerate the example key and the tokens in events/authorizer*.json")

// exampleEvents is what each events/authorizer*.json must get from the authorizer trusting the
// example key, and, for -update, the expiry its token is signed with (zero: not a token of ours).
var exampleEvents = map[string]struct {
	authorized bool
	expiry     time.Time
}{
	"authorizer.json":         {true, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)},
	"authorizer-expired.json": {false, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	"authorizer-garbage.json": {false, time.Time{}},
}

// issued is the example tokens' iat: before every expiry above, and in the past.
var issued = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func TestExampleEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Root(), "events", "authorizer*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no authorizer events: %v", err)
	}
	if *update {
		regenerate(t, files)
	}
	a := newAuthorizer(t, example.Issuer, example.Audience, example.JWKS, &bytes.Buffer{})
	for _, file := range files {
		name := filepath.Base(file)
		want, ok := exampleEvents[name]
		if !ok {
			t.Errorf("%s: add it to exampleEvents", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			req := readEvent(t, file)
			if req.Version != "2.0" || req.Type != "REQUEST" || len(req.IdentitySource) != 1 ||
				req.RouteKey != req.RequestContext.RouteKey || req.RawPath != req.RequestContext.HTTP.Path ||
				req.IdentitySource[0] != req.Headers["authorization"] {
				t.Fatal("not an HTTP API REQUEST authorizer payload 2.0 event with the Authorization header as identity source")
			}
			res, err := a.Handle(context.Background(), req)
			if got := res.Context[auth.ContextOrg] != nil; err != nil || got != want.authorized {
				t.Fatalf("principal %v (%v), want one: %v", res.Context, err, want.authorized)
			}
		})
	}
}

func readEvent(t *testing.T, file string) authorizer.Request {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var req authorizer.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	return req
}

// regenerate makes a new example key, writes its public half to example/jwks.json and re-signs
// the token of every event that has an expiry in exampleEvents, in place.
func regenerate(t *testing.T, files []string) {
	key := newKey(t)
	if err := os.WriteFile(filepath.Join("example", "jwks.json"), append(jwks(key, "example"), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		exp := exampleEvents[filepath.Base(file)].expiry
		if exp.IsZero() {
			continue
		}
		req := readEvent(t, file)
		old, _ := auth.BearerToken(req.IdentitySource[0])
		tok := sign(t, key, "example", claims{
			Std: jwt.Claims{Issuer: example.Issuer, Audience: jwt.Audience{example.Audience}, Subject: "alice@acme.example",
				IssuedAt: jwt.NewNumericDate(issued), Expiry: jwt.NewNumericDate(exp)},
			Ext: jwtauth.Claims{Org: req.PathParameters["org"], Scope: auth.ScopeRead + " " + auth.ScopeWrite},
		})
		raw, _ := os.ReadFile(file)
		if err := os.WriteFile(file, bytes.ReplaceAll(raw, []byte(old), []byte(tok)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The embedded copy is the old one until the next build.
	t.Skip("regenerated: run the tests again")
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// With only the identity provider's jwks_uri configured, the authorizer fetches the keys itself.
func TestKeysFromJWKSURL(t *testing.T) {
	key := newKey(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(jwks(key, "k1")) }))
	defer srv.Close()
	env := map[string]string{"STORE": "embedded", "AUTH_ISSUER": issuer, "AUTH_AUDIENCE": audience, "AUTH_JWKS_URL": srv.URL}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := authorizer.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, key, "k1", claims{
		Std: jwt.Claims{Issuer: issuer, Audience: jwt.Audience{audience}, Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute))},
		Ext: jwtauth.Claims{Org: "acme", Scope: "fleet-providers:read"},
	})
	if res, _ := a.Handle(context.Background(), request("Bearer "+tok)); res.Context[auth.ContextOrg] != "acme" {
		t.Fatalf("token not verified with keys from the JWKS URL: %+v", res)
	}
}
