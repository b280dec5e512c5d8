package provider

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestValidIdentifier(t *testing.T) {
	for _, ok := range []string{"abc", "plf-fleet-manager", "a1b", "0ab", strings.Repeat("a", 63)} {
		if !ValidIdentifier(ok) {
			t.Errorf("%q rejected", ok)
		}
	}
	for _, bad := range []string{"", "ab", "-ab", "ab-", "Abc", "a_b", "a b", "ab.c", strings.Repeat("a", 64), "ábc"} {
		if ValidIdentifier(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSummarize(t *testing.T) {
	c := func(s ...CheckStatus) []Check {
		out := make([]Check, len(s))
		for i, x := range s {
			out[i] = Check{Name: "c", Status: x}
		}
		return out
	}
	cases := []struct {
		checks []Check
		want   Status
	}{
		{c(CheckPassed, CheckPassed), StatusValid},
		{c(CheckPassed, CheckFailed), StatusInvalid},
		{c(CheckPassed, CheckUnknown), StatusUnverified},
		{c(CheckPassed, CheckError), StatusError},
		{c(CheckError, CheckFailed), StatusInvalid}, // a definite refusal outweighs an outage
		{c(CheckUnknown, CheckError), StatusError},
		{nil, StatusError},
	}
	for i, tc := range cases {
		if got := Summarize(tc.checks); got != tc.want {
			t.Errorf("case %d: %s, want %s", i, got, tc.want)
		}
	}
}

func TestParseConfigurationSplitsSecrets(t *testing.T) {
	cfg, err := ParseConfiguration(AWS, json.RawMessage(`{"aws_access_key":"AKIAIOSFODNN7EXAMPLE","aws_access_secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","region":"eu-west-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Secret["aws_access_secret"] == "" || cfg.Public["aws_access_secret"] != nil {
		t.Fatalf("secret not split out: %+v", cfg)
	}
	if cfg.Public["region"] != "eu-west-1" || cfg.Public["aws_access_key"] != "AKIAIOSFODNN7EXAMPLE" {
		t.Fatalf("public fields: %+v", cfg.Public)
	}
	p := &Provider{Config: cfg.Public, SecretFields: cfg.SecretFieldNames()}
	m := p.Masked()
	if m["aws_access_secret"] != Mask {
		t.Fatalf("masked view: %v", m)
	}
	if _, ok := p.Config["aws_access_secret"]; ok {
		t.Fatal("Masked must not change the provider's config")
	}
}

func TestParseConfigurationErrorsNeverQuoteValues(t *testing.T) {
	const secret = "sup3r-s3cret-value-that-must-not-leak"
	inputs := map[Type]string{
		AWS:   `{"aws_access_key":"AKIAIOSFODNN7EXAMPLE","aws_access_secret":"` + secret + `"}`,
		Azure: `{"tenant_id":"` + secret + `","client_id":"x","client_secret":"` + secret + strings.Repeat("x", 1100) + `","subscription_id":"x"}`,
		GCP:   `{"service_account_key":"` + secret + `"}`,
		OCI:   `{"user_ocid":"x","tenancy_ocid":"x","fingerprint":"x","private_key":"` + secret + `","region":"x"}`,
	}
	for typ, in := range inputs {
		_, err := ParseConfiguration(typ, json.RawMessage(in))
		if err == nil {
			t.Fatalf("%s: accepted", typ)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("%s: error quotes the input: %v", typ, err)
		}
	}
}

func TestGCPKeyAsStringOrObjectAndTokenURIPinned(t *testing.T) {
	key := `{"type":"service_account","project_id":"acme-fleet-prod","private_key_id":"0123456789abcdef0123456789abcdef01234567","private_key":` + jsonString(testPEM(t)) + `,"client_email":"fleet@acme-fleet-prod.iam.gserviceaccount.com","token_uri":"https://accounts.google.com/o/oauth2/token"}`
	for _, raw := range []string{key, jsonString(key)} {
		cfg, err := ParseConfiguration(GCP, json.RawMessage(`{"service_account_key":`+raw+`}`))
		if err != nil {
			t.Fatal(err)
		}
		var stored map[string]any
		if err := json.Unmarshal([]byte(cfg.Secret["service_account_key"]), &stored); err != nil {
			t.Fatal(err)
		}
		if stored["token_uri"] != GoogleTokenURL {
			t.Fatalf("token_uri not pinned: %v", stored["token_uri"])
		}
		if cfg.Public["project_id"] != "acme-fleet-prod" {
			t.Fatalf("project_id default: %v", cfg.Public["project_id"])
		}
		shown := cfg.Public["service_account_key"].(map[string]any)
		if shown["private_key"] != Mask {
			t.Fatalf("private key shown: %v", shown)
		}
	}
}

func TestReportCloneIsDeep(t *testing.T) {
	r := Report{Identity: map[string]string{"a": "1"}, Checks: []Check{{Name: "x"}}, CheckedAt: time.Now()}
	c := r.Clone()
	c.Identity["a"] = "2"
	c.Checks[0].Name = "y"
	if r.Identity["a"] != "1" || r.Checks[0].Name != "x" {
		t.Fatal("clone shares state")
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
