package gcpval

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/testenv"
	"github.com/streamtime/fleet-providers/shared/validate"
	"github.com/streamtime/fleet-providers/shared/validate/validatetest"
)

var _ fleet.Validator = (*Validator)(nil)

func gcpProvider() *provider.Provider {
	return &provider.Provider{ID: "p1", Type: provider.GCP, Config: map[string]any{"project_id": testProject}}
}

func secretFor(key string) map[string]string { return map[string]string{SecretKey: key} }

// run validates with the registered key under a 10s deadline and checks the report leaks nothing.
func run(t *testing.T, v *Validator, secret map[string]string) provider.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := v.Validate(ctx, gcpProvider(), secret)
	assertNoSecrets(t, r)
	return r
}

// assertNoSecrets fails if the report's JSON holds any part of a private key, the access token or
// a JWT (the signed assertion).
func assertNoSecrets(t *testing.T, r provider.Report) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	forbidden := []string{testToken, "PRIVATE KEY", "eyJ"}
	for _, k := range testKeys() {
		for _, line := range strings.Split(keyPEM(k), "\n")[1:4] {
			forbidden = append(forbidden, line)
		}
	}
	for _, x := range forbidden {
		if strings.Contains(s, x) {
			t.Errorf("report contains a secret (%.12q…):\n%s", x, s)
		}
	}
}

func permissionChecks(r provider.Report) []provider.Check {
	var out []provider.Check
	for _, c := range r.Checks {
		if c.Permission != "" {
			out = append(out, c)
		}
	}
	return out
}

func TestValidateAllGranted(t *testing.T) {
	f := newFake(t, fakeConfig{})
	r := run(t, f.validator(2*time.Second), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))

	if r.Status != provider.StatusValid {
		t.Fatalf("status %s, want valid: %+v", r.Status, r.Checks)
	}
	if want := 1 + len(permissions.GCP) + 1; len(r.Checks) != want {
		t.Errorf("%d checks, want %d", len(r.Checks), want)
	}
	for _, c := range r.Checks {
		if c.Status != provider.CheckPassed {
			t.Errorf("check %s: %s %q", c.Name, c.Status, c.Message)
		}
	}
	for i, c := range permissionChecks(r) {
		p := permissions.GCP[i].Name
		if c.Permission != p || c.Name != validate.PermissionCheck(p) {
			t.Errorf("permission check %d is %q/%q, want %s", i, c.Name, c.Permission, p)
		}
	}
	wantID := map[string]string{"client_email": testEmail, "project_id": testProject, "private_key_id": testKeyID}
	for k, v := range wantID {
		if r.Identity[k] != v {
			t.Errorf("identity %s = %q, want %q", k, r.Identity[k], v)
		}
	}
	if len(r.MissingPermissions) != 0 || r.Remediation != "" || len(r.Warnings) != 0 {
		t.Errorf("missing %v, remediation %q, warnings %v; want none", r.MissingPermissions, r.Remediation, r.Warnings)
	}
	// One token exchange serves both API calls.
	if f.count("token") != 1 || f.count("iam") != 1 || f.count("list") != 1 {
		t.Errorf("calls token=%d iam=%d list=%d, want 1 each", f.count("token"), f.count("iam"), f.count("list"))
	}
}

func TestValidateWrongKey(t *testing.T) {
	f := newFake(t, fakeConfig{})
	r := run(t, f.validator(2*time.Second), secretFor(keyJSON(unknownKey(), provider.GoogleTokenURL)))

	if r.Status != provider.StatusInvalid {
		t.Fatalf("status %s, want invalid: %+v", r.Status, r.Checks)
	}
	a := validatetest.Check(t, r, CheckAuthentication)
	if a.Status != provider.CheckFailed || !strings.Contains(a.Message, "invalid_grant") || !strings.Contains(a.Message, "rejected") {
		t.Errorf("authentication: %s %q", a.Status, a.Message)
	}
	// Permissions are not reported as missing: they were not checked.
	for _, c := range r.Checks[1:] {
		if c.Status != provider.CheckUnknown || c.Message != "not checked: authentication failed" {
			t.Errorf("%s: %s %q, want unknown, not checked", c.Name, c.Status, c.Message)
		}
	}
	if len(r.MissingPermissions) != 0 {
		t.Errorf("missing %v, want none", r.MissingPermissions)
	}
	if f.count("token") != 1 || f.count("iam")+f.count("list") != 0 {
		t.Errorf("calls token=%d iam=%d list=%d, want one exchange and no API call", f.count("token"), f.count("iam"), f.count("list"))
	}
}

func TestValidateMissingPermission(t *testing.T) {
	const gone = "container.clusters.delete"
	granted := slices.DeleteFunc(permissions.Names(permissions.GCP), func(s string) bool { return s == gone })
	f := newFake(t, fakeConfig{granted: granted})
	r := run(t, f.validator(2*time.Second), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))

	if r.Status != provider.StatusInvalid {
		t.Fatalf("status %s, want invalid", r.Status)
	}
	if !slices.Equal(r.MissingPermissions, []string{gone}) {
		t.Errorf("missing %v, want [%s]", r.MissingPermissions, gone)
	}
	if c := validatetest.Check(t, r, validate.PermissionCheck(gone)); c.Status != provider.CheckFailed || !strings.Contains(c.Message, testProject) {
		t.Errorf("%s: %s %q", c.Name, c.Status, c.Message)
	}
	for _, want := range []string{
		"gcloud iam roles update " + permissions.GCPRoleID + " --project=" + testProject,
		"--add-permissions=" + gone,
		"gcloud projects add-iam-policy-binding " + testProject,
		"serviceAccount:" + testEmail,
	} {
		if !strings.Contains(r.Remediation, want) {
			t.Errorf("remediation lacks %q:\n%s", want, r.Remediation)
		}
	}
	if c := validatetest.Check(t, r, CheckProbe); c.Status != provider.CheckPassed {
		t.Errorf("probe: %s %q", c.Status, c.Message)
	}
}

// The key's token_uri is never used, whether it names another route or another host.
func TestValidateIgnoresKeyTokenURI(t *testing.T) {
	other := newFake(t, fakeConfig{})
	f := newFake(t, fakeConfig{})
	for name, uri := range map[string]string{
		"other route": f.srv.URL + "/decoy/token",
		"other host":  other.srv.URL + "/token",
	} {
		t.Run(name, func(t *testing.T) {
			before := f.count("token")
			r := run(t, f.validator(2*time.Second), secretFor(keyJSON(registeredKey(), uri)))
			if r.Status != provider.StatusValid {
				t.Fatalf("status %s: %+v", r.Status, r.Checks)
			}
			if f.count("token") != before+1 || f.count("decoy") != 0 || other.count("token")+other.count("decoy") != 0 {
				t.Errorf("token calls: configured %d, decoy %d, other host %d", f.count("token")-before, f.count("decoy"), other.count("token"))
			}
		})
	}
}

// An external_account configuration could make the SDK fetch URLs or run commands; it is refused
// before any request.
func TestValidateRefusesExternalAccount(t *testing.T) {
	f := newFake(t, fakeConfig{})
	ext, _ := json.Marshal(map[string]any{
		"type":                              "external_account",
		"audience":                          "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x",
		"subject_token_type":                "urn:ietf:params:oauth:token-type:jwt",
		"token_url":                         f.srv.URL + "/decoy/sts",
		"credential_source":                 map[string]any{"url": f.srv.URL + "/decoy/source"},
		"service_account_impersonation_url": f.srv.URL + "/decoy/impersonate",
	})
	r := run(t, f.validator(2*time.Second), secretFor(string(ext)))

	a := validatetest.Check(t, r, CheckAuthentication)
	if r.Status != provider.StatusInvalid || a.Status != provider.CheckFailed || !strings.Contains(a.Message, "service_account") {
		t.Errorf("status %s, authentication %s %q", r.Status, a.Status, a.Message)
	}
	for _, route := range []string{"token", "iam", "list", "certs", "decoy"} {
		if n := f.count(route); n != 0 {
			t.Errorf("%d calls to %s, want none", n, route)
		}
	}
}

func TestValidateNoKey(t *testing.T) {
	for name, secret := range map[string]map[string]string{
		"nil secret": nil,
		"empty key":  secretFor(""),
		"not json":   secretFor("{not json"),
		"bad pem":    secretFor(strings.Replace(keyJSON(registeredKey(), provider.GoogleTokenURL), "MII", "xyz", 1)),
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, New(Options{TokenURL: "http://127.0.0.1:1/token"}), secret)
			if a := validatetest.Check(t, r, CheckAuthentication); r.Status != provider.StatusInvalid || a.Status != provider.CheckFailed {
				t.Errorf("status %s, authentication %s %q", r.Status, a.Status, a.Message)
			}
		})
	}
}

// closedURL is a loopback URL nothing listens on.
func closedURL(*testing.T) string { return "http://" + testenv.ClosedAddr }

func TestValidateTokenEndpointUnreachable(t *testing.T) {
	f := newFake(t, fakeConfig{})
	v := f.validator(2 * time.Second)
	v.opts.TokenURL = closedURL(t) + "/token"
	start := time.Now()
	r := run(t, v, secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))

	if r.Status != provider.StatusError {
		t.Fatalf("status %s, want error: %+v", r.Status, r.Checks)
	}
	if a := validatetest.Check(t, r, CheckAuthentication); a.Status != provider.CheckError || !strings.Contains(a.Message, "could not reach") {
		t.Errorf("authentication: %s %q", a.Status, a.Message)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

// "Google could not answer" is error, never failed: 5xx and 429 from the token endpoint.
func TestValidateTokenEndpointServerError(t *testing.T) {
	for _, code := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		f := newFake(t, fakeConfig{status: map[string]int{"token": code}})
		r := run(t, f.validator(2*time.Second), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))
		if a := validatetest.Check(t, r, CheckAuthentication); r.Status != provider.StatusError || a.Status != provider.CheckError {
			t.Errorf("HTTP %d: status %s, authentication %s %q", code, r.Status, a.Status, a.Message)
		}
	}
}

// A slow route costs one per-call timeout, not the server's delay, and reads as error.
func TestValidateSlowServer(t *testing.T) {
	const perCall, sleep = 300 * time.Millisecond, 5 * time.Second
	for route, checkName := range map[string]string{
		"token": CheckAuthentication,
		"iam":   validate.PermissionCheck(permissions.GCP[0].Name),
		"list":  CheckProbe,
	} {
		t.Run(route, func(t *testing.T) {
			f := newFake(t, fakeConfig{delay: map[string]time.Duration{route: sleep}})
			start := time.Now()
			r := run(t, f.validator(perCall), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))
			took := time.Since(start)
			if r.Status != provider.StatusError {
				t.Errorf("status %s, want error: %+v", r.Status, r.Checks)
			}
			if c := validatetest.Check(t, r, checkName); c.Status != provider.CheckError {
				t.Errorf("%s: %s %q", c.Name, c.Status, c.Message)
			}
			// At most the token exchange and one API call, each bounded by perCall.
			if took > 2*perCall+500*time.Millisecond {
				t.Errorf("Validate took %s; the server sleeps %s, per-call timeout %s", took, sleep, perCall)
			}
		})
	}
}

// The caller's deadline bounds everything, even with long per-call timeouts.
func TestValidateHonoursContextDeadline(t *testing.T) {
	f := newFake(t, fakeConfig{delay: map[string]time.Duration{"token": 5 * time.Second}})
	v := f.validator(8 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := v.Validate(ctx, gcpProvider(), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))
	if took := time.Since(start); took > time.Second {
		t.Errorf("Validate took %s with a 400ms deadline", took)
	}
	if r.Status != provider.StatusError {
		t.Errorf("status %s, want error", r.Status)
	}
	assertNoSecrets(t, r)
}

// A redirect to another host is not followed: it would carry the assertion there.
func TestValidateRefusesCrossHostRedirect(t *testing.T) {
	elsewhere := newFake(t, fakeConfig{})
	f := newFake(t, fakeConfig{redirect: elsewhere.srv.URL + "/token"})
	r := run(t, f.validator(2*time.Second), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))
	if a := validatetest.Check(t, r, CheckAuthentication); r.Status != provider.StatusError || a.Status != provider.CheckError {
		t.Errorf("status %s, authentication %s %q", r.Status, a.Status, a.Message)
	}
	if n := elsewhere.count("token"); n != 0 {
		t.Errorf("redirect followed: %d calls to the other host", n)
	}
}

// testIamPermissions refused: the permissions are unknown, not missing.
func TestValidateTestIAMDenied(t *testing.T) {
	f := newFake(t, fakeConfig{status: map[string]int{"iam": http.StatusForbidden}})
	r := run(t, f.validator(2*time.Second), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))
	if r.Status != provider.StatusUnverified {
		t.Errorf("status %s, want unverified", r.Status)
	}
	for _, c := range permissionChecks(r) {
		if c.Status != provider.CheckUnknown || !strings.Contains(c.Message, "HTTP 403") {
			t.Errorf("%s: %s %q", c.Name, c.Status, c.Message)
		}
	}
	if len(r.MissingPermissions) != 0 {
		t.Errorf("missing %v, want none", r.MissingPermissions)
	}
}

// The Kubernetes Engine API disabled in the project: the probe fails and says why.
func TestValidateGKEDisabled(t *testing.T) {
	f := newFake(t, fakeConfig{status: map[string]int{"list": http.StatusForbidden}, reason: map[string]string{"list": "SERVICE_DISABLED"}})
	r := run(t, f.validator(2*time.Second), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))
	c := validatetest.Check(t, r, CheckProbe)
	if r.Status != provider.StatusInvalid || c.Status != provider.CheckFailed || !strings.Contains(c.Message, "SERVICE_DISABLED") {
		t.Errorf("status %s, probe %s %q", r.Status, c.Status, c.Message)
	}
}

func TestValidateWarnsOfKeyExpiry(t *testing.T) {
	f := newFake(t, fakeConfig{notAfter: time.Now().Add(10 * 24 * time.Hour)})
	r := run(t, f.validator(2*time.Second), secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL)))
	if r.Status != provider.StatusValid || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "expires on") {
		t.Errorf("status %s, warnings %q", r.Status, r.Warnings)
	}
}

func TestScrub(t *testing.T) {
	pemKey := keyPEM(registeredKey())
	secrets := secretsOf(saKey{PrivateKey: pemKey}, testToken)
	line := strings.Split(pemKey, "\n")[2]
	for _, in := range []string{
		"token " + testToken + " echoed",
		"body: " + strings.ReplaceAll(pemKey, "\n", `\n`),
		"partial key " + line,
		"assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl&x=1",
	} {
		out := scrub(in, secrets)
		if strings.Contains(out, testToken) || strings.Contains(out, line) || strings.Contains(out, "eyJ") || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("scrub(%.30q…) = %q", in, out)
		}
	}
	if got := scrub(strings.Repeat("é", 1000), nil); len(got) > maxMessage+len("…") {
		t.Errorf("not truncated: %d bytes", len(got))
	}
}

// BenchmarkValidateParallel measures wall time per Validate against a fake that adds a fixed
// latency to each call. The API calls (testIamPermissions, ListClusters, certificates) run
// concurrently once the token exchange is done, so with latency on the API calls only the wall
// time is about one call; with latency on the token endpoint too it is about two (exchange, then
// the APIs), against four for serial calls. no-latency shows the fixed local cost (RSA signing
// and verifying, client set-up) included in the ratios.
func BenchmarkValidateParallel(b *testing.B) {
	const latency = 20 * time.Millisecond
	for name, routes := range map[string][]string{
		"no-latency":  nil,
		"api-latency": {"iam", "list", "certs"},
		"all-latency": {"token", "iam", "list", "certs"},
	} {
		b.Run(name, func(b *testing.B) {
			delay := map[string]time.Duration{}
			for _, r := range routes {
				delay[r] = latency
			}
			f := newFake(b, fakeConfig{delay: delay})
			v := f.validator(2 * time.Second)
			secret := secretFor(keyJSON(registeredKey(), provider.GoogleTokenURL))
			start := time.Now()
			n := 0
			for b.Loop() {
				if r := v.Validate(context.Background(), gcpProvider(), secret); r.Status != provider.StatusValid {
					b.Fatalf("status %s: %+v", r.Status, r.Checks)
				}
				n++
			}
			wall := time.Since(start) / time.Duration(n)
			if len(routes) == 0 {
				return // the fixed cost of signing, verifying and building clients locally
			}
			b.ReportMetric(float64(wall)/float64(latency), "x-slowest-call")
			// The slowest single check is its API call after the token exchange (when that is slow too).
			depth := time.Duration(1)
			if delay["token"] > 0 {
				depth = 2
			}
			b.ReportMetric(float64(wall)/float64(depth*latency), "x-slowest-check")
			b.ReportMetric(float64(wall)/float64(time.Duration(len(routes))*latency), "x-serial-calls")
		})
	}
}
