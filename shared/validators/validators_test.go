package validators_test

import (
	"context"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/auth/jwtauth"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/embedded"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/httpapi"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validators"
	"github.com/streamtime/fleet-providers/shared/validators/validatorstest"
)

func TestProductionRegistryCoversEveryType(t *testing.T) {
	v := validators.New(context.Background(), config.Config{})
	for _, typ := range provider.Types {
		if v[typ] == nil {
			t.Errorf("no validator for %s", typ)
		}
	}
}

// TestValidateEveryTypeWhenCloudsAreUnreachable drives POST validate through the HTTP API with the
// real validators: each type answers a complete report with status error inside the deadline,
// and the report is stored on the provider.
func TestValidateEveryTypeWhenCloudsAreUnreachable(t *testing.T) {
	db, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	verifier, _ := jwtauth.NewVerifier(jwtauth.VerifierConfig{Issuer: jwtauth.DevIssuer, Audience: jwtauth.DevAudience, JWKS: jwtauth.DevJWKS(key)})
	svc := fleet.New(db.Providers(), db.Secrets(), validatorstest.Unreachable(t), fleet.Options{ValidateTimeout: 10 * time.Second})
	srv := httptest.NewServer(httpapi.New(svc, verifier, httpapi.Options{}).Handler())
	defer srv.Close()
	tok, _ := jwtauth.IssueDevToken(key, "acme", []string{auth.ScopeRead, auth.ScopeWrite}, time.Hour)

	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	configs := map[provider.Type]string{
		provider.AWS:   `{"aws_access_key":"AKIAIOSFODNN7EXAMPLE","aws_access_secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`,
		provider.GCP:   `{"service_account_key":` + gcpKey(rsaKey) + `}`,
		provider.Azure: `{"tenant_id":"11111111-2222-3333-4444-555555555555","client_id":"21111111-2222-3333-4444-555555555555","client_secret":"azure-secret-value","subscription_id":"31111111-2222-3333-4444-555555555555"}`,
		provider.OCI:   ociConfig(rsaKey),
	}
	for typ, cfg := range configs {
		t.Run(string(typ), func(t *testing.T) {
			res := do(t, srv, tok, "POST", "/organizations/acme/fleet-providers/", fmt.Sprintf(`{"identifier":"%s-fleet","provider_type":"%s","configuration":%s}`, typ, typ, cfg))
			if res.status != 201 {
				t.Fatalf("create: %d %s", res.status, res.raw)
			}
			id := res.body["id"].(string)
			start := time.Now()
			res = do(t, srv, tok, "POST", "/organizations/acme/fleet-providers/"+id+"/validate", "")
			elapsed := time.Since(start)
			if res.status != 200 || res.body["status"] != "error" {
				t.Fatalf("validate: %d %s", res.status, res.raw)
			}
			if elapsed > 10*time.Second {
				t.Fatalf("validate took %v, beyond the deadline", elapsed)
			}
			checks := res.body["checks"].([]any)
			if len(checks) < 2 || len(res.body["missing_permissions"].([]any)) != 0 {
				t.Fatalf("an outage must not be reported as missing permissions: %s", res.raw)
			}
			auth := checks[0].(map[string]any)
			if auth["name"] != "authentication" || auth["status"] != "error" || auth["message"] == "" {
				t.Fatalf("authentication check: %v", auth)
			}
			for _, secret := range []string{"EXAMPLEKEY", "azure-secret-value", "PRIVATE KEY"} {
				if strings.Contains(res.raw, secret) {
					t.Fatalf("secret in report: %s", res.raw)
				}
			}
			got := do(t, srv, tok, "GET", "/organizations/acme/fleet-providers/"+id, "")
			if got.body["status"] != "error" || got.body["validation"] == nil {
				t.Fatalf("report not stored: %s", got.raw)
			}
		})
	}
}

type result struct {
	status int
	raw    string
	body   map[string]any
}

func do(t *testing.T, srv *httptest.Server, tok, method, path, body string) result {
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
	r := result{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func gcpKey(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "acme-fleet-prod", "private_key_id": "0123456789abcdef0123456789abcdef01234567",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "fleet@acme-fleet-prod.iam.gserviceaccount.com", "client_id": "1234567890",
	})
	return string(b)
}

func ociConfig(k *rsa.PrivateKey) string {
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	sum := md5.Sum(pub)
	fp := make([]string, len(sum))
	for i, b := range sum {
		fp[i] = fmt.Sprintf("%02x", b)
	}
	b, _ := json.Marshal(map[string]string{
		"user_ocid": "ocid1.user.oc1..aaaaaaaaexampleuserocid000000001", "tenancy_ocid": "ocid1.tenancy.oc1..aaaaaaaaexampletenancy00000001",
		"fingerprint": strings.Join(fp, ":"), "region": "us-ashburn-1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})),
	})
	return string(b)
}
