package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/auth/jwtauth"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/httpapi"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestAcceptanceFlowInAWSMode runs the README walk-through through the app as main builds it with
// STORE=aws, against DynamoDB Local and moto, and then checks that every secret in the emulator
// belongs to a live provider and every provider has its secret.
func TestAcceptanceFlowInAWSMode(t *testing.T) {
	ddb := testenv.DynamoDB(t)
	moto := testenv.Moto(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": ddb, "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto,
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		t.Setenv(k, v)
	}
	key, err := jwtauth.LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"STORE": "aws", "TABLE_NAME": "fleet-acceptance", "CREATE_TABLE": "true", "SECRET_RECOVERY_DAYS": "0",
		"AUTH_ISSUER": jwtauth.DevIssuer, "AUTH_AUDIENCE": jwtauth.DevAudience, "AUTH_JWKS": string(jwtauth.DevJWKS(key)),
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, app.Parts{})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := jwtauth.NewVerifier(jwtauth.VerifierConfig{Issuer: cfg.AuthIssuer, Audience: cfg.AuthAudience, JWKS: cfg.AuthJWKS})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(a.Service, verifier, httpapi.Options{Logger: a.Logger}).Handler())
	defer srv.Close()
	tok, _ := jwtauth.IssueDevToken(key, "acme", []string{auth.ScopeRead, auth.ScopeWrite}, time.Hour)

	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
		}
		if strings.Contains(string(raw), "EXAMPLEKEY") {
			t.Fatalf("secret in response: %s", raw)
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return m
	}
	const coll = "/organizations/acme/fleet-providers"
	body := func(identifier string) string {
		return `{"organization":"acme","identifier":"` + identifier + `","provider_type":"aws","configuration":{"aws_access_key":"AKIAIOSFODNN7EXAMPLE","aws_access_secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}`
	}
	created := call("POST", coll+"/", body("plf-fleet-manager"), 201)
	id := created["id"].(string)
	call("POST", coll+"/", body("plf-fleet-manager"), 409)
	second := call("POST", coll, body("second-fleet"), 201)["id"].(string)
	if got := call("GET", coll+"/"+id, "", 200); got["status"] != "pending_validation" {
		t.Fatalf("get: %v", got)
	}
	page := call("GET", coll+"?limit=1", "", 200)
	if len(page["items"].([]any)) != 1 || page["next_cursor"] == nil {
		t.Fatalf("first page: %v", page)
	}
	rest := call("GET", coll+"?limit=1&cursor="+page["next_cursor"].(string), "", 200)
	if len(rest["items"].([]any)) != 1 || rest["next_cursor"] != nil {
		t.Fatalf("second page: %v", rest)
	}
	call("PATCH", coll+"/"+id, `{"identifier":"plf-fleet-primary"}`, 200)
	call("PATCH", coll+"/"+id, `{"configuration":{"aws_access_key":"AKIAI44QH8DHBEXAMPLE","aws_access_secret":"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}}`, 200)
	call("DELETE", coll+"/"+second, "", 204)
	call("GET", coll+"/"+second, "", 404)

	// Every secret belongs to a live item with that version current, and vice versa.
	items := map[string]string{}
	for _, it := range call("GET", coll, "", 200)["items"].([]any) {
		p, err := a.Store.Get(ctx, "acme", it.(map[string]any)["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		items[p.ID] = p.SecretVersion
	}
	secrets := map[string]string{}
	if err := a.Secrets.List(ctx, func(i fleet.SecretInfo) error {
		secrets[i.Ref.ProviderID] = i.CurrentVersion
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || len(secrets) != len(items) {
		t.Fatalf("items %v, secrets %v", items, secrets)
	}
	for id, version := range items {
		if secrets[id] != version {
			t.Fatalf("provider %s uses secret version %s, current is %q", id, version, secrets[id])
		}
		if _, err := a.Secrets.Get(ctx, fleet.SecretRef{Org: "acme", ProviderID: id}, version); err != nil {
			t.Fatalf("secret of %s unreadable: %v", id, err)
		}
	}
}
