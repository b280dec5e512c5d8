package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/auth/jwtauth"
	"github.com/streamtime/fleet-providers/shared/embedded"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/httpapi"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Known credential values: tests assert none of them ever leaves the service.
const (
	awsKeyID     = "AKIAIOSFODNN7EXAMPLE"
	awsSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	awsSecret2   = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	azureSecret  = "azure-client-secret-value-9f8e7d"
	ociPassSuper = "oci-key-passphrase-value-1234"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t       *testing.T
	srv     *httptest.Server
	key     ed25519.PrivateKey
	logs    *syncBuffer
	db      *embedded.DB
	secrets fleet.SecretStore
	bodies  []string // every response body, for the no-secret-leak checks
	mu      sync.Mutex
}

type envOpts struct {
	validators fleet.Validators
}

func newEnv(t *testing.T, opts ...envOpts) *env {
	t.Helper()
	var o envOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := jwtauth.NewVerifier(jwtauth.VerifierConfig{Issuer: jwtauth.DevIssuer, Audience: jwtauth.DevAudience, JWKS: jwtauth.DevJWKS(key)})
	if err != nil {
		t.Fatal(err)
	}
	db, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := fleet.New(db.Providers(), db.Secrets(), o.validators, fleet.Options{ValidateTimeout: 5 * time.Second})
	api := httpapi.New(svc, verifier, httpapi.Options{Logger: logger})
	srv := httptest.NewServer(conformant(t, api.Handler()))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, key: key, logs: logs, db: db, secrets: db.Secrets()}
}

func (e *env) token(org string, scopes ...string) string {
	e.t.Helper()
	if len(scopes) == 0 {
		scopes = []string{auth.ScopeRead, auth.ScopeWrite}
	}
	tok, err := jwtauth.IssueDevToken(e.key, org, scopes, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

type resp struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

// call sends a request; token "" sends none, contentType "" sends none.
func (e *env) call(method, path, token, contentType, body string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	e.mu.Lock()
	e.bodies = append(e.bodies, string(raw))
	e.mu.Unlock()
	r := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &r.json)
	}
	return r
}

func (e *env) post(org, token, body string) resp {
	return e.call(http.MethodPost, "/organizations/"+org+"/fleet-providers/", token, "application/json", body)
}

func (e *env) createAWS(org, identifier string) map[string]any {
	e.t.Helper()
	r := e.post(org, e.token(org), awsBody(org, identifier, awsSecret))
	if r.status != http.StatusCreated {
		e.t.Fatalf("create: %d %s", r.status, r.raw)
	}
	return r.json
}

func awsBody(org, identifier, secret string) string {
	return `{"organization":"` + org + `","identifier":"` + identifier + `","provider_type":"aws",
		"configuration":{"aws_access_key":"` + awsKeyID + `","aws_access_secret":"` + secret + `"}}`
}

// expectProblem checks an RFC 9457 answer and, if field is given, that it names that field.
func expectProblem(t *testing.T, r resp, status int, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	if r.json["status"] != float64(status) || r.json["type"] == "" || r.json["title"] == "" || r.json["request_id"] == "" {
		t.Fatalf("not a complete problem: %s", r.raw)
	}
	if field == "" {
		return
	}
	errs, _ := r.json["errors"].([]any)
	for _, fe := range errs {
		if fe.(map[string]any)["field"] == field {
			return
		}
	}
	t.Fatalf("problem does not name field %q: %s", field, r.raw)
}

// countSecrets returns how many secrets the store holds.
func (e *env) countSecrets() int {
	n := 0
	_ = e.secrets.List(context.Background(), func(fleet.SecretInfo) error { n++; return nil })
	return n
}

// fakeValidator is a fleet.Validator for handler tests: the real cloud validators are tested
// against local servers in their own packages.
type fakeValidator struct {
	report    provider.Report
	gotSecret map[string]string
	mu        sync.Mutex
}

func (f *fakeValidator) Validate(_ context.Context, _ *provider.Provider, secret map[string]string) provider.Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotSecret = secret
	return f.report.Clone()
}
