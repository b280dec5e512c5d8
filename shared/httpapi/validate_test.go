package httpapi_test

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

const gcpPrivateKeyMarker = "PRIVATE KEY"

func TestValidateStoresReport(t *testing.T) {
	fake := &fakeValidator{report: provider.Report{
		Identity: map[string]string{"account": "123456789012"},
		Checks: []provider.Check{
			{Name: "authentication", Status: provider.CheckPassed},
			{Name: "permission eks:CreateCluster", Status: provider.CheckPassed, Permission: "eks:CreateCluster"},
		},
	}}
	e := newEnv(t, envOpts{validators: fleet.Validators{provider.AWS: fake}})
	tok := e.token("acme")
	p := e.createAWS("acme", "fleet-one")
	item := "/organizations/acme/fleet-providers/" + p["id"].(string)

	for _, body := range []string{"", "{}"} {
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		r := e.call("POST", item+"/validate", tok, ct, body)
		if r.status != 200 || r.json["status"] != "valid" {
			t.Fatalf("validate with body %q: %d %s", body, r.status, r.raw)
		}
		for _, f := range []string{"status", "checked_at", "duration_ms", "identity", "checks", "missing_permissions"} {
			if _, ok := r.json[f]; !ok {
				t.Errorf("report lacks %q: %s", f, r.raw)
			}
		}
	}
	if fake.gotSecret["aws_access_secret"] != awsSecret {
		t.Fatalf("validator did not receive the stored secret")
	}
	r := e.call("GET", item, tok, "", "")
	if r.json["status"] != "valid" || r.json["validation"] == nil || r.json["last_valid_at"] == nil {
		t.Fatalf("report not stored on the provider: %s", r.raw)
	}
	if got := r.json["validation"].(map[string]any)["identity"].(map[string]any)["account"]; got != "123456789012" {
		t.Fatalf("stored identity = %v", got)
	}

	expectProblem(t, e.call("POST", item+"/validate", tok, "application/json", `{"force":true}`), 400, "force")
	expectProblem(t, e.call("POST", item+"/validate", tok, "text/plain", `x`), 415, "")
	expectProblem(t, e.call("POST", "/organizations/acme/fleet-providers/0193a5d0-0000-7000-8000-000000000000/validate", tok, "", ""), 404, "")

	// A failing report turns the provider invalid and names what is missing.
	fake.report = provider.Report{Checks: []provider.Check{
		{Name: "authentication", Status: provider.CheckPassed},
		{Name: "permission eks:CreateCluster", Status: provider.CheckFailed, Permission: "eks:CreateCluster"},
	}, MissingPermissions: []string{"eks:CreateCluster"}}
	r = e.call("POST", item+"/validate", tok, "", "")
	if r.json["status"] != "invalid" {
		t.Fatalf("want invalid: %s", r.raw)
	}
	if r := e.call("GET", item, tok, "", ""); r.json["status"] != "invalid" {
		t.Fatalf("stored status %v, want invalid", r.json["status"])
	}
	e.assertNoSecretsLeaked(t)
}

func TestValidateWithoutValidatorIs501(t *testing.T) {
	e := newEnv(t)
	tok := e.token("acme")
	r := e.post("acme", tok, `{"identifier":"gcp-fleet","provider_type":"gcp","configuration":{"service_account_key":`+gcpKeyJSON(t)+`}}`)
	r = e.call("POST", "/organizations/acme/fleet-providers/"+r.json["id"].(string)+"/validate", tok, "", "")
	expectProblem(t, r, 501, "")
	if !strings.Contains(r.json["detail"].(string), "gcp") {
		t.Fatalf("501 must name the provider type: %s", r.raw)
	}
}

// TestNoSecretInAnyResponseOrLog runs a full flow with known secrets and proves none of them
// appears in a response body or a log line.
func TestNoSecretInAnyResponseOrLog(t *testing.T) {
	fake := &fakeValidator{report: provider.Report{Checks: []provider.Check{{Name: "authentication", Status: provider.CheckPassed}}}}
	e := newEnv(t, envOpts{validators: fleet.Validators{provider.AWS: fake, provider.Azure: fake, provider.OCI: fake, provider.GCP: fake}})
	tok := e.token("acme")
	bodies := []string{
		awsBody("acme", "aws-fleet", awsSecret),
		`{"identifier":"azure-fleet","provider_type":"azure","configuration":{"tenant_id":"11111111-2222-3333-4444-555555555555","client_id":"21111111-2222-3333-4444-555555555555","client_secret":"` + azureSecret + `","subscription_id":"31111111-2222-3333-4444-555555555555"}}`,
		`{"identifier":"gcp-fleet","provider_type":"gcp","configuration":{"service_account_key":` + gcpKeyJSON(t) + `}}`,
		`{"identifier":"oci-fleet","provider_type":"oci","configuration":` + ociConfig(t, ociPassSuper) + `}`,
	}
	for _, b := range bodies {
		r := e.post("acme", tok, b)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		item := "/organizations/acme/fleet-providers/" + r.json["id"].(string)
		e.call("GET", item, tok, "", "")
		e.call("POST", item+"/validate", tok, "", "")
		e.post("acme", tok, b) // duplicate: 409 path
		e.call("PATCH", item, tok, "application/json", `{"configuration":`+configOf(t, b)+`}`)
	}
	e.call("GET", "/organizations/acme/fleet-providers", tok, "", "")
	// Invalid requests carrying secrets must not echo them either.
	e.post("acme", tok, `{"identifier":"x","provider_type":"aws","configuration":{"aws_access_key":"`+awsKeyID+`","aws_access_secret":"`+awsSecret+`","oops":1}}`)
	e.post("acme", tok, `{"identifier":"azure-bad","provider_type":"azure","configuration":{"tenant_id":"bad","client_id":"bad","client_secret":"`+azureSecret+`","subscription_id":"bad"}}`)
	e.post("acme", tok, `{"identifier":"aws-badsecret","provider_type":"aws","configuration":{"aws_access_key":"`+awsKeyID+`","aws_access_secret":"`+awsSecret+`!!"}}`)
	e.assertNoSecretsLeaked(t, gcpPrivateKeyMarker)
	if !strings.Contains(e.logs.String(), `"request_id"`) || !strings.Contains(e.logs.String(), `"organization":"acme"`) || !strings.Contains(e.logs.String(), `"provider_id"`) {
		t.Fatalf("log lines must carry request id, org and provider id:\n%s", e.logs.String())
	}
}

func (e *env) assertNoSecretsLeaked(t *testing.T, extra ...string) {
	t.Helper()
	secrets := append([]string{awsSecret, awsSecret2, azureSecret, ociPassSuper, "BEGIN RSA", "MII"}, extra...)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range secrets {
		for _, b := range e.bodies {
			if strings.Contains(b, s) {
				t.Fatalf("secret %.6q... appears in a response body: %.300s", s, b)
			}
		}
		if strings.Contains(e.logs.String(), s) {
			t.Fatalf("secret %.6q... appears in the logs", s)
		}
	}
}

func configOf(t *testing.T, body string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return string(m["configuration"])
}

var testRSAKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func pkcs8PEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func gcpKey() map[string]any {
	return map[string]any{
		"type":           "service_account",
		"project_id":     "acme-fleet-prod",
		"private_key_id": "0123456789abcdef0123456789abcdef01234567",
		"private_key":    pkcs8PEM(testRSAKey),
		"client_email":   "fleet@acme-fleet-prod.iam.gserviceaccount.com",
		"client_id":      "112233445566778899",
		"auth_uri":       "https://accounts.google.com/o/oauth2/auth",
		"token_uri":      "https://oauth2.googleapis.com/token",
	}
}

func gcpKeyJSON(t *testing.T) string {
	b, _ := json.Marshal(gcpKey())
	return string(b)
}

func gcpKeyWith(t *testing.T, field, value string) string {
	k := gcpKey()
	k[field] = value
	b, _ := json.Marshal(k)
	return string(b)
}

func fingerprint(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := md5.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}

// ociConfig is a valid OCI configuration; with a passphrase the key is PEM-encrypted with it.
func ociConfig(t *testing.T, passphrase string) string {
	t.Helper()
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testRSAKey)}
	cfg := map[string]string{
		"user_ocid":    "ocid1.user.oc1..aaaaaaaaexampleuserocid000000001",
		"tenancy_ocid": "ocid1.tenancy.oc1..aaaaaaaaexampletenancy00000001",
		"fingerprint":  fingerprint(&testRSAKey.PublicKey),
		"region":       "eu-frankfurt-1",
	}
	if passphrase != "" {
		var err error
		//nolint:staticcheck // the legacy format is what OCI's documentation produces
		block, err = x509.EncryptPEMBlock(rand.Reader, block.Type, block.Bytes, []byte(passphrase), x509.PEMCipherAES256)
		if err != nil {
			t.Fatal(err)
		}
		cfg["private_key_passphrase"] = passphrase
	}
	cfg["private_key"] = string(pem.EncodeToMemory(block))
	b, _ := json.Marshal(cfg)
	return string(b)
}

func ociConfigWrongFingerprint(t *testing.T) string {
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	return strings.Replace(ociConfig(t, ""), fingerprint(&testRSAKey.PublicKey), fingerprint(&other.PublicKey), 1)
}

var _ = time.Second
