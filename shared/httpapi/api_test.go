package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/auth/jwtauth"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// The seed's example body (with real-shaped example keys in place of its placeholders).
const seedBody = `{
    "organization": "acme",
    "identifier": "plf-fleet-manager",
    "provider_type": "aws",
    "configuration": {
        "aws_access_key": "AKIAIOSFODNN7EXAMPLE",
        "aws_access_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    }
}`

func TestCreateSeedExample(t *testing.T) {
	e := newEnv(t)
	r := e.post("acme", e.token("acme"), seedBody)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	for _, f := range []string{"id", "organization", "identifier", "provider_type", "configuration", "created_at", "updated_at", "status"} {
		if _, ok := r.json[f]; !ok {
			t.Errorf("response lacks %q: %s", f, r.raw)
		}
	}
	if r.json["organization"] != "acme" || r.json["identifier"] != "plf-fleet-manager" || r.json["provider_type"] != "aws" {
		t.Errorf("fields not echoed: %s", r.raw)
	}
	if r.json["status"] != "pending_validation" {
		t.Errorf("status = %v, want pending_validation", r.json["status"])
	}
	cfg := r.json["configuration"].(map[string]any)
	if cfg["aws_access_key"] != awsKeyID || cfg["aws_access_secret"] != provider.Mask {
		t.Errorf("configuration not masked as designed: %v", cfg)
	}
	id := r.json["id"].(string)
	if loc := r.header.Get("Location"); loc != "/organizations/acme/fleet-providers/"+id {
		t.Errorf("Location = %q", loc)
	}
	for _, f := range []string{"created_at", "updated_at"} {
		ts, err := time.Parse(time.RFC3339Nano, r.json[f].(string))
		if err != nil || !strings.HasSuffix(r.json[f].(string), "Z") || ts.IsZero() {
			t.Errorf("%s = %v, want RFC 3339 UTC", f, r.json[f])
		}
	}
	// The body's organization is optional; the path decides.
	r = e.post("acme", e.token("acme"), `{"identifier":"no-org-field","provider_type":"aws","configuration":{"aws_access_key":"`+awsKeyID+`","aws_access_secret":"`+awsSecret+`"}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create without organization: %d %s", r.status, r.raw)
	}
}

func TestCreateWithoutTrailingSlash(t *testing.T) {
	e := newEnv(t)
	r := e.call(http.MethodPost, "/organizations/acme/fleet-providers", e.token("acme"), "application/json; charset=utf-8", awsBody("acme", "no-slash", awsSecret))
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
}

func TestEachProviderTypeMasksItsSecrets(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	cases := []struct {
		typ, config string
		secrets     []string
		shown       map[string]any
	}{
		{"azure", `{"tenant_id":"11111111-2222-3333-4444-555555555555","client_id":"21111111-2222-3333-4444-555555555555","client_secret":"` + azureSecret + `","subscription_id":"31111111-2222-3333-4444-555555555555"}`,
			[]string{"client_secret"}, map[string]any{"client_id": "21111111-2222-3333-4444-555555555555"}},
		{"gcp", `{"service_account_key":` + gcpKeyJSON(t) + `}`,
			[]string{}, map[string]any{"project_id": "acme-fleet-prod"}},
		{"oci", ociConfig(t, ociPassSuper),
			[]string{"private_key", "private_key_passphrase"}, map[string]any{"region": "eu-frankfurt-1"}},
		{"aws", `{"role_arn":"arn:aws:iam::123456789012:role/streamtime-fleet"}`,
			nil, map[string]any{"role_arn": "arn:aws:iam::123456789012:role/streamtime-fleet"}},
	}
	for i, c := range cases {
		r := e.post("acme", tok, fmt.Sprintf(`{"identifier":"p-%d","provider_type":%q,"configuration":%s}`, i, c.typ, c.config))
		if r.status != http.StatusCreated {
			t.Fatalf("%s: %d %s", c.typ, r.status, r.raw)
		}
		cfg := r.json["configuration"].(map[string]any)
		for _, s := range c.secrets {
			if cfg[s] != provider.Mask {
				t.Errorf("%s: %s = %v, want mask", c.typ, s, cfg[s])
			}
		}
		for k, v := range c.shown {
			if cfg[k] != v {
				t.Errorf("%s: %s = %v, want %v", c.typ, k, cfg[k], v)
			}
		}
		switch c.typ {
		case "gcp":
			key := cfg["service_account_key"].(map[string]any)
			if key["private_key"] != provider.Mask || key["client_email"] != "fleet@acme-fleet-prod.iam.gserviceaccount.com" {
				t.Errorf("gcp key view: %v", key)
			}
		case "aws":
			if ext, _ := cfg["external_id"].(string); !strings.HasPrefix(ext, "st-") {
				t.Errorf("role mode must return a generated external_id: %v", cfg)
			}
		case "oci":
			if cfg["compartment_ocid"] != cfg["tenancy_ocid"] {
				t.Errorf("compartment must default to the tenancy: %v", cfg)
			}
		}
	}
	e.assertNoSecretsLeaked(t, gcpPrivateKeyMarker)
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	valid := map[string]string{
		"aws": `{"aws_access_key":"` + awsKeyID + `","aws_access_secret":"` + awsSecret + `"}`,
	}
	cases := []struct {
		name, contentType, body string
		status                  int
		field                   string
	}{
		{"malformed JSON", "application/json", `{"identifier":`, 400, "body"},
		{"not an object", "application/json", `[1,2]`, 400, "body"},
		{"two objects", "application/json", `{} {}`, 400, "body"},
		{"empty body", "application/json", ``, 400, "body"},
		{"identifier wrong type", "application/json", `{"identifier":5,"provider_type":"aws","configuration":` + valid["aws"] + `}`, 400, "identifier"},
		{"configuration wrong type", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":"x"}`, 400, "configuration"},
		{"configuration missing", "application/json", `{"identifier":"abc","provider_type":"aws"}`, 400, "configuration"},
		{"unknown top-level field", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":` + valid["aws"] + `,"extra":1}`, 400, "extra"},
		{"unknown provider_type", "application/json", `{"identifier":"abc","provider_type":"digitalocean","configuration":{}}`, 400, "provider_type"},
		{"provider_type missing", "application/json", `{"identifier":"abc","configuration":{}}`, 400, "provider_type"},
		{"identifier missing", "application/json", `{"provider_type":"aws","configuration":` + valid["aws"] + `}`, 400, "identifier"},
		{"identifier uppercase", "application/json", `{"identifier":"Fleet","provider_type":"aws","configuration":` + valid["aws"] + `}`, 400, "identifier"},
		{"identifier too short", "application/json", `{"identifier":"ab","provider_type":"aws","configuration":` + valid["aws"] + `}`, 400, "identifier"},
		{"identifier too long", "application/json", `{"identifier":"` + strings.Repeat("a", 64) + `","provider_type":"aws","configuration":` + valid["aws"] + `}`, 400, "identifier"},
		{"identifier trailing hyphen", "application/json", `{"identifier":"fleet-","provider_type":"aws","configuration":` + valid["aws"] + `}`, 400, "identifier"},
		{"organization differs", "application/json", `{"organization":"globex","identifier":"abc","provider_type":"aws","configuration":` + valid["aws"] + `}`, 400, "organization"},
		{"typo in configuration field", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":{"aws_access_key":"` + awsKeyID + `","aws_secret":"` + awsSecret + `"}}`, 400, "configuration.aws_secret"},
		{"aws secret missing", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":{"aws_access_key":"` + awsKeyID + `"}}`, 400, "configuration.aws_access_secret"},
		{"aws key id shape", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":{"aws_access_key":"<aws-access-key>","aws_access_secret":"` + awsSecret + `"}}`, 400, "configuration.aws_access_key"},
		{"aws temporary key", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":{"aws_access_key":"ASIAIOSFODNN7EXAMPLE","aws_access_secret":"` + awsSecret + `"}}`, 400, "configuration.aws_access_key"},
		{"aws keys and role", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":{"aws_access_key":"` + awsKeyID + `","aws_access_secret":"` + awsSecret + `","role_arn":"arn:aws:iam::123456789012:role/x"}}`, 400, "configuration.role_arn"},
		{"aws external id supplied", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":{"role_arn":"arn:aws:iam::123456789012:role/x","external_id":"mine"}}`, 400, "configuration.external_id"},
		{"aws region shape", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":{"aws_access_key":"` + awsKeyID + `","aws_access_secret":"` + awsSecret + `","region":"mars-1"}}`, 400, "configuration.region"},
		{"aws secret wrong type", "application/json", `{"identifier":"abc","provider_type":"aws","configuration":{"aws_access_key":"` + awsKeyID + `","aws_access_secret":42}}`, 400, "configuration.aws_access_secret"},
		{"azure guid", "application/json", `{"identifier":"abc","provider_type":"azure","configuration":{"tenant_id":"nope","client_id":"21111111-2222-3333-4444-555555555555","client_secret":"s","subscription_id":"31111111-2222-3333-4444-555555555555"}}`, 400, "configuration.tenant_id"},
		{"azure missing secret", "application/json", `{"identifier":"abc","provider_type":"azure","configuration":{"tenant_id":"11111111-2222-3333-4444-555555555555","client_id":"21111111-2222-3333-4444-555555555555","subscription_id":"31111111-2222-3333-4444-555555555555"}}`, 400, "configuration.client_secret"},
		{"gcp external_account key", "application/json", `{"identifier":"abc","provider_type":"gcp","configuration":{"service_account_key":{"type":"external_account","audience":"x"}}}`, 400, "configuration.service_account_key"},
		{"gcp foreign token_uri", "application/json", `{"identifier":"abc","provider_type":"gcp","configuration":{"service_account_key":` + gcpKeyWith(t, "token_uri", "http://169.254.169.254/latest") + `}}`, 400, "configuration.service_account_key"},
		{"gcp key not json", "application/json", `{"identifier":"abc","provider_type":"gcp","configuration":{"service_account_key":"{not json"}}`, 400, "configuration.service_account_key"},
		{"oci unknown region", "application/json", `{"identifier":"abc","provider_type":"oci","configuration":` + strings.Replace(ociConfig(t, ""), "eu-frankfurt-1", "moon-base-1", 1) + `}`, 400, "configuration.region"},
		{"oci bad ocid", "application/json", `{"identifier":"abc","provider_type":"oci","configuration":` + strings.Replace(ociConfig(t, ""), "ocid1.user.", "ocid1.bucket.", 1) + `}`, 400, "configuration.user_ocid"},
		{"oci fingerprint of another key", "application/json", `{"identifier":"abc","provider_type":"oci","configuration":` + ociConfigWrongFingerprint(t) + `}`, 400, "configuration.fingerprint"},
		{"wrong content type", "text/plain", `{}`, 415, ""},
		{"merge-patch not for create", "application/merge-patch+json", `{}`, 415, ""},
		{"non-utf8 charset", "application/json; charset=latin1", `{}`, 415, ""},
		{"body over the limit", "application/json", `{"identifier":"` + strings.Repeat("a", 70<<10) + `"}`, 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(http.MethodPost, "/organizations/acme/fleet-providers/", tok, c.contentType, c.body)
			expectProblem(t, r, c.status, c.field)
		})
	}
	// Nothing was written by any of them.
	if r := e.call(http.MethodGet, "/organizations/acme/fleet-providers", tok, "", ""); len(r.json["items"].([]any)) != 0 {
		t.Fatalf("bad input left providers behind: %s", r.raw)
	}
	if n := e.countSecrets(); n != 0 {
		t.Fatalf("bad input left %d secrets behind", n)
	}
	e.assertNoSecretsLeaked(t)
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	p := e.createAWS("acme", "fleet-one")
	id := p["id"].(string)
	item := "/organizations/acme/fleet-providers/" + id

	expired, _ := jwtauth.IssueDevToken(e.key, "acme", []string{auth.ScopeRead}, -time.Hour)
	other := newEnv(t) // a different signing key
	cases := []struct {
		name, method, path, token string
		status                    int
	}{
		{"no token", "GET", item, "", 401},
		{"garbage token", "GET", item, "not-a-jwt", 401},
		{"expired token", "GET", item, expired, 401},
		{"token from another issuer key", "GET", item, other.token("acme"), 401},
		{"token for another org", "GET", item, e.token("globex"), 403},
		{"another org listing acme", "GET", "/organizations/acme/fleet-providers", e.token("globex"), 403},
		{"read-only token writes", "DELETE", item, e.token("acme", auth.ScopeRead), 403},
		{"read-only token creates", "POST", "/organizations/acme/fleet-providers/", e.token("acme", auth.ScopeRead), 403},
		{"write-only token reads", "GET", item, e.token("acme", auth.ScopeWrite), 403},
		{"another org's id under its own org", "GET", "/organizations/globex/fleet-providers/" + id, e.token("globex"), 404},
		{"another org's id patched", "PATCH", "/organizations/globex/fleet-providers/" + id, e.token("globex"), 404},
		{"another org's id deleted", "DELETE", "/organizations/globex/fleet-providers/" + id, e.token("globex"), 404},
		{"another org's id validated", "POST", "/organizations/globex/fleet-providers/" + id + "/validate", e.token("globex"), 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, ct := "", ""
			if c.method == "PATCH" {
				body, ct = `{"identifier":"stolen"}`, "application/json"
			}
			r := e.call(c.method, c.path, c.token, ct, body)
			expectProblem(t, r, c.status, "")
			if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: %v", r.header)
			}
		})
	}
	if r := e.call("GET", item, e.token("acme"), "", ""); r.status != 200 || r.json["identifier"] != "fleet-one" {
		t.Fatalf("provider changed by a refused request: %s", r.raw)
	}
}

func TestGetAndNotFound(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	p := e.createAWS("acme", "fleet-one")
	r := e.call("GET", "/organizations/acme/fleet-providers/"+p["id"].(string), tok, "", "")
	if r.status != 200 || r.json["id"] != p["id"] || r.json["configuration"].(map[string]any)["aws_access_secret"] != provider.Mask {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
	expectProblem(t, e.call("GET", "/organizations/acme/fleet-providers/0193a5d0-0000-7000-8000-000000000000", tok, "", ""), 404, "")
	expectProblem(t, e.call("GET", "/organizations/acme/fleet-providers/not-a-uuid", tok, "", ""), 400, "id")
	expectProblem(t, e.call("GET", "/organizations/acme/fleet-providers/0193A5D0-0000-7000-8000-000000000000", tok, "", ""), 400, "id")
	expectProblem(t, e.call("GET", "/organizations/acme/nothing-here", tok, "", ""), 404, "")
	r = e.call("PUT", "/organizations/acme/fleet-providers/"+p["id"].(string), tok, "", "")
	expectProblem(t, r, 405, "")
	if r.header.Get("Allow") == "" {
		t.Errorf("405 without Allow")
	}
}

func TestListPagination(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		want[e.createAWS("acme", fmt.Sprintf("fleet-%02d", i))["id"].(string)] = true
	}
	e.createAWS("globex", "globex-fleet")

	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		path := "/organizations/acme/fleet-providers?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.call("GET", path, tok, "", "")
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		pages++
		items := r.json["items"].([]any)
		if len(items) > 3 {
			t.Fatalf("page of %d items with limit 3", len(items))
		}
		for _, it := range items {
			m := it.(map[string]any)
			id := m["id"].(string)
			if seen[id] || !want[id] {
				t.Fatalf("unexpected or repeated item %s", id)
			}
			seen[id] = true
			if m["configuration"].(map[string]any)["aws_access_secret"] != provider.Mask {
				t.Fatalf("list item not masked")
			}
		}
		next, present := r.json["next_cursor"]
		if !present {
			t.Fatalf("next_cursor missing: %s", r.raw)
		}
		if next == nil {
			break
		}
		cursor = next.(string)
	}
	if len(seen) != 7 || pages != 3 {
		t.Fatalf("saw %d items in %d pages, want 7 in 3", len(seen), pages)
	}

	// Default page size and bounds.
	r := e.call("GET", "/organizations/acme/fleet-providers/", tok, "", "")
	if r.status != 200 || len(r.json["items"].([]any)) != 7 || r.json["next_cursor"] != nil {
		t.Fatalf("default list: %s", r.raw)
	}
	for _, bad := range []string{"0", "101", "abc", "-1", ""} {
		expectProblem(t, e.call("GET", "/organizations/acme/fleet-providers?limit="+bad, tok, "", ""), 400, "limit")
	}

	// A cursor is bound to its org and cannot be altered.
	first := e.call("GET", "/organizations/acme/fleet-providers?limit=1", tok, "", "")
	acmeCursor := first.json["next_cursor"].(string)
	gtok := e.token("globex")
	expectProblem(t, e.call("GET", "/organizations/globex/fleet-providers?cursor="+acmeCursor, gtok, "", ""), 400, "cursor")
	tampered := []byte(acmeCursor)
	tampered[len(tampered)-2] ^= 1
	expectProblem(t, e.call("GET", "/organizations/acme/fleet-providers?cursor="+string(tampered), tok, "", ""), 400, "cursor")
	expectProblem(t, e.call("GET", "/organizations/acme/fleet-providers?cursor=%%%", tok, "", ""), 400, "")
	expectProblem(t, e.call("GET", "/organizations/acme/fleet-providers?cursor=bm90LWEtY3Vyc29y", tok, "", ""), 400, "cursor")
}

func TestPatch(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	p := e.createAWS("acme", "fleet-one")
	e.createAWS("acme", "fleet-two")
	item := "/organizations/acme/fleet-providers/" + p["id"].(string)

	r := e.call("PATCH", item, tok, "application/merge-patch+json", `{"identifier":"fleet-renamed"}`)
	if r.status != 200 || r.json["identifier"] != "fleet-renamed" || r.json["updated_at"] == p["updated_at"] {
		t.Fatalf("rename: %d %s", r.status, r.raw)
	}
	// The old identifier is free again, the new one is taken.
	if r := e.post("acme", tok, awsBody("acme", "fleet-one", awsSecret)); r.status != 201 {
		t.Fatalf("old identifier not freed: %d %s", r.status, r.raw)
	}
	expectProblem(t, e.call("PATCH", item, tok, "application/json", `{"identifier":"fleet-two"}`), 409, "identifier")

	// New credentials: status back to pending_validation, the new secret stored, masked.
	r = e.call("PATCH", item, tok, "application/json", `{"configuration":{"aws_access_key":"AKIAI44QH8DHBEXAMPLE","aws_access_secret":"`+awsSecret2+`"}}`)
	if r.status != 200 || r.json["status"] != "pending_validation" {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}
	cfg := r.json["configuration"].(map[string]any)
	if cfg["aws_access_key"] != "AKIAI44QH8DHBEXAMPLE" || cfg["aws_access_secret"] != provider.Mask {
		t.Fatalf("rotated configuration: %v", cfg)
	}

	for name, c := range map[string]struct {
		ct, body string
		status   int
		field    string
	}{
		"type change":        {"application/json", `{"provider_type":"gcp"}`, 400, "provider_type"},
		"org change":         {"application/json", `{"organization":"globex"}`, 400, "organization"},
		"unknown field":      {"application/json", `{"name":"x"}`, 400, "name"},
		"empty patch":        {"application/json", `{}`, 400, "body"},
		"null identifier":    {"application/json", `{"identifier":null}`, 400, "identifier"},
		"bad identifier":     {"application/json", `{"identifier":"NO"}`, 400, "identifier"},
		"bad configuration":  {"application/json", `{"configuration":{"aws_access_key":"` + awsKeyID + `"}}`, 400, "configuration.aws_access_secret"},
		"wrong content type": {"text/plain", `{"identifier":"abc"}`, 415, ""},
		"malformed":          {"application/json", `{"identifier":`, 400, "body"},
	} {
		t.Run(name, func(t *testing.T) {
			expectProblem(t, e.call("PATCH", item, tok, c.ct, c.body), c.status, c.field)
		})
	}
	if r := e.call("GET", item, tok, "", ""); r.json["identifier"] != "fleet-renamed" || r.json["configuration"].(map[string]any)["aws_access_key"] != "AKIAI44QH8DHBEXAMPLE" {
		t.Fatalf("failed patches changed the provider: %s", r.raw)
	}
	expectProblem(t, e.call("PATCH", "/organizations/acme/fleet-providers/0193a5d0-0000-7000-8000-000000000000", tok, "application/json", `{"identifier":"ghost"}`), 404, "")
	e.assertNoSecretsLeaked(t)
}

func TestRoleExternalIDSurvivesReconfiguration(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	r := e.post("acme", tok, `{"identifier":"role-fleet","provider_type":"aws","configuration":{"role_arn":"arn:aws:iam::123456789012:role/a"}}`)
	ext := r.json["configuration"].(map[string]any)["external_id"]
	r = e.call("PATCH", "/organizations/acme/fleet-providers/"+r.json["id"].(string), tok, "application/json",
		`{"configuration":{"role_arn":"arn:aws:iam::123456789012:role/b","region":"eu-west-1"}}`)
	if r.status != 200 || r.json["configuration"].(map[string]any)["external_id"] != ext {
		t.Fatalf("external id changed on reconfiguration: %v -> %s", ext, r.raw)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	p := e.createAWS("acme", "fleet-one")
	item := "/organizations/acme/fleet-providers/" + p["id"].(string)
	if n := e.countSecrets(); n != 1 {
		t.Fatalf("secrets after create = %d", n)
	}
	r := e.call("DELETE", item, tok, "", "")
	if r.status != 204 || r.raw != "" {
		t.Fatalf("delete: %d %q", r.status, r.raw)
	}
	expectProblem(t, e.call("GET", item, tok, "", ""), 404, "")
	expectProblem(t, e.call("DELETE", item, tok, "", ""), 404, "")
	if n := e.countSecrets(); n != 0 {
		t.Fatalf("secret left after delete: %d", n)
	}
	// The identifier can be used again.
	e.createAWS("acme", "fleet-one")
}

func TestDuplicateIdentifier(t *testing.T) {
	e := newEnv(t)
	e.createAWS("acme", "fleet-one")
	expectProblem(t, e.post("acme", e.token("acme"), awsBody("acme", "fleet-one", awsSecret)), 409, "identifier")
	// Same identifier in another org is fine.
	e.createAWS("globex", "fleet-one")
	if n := e.countSecrets(); n != 2 {
		t.Fatalf("a refused duplicate left its secret behind: %d secrets", n)
	}
}

func TestConcurrentCreatesSameIdentifier(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	const n = 16
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- e.post("acme", tok, awsBody("acme", "contended", awsSecret)).status
		}()
	}
	wg.Wait()
	close(statuses)
	created, conflicts := 0, 0
	for s := range statuses {
		switch s {
		case 201:
			created++
		case 409:
			conflicts++
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if created != 1 || conflicts != n-1 {
		t.Fatalf("created %d, conflicts %d; want 1 and %d", created, conflicts, n-1)
	}
	if c := e.countSecrets(); c != 1 {
		t.Fatalf("%d secrets after contended create, want 1", c)
	}
}
