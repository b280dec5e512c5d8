package azureval

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/testenv"
	"github.com/streamtime/fleet-providers/shared/validate/validatetest"
)

const (
	tenantID = "11111111-1111-1111-1111-111111111111"
	clientID = "22222222-2222-2222-2222-222222222222"
	subID    = "33333333-3333-3333-3333-333333333333"
	// Distinctive values so a leak into the report is easy to spot.
	clientSecret = "s3cr3t-Client-Value~xyz"
	accessToken  = "tok-ISSUED-only-to-the-right-secret"
	armAudience  = "https://management.azure.com"
)

// fakeAzure is Entra ID and ARM on one TLS server. It checks what the real SDK sends: the client
// id and secret on the token request, and the token it issued on every ARM call.
type fakeAzure struct {
	srv    *httptest.Server
	grants []grant
	// latency delays every answer; armLatency only ARM's.
	latency, armLatency time.Duration
	// status overrides the answer of an ARM route ("subscription", "permissions", "aks").
	status map[string]int
	code   map[string]string

	calls       atomic.Int64
	tokenCalls  atomic.Int64
	mu          sync.Mutex
	armUnauthed []string
}

func newFakeAzure(t testing.TB) *fakeAzure {
	f := &fakeAzure{
		grants: []grant{{Actions: permissions.Names(permissions.Azure)}},
		status: map[string]int{},
		code:   map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := f.srv.URL + "/" + r.PathValue("tenant")
		writeJSON(w, 200, map[string]any{
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"issuer":                 base + "/v2.0",
		})
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		f.tokenCalls.Add(1)
		if err := r.ParseForm(); err != nil {
			writeJSON(w, 400, map[string]any{"error": "invalid_request"})
			return
		}
		if r.PathValue("tenant") != tenantID || r.PostForm.Get("grant_type") != "client_credentials" ||
			// MSAL adds the OIDC scopes to the one asked for.
			!slices.Contains(strings.Fields(r.PostForm.Get("scope")), armAudience+"/.default") {
			writeJSON(w, 400, map[string]any{"error": "invalid_request", "error_description": "AADSTS90002: unexpected request"})
			return
		}
		if r.PostForm.Get("client_id") != clientID || r.PostForm.Get("client_secret") != clientSecret {
			writeJSON(w, 401, map[string]any{
				"error":             "invalid_client",
				"error_description": "AADSTS7000215: Invalid client secret provided.",
				"error_codes":       []int{7000215},
			})
			return
		}
		writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": accessToken})
	})
	mux.HandleFunc("GET /subscriptions/{sub}", f.arm("subscription", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"subscriptionId": r.PathValue("sub"), "displayName": "Fleet Production", "state": "Enabled"})
	}))
	mux.HandleFunc("GET /subscriptions/{sub}/providers/Microsoft.Authorization/permissions", f.arm("permissions", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("api-version") != permissionsAPIVersion {
			writeJSON(w, 400, armError("InvalidApiVersionParameter"))
			return
		}
		writeJSON(w, 200, map[string]any{"value": f.grants})
	}))
	mux.HandleFunc("GET /subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters", f.arm("aks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"value": []any{}})
	}))
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		d := f.latency
		if strings.HasPrefix(r.URL.Path, "/subscriptions/") {
			d += f.armLatency
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// arm wraps an ARM route: the bearer token must be the one issued, the subscription ours.
func (f *fakeAzure) arm(route string, ok http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+accessToken {
			f.mu.Lock()
			f.armUnauthed = append(f.armUnauthed, r.URL.Path)
			f.mu.Unlock()
			writeJSON(w, 401, armError("InvalidAuthenticationToken"))
			return
		}
		if r.PathValue("sub") != subID {
			writeJSON(w, 404, armError("SubscriptionNotFound"))
			return
		}
		if s := f.status[route]; s != 0 {
			writeJSON(w, s, armError(f.code[route]))
			return
		}
		ok(w, r)
	}
}

func armError(code string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": "fake " + code}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func testCloud(base string) cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: base + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: base, Audience: armAudience},
		},
	}
}

func (f *fakeAzure) validator(timeout time.Duration) *Validator {
	return New(Options{Cloud: testCloud(f.srv.URL), Transport: f.srv.Client(), PerCallTimeout: timeout})
}

func azureProvider() *provider.Provider {
	return &provider.Provider{
		ID:   "p1",
		Type: provider.Azure,
		Config: map[string]any{
			"tenant_id":       tenantID,
			"client_id":       clientID,
			"subscription_id": subID,
		},
	}
}

func goodSecret() map[string]string { return map[string]string{"client_secret": clientSecret} }

// assertShape checks what every report must have, whatever happened: every check listed once,
// and neither the secret nor the token anywhere in it.
func assertShape(t *testing.T, r provider.Report) {
	t.Helper()
	want := 3 + len(permissions.Azure)
	if len(r.Checks) != want {
		t.Errorf("%d checks, want %d: %+v", len(r.Checks), want, r.Checks)
	}
	for _, p := range permissions.Azure {
		validatetest.Check(t, r, PermissionCheckPrefix+p.Name)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{clientSecret, accessToken} {
		if strings.Contains(string(raw), s) {
			t.Errorf("report contains a secret: %s", raw)
		}
	}
	if r.MissingPermissions == nil || r.Identity == nil {
		t.Error("nil list or map in report")
	}
}

func TestValidateValid(t *testing.T) {
	f := newFakeAzure(t)
	r := f.validator(5*time.Second).Validate(context.Background(), azureProvider(), goodSecret())
	assertShape(t, r)
	if r.Status != provider.StatusValid {
		t.Fatalf("status %s, want valid: %+v", r.Status, r.Checks)
	}
	for _, c := range r.Checks {
		if c.Status != provider.CheckPassed {
			t.Errorf("check %s = %s (%s)", c.Name, c.Status, c.Message)
		}
	}
	if len(r.MissingPermissions) != 0 || r.Remediation != "" {
		t.Errorf("missing %v, remediation %q", r.MissingPermissions, r.Remediation)
	}
	wantID := map[string]string{"tenant_id": tenantID, "client_id": clientID, "subscription_id": subID, "subscription_name": "Fleet Production"}
	for k, v := range wantID {
		if r.Identity[k] != v {
			t.Errorf("identity[%s] = %q, want %q", k, r.Identity[k], v)
		}
	}
	// One token for all ARM calls: the credential's cache is shared, not raced for.
	if n := f.tokenCalls.Load(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	if len(f.armUnauthed) != 0 {
		t.Errorf("ARM calls without the issued token: %v", f.armUnauthed)
	}
}

func TestValidateWrongSecret(t *testing.T) {
	f := newFakeAzure(t)
	r := f.validator(5*time.Second).Validate(context.Background(), azureProvider(), map[string]string{"client_secret": "not-the-secret"})
	assertShape(t, r)
	if r.Status != provider.StatusInvalid {
		t.Fatalf("status %s, want invalid", r.Status)
	}
	auth := validatetest.Check(t, r, CheckAuthentication)
	if auth.Status != provider.CheckFailed || !strings.Contains(auth.Message, "AADSTS7000215") {
		t.Errorf("authentication = %+v", auth)
	}
	if len(r.MissingPermissions) != 0 {
		t.Errorf("missing permissions %v after a failed authentication; nothing was checked", r.MissingPermissions)
	}
	if strings.Contains(validatetest.MustJSON(t, r), "not-the-secret") {
		t.Error("report contains the submitted secret")
	}
}

func TestValidateMissingPermission(t *testing.T) {
	const (
		join = "Microsoft.Network/virtualNetworks/subnets/join/action"
		del  = "Microsoft.ContainerService/managedClusters/delete"
	)
	cases := []struct {
		name    string
		grants  []grant
		missing string
	}{
		{"action absent", []grant{{Actions: without(permissions.Names(permissions.Azure), join)}}, join},
		{"excluded by notActions", []grant{
			{Actions: []string{"Microsoft.ContainerService/*", "Microsoft.Network/*", "*/read", "Microsoft.Resources/*", "Microsoft.ManagedIdentity/*"},
				NotActions: []string{"Microsoft.ContainerService/managedClusters/delete"}},
			{Actions: []string{"*/read"}},
		}, del},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAzure(t)
			f.grants = tc.grants
			r := f.validator(5*time.Second).Validate(context.Background(), azureProvider(), goodSecret())
			assertShape(t, r)
			if r.Status != provider.StatusInvalid {
				t.Fatalf("status %s, want invalid: %+v", r.Status, r.Checks)
			}
			if !slices.Equal(r.MissingPermissions, []string{tc.missing}) {
				t.Errorf("missing = %v, want [%s]", r.MissingPermissions, tc.missing)
			}
			if c := validatetest.Check(t, r, PermissionCheckPrefix+tc.missing); c.Status != provider.CheckFailed {
				t.Errorf("check = %+v", c)
			}
			if !strings.Contains(r.Remediation, tc.missing) || !strings.Contains(r.Remediation, "az role") {
				t.Errorf("remediation does not grant %s:\n%s", tc.missing, r.Remediation)
			}
		})
	}
}

func TestValidateARMAnswers(t *testing.T) {
	cases := []struct {
		route, code string
		status      int
		check       string
		want        provider.CheckStatus
		report      provider.Status
	}{
		{"permissions", "AuthorizationFailed", 403, PermissionCheckPrefix + permissions.Azure[0].Name, provider.CheckUnknown, provider.StatusUnverified},
		{"permissions", "InternalServerError", 500, PermissionCheckPrefix + permissions.Azure[0].Name, provider.CheckError, provider.StatusError},
		{"aks", "AuthorizationFailed", 403, CheckProbeAKSList, provider.CheckFailed, provider.StatusInvalid},
		{"aks", "MissingSubscriptionRegistration", 409, CheckProbeAKSList, provider.CheckFailed, provider.StatusInvalid},
		{"aks", "ServiceUnavailable", 503, CheckProbeAKSList, provider.CheckError, provider.StatusError},
		{"subscription", "SubscriptionNotFound", 404, CheckSubscription, provider.CheckFailed, provider.StatusInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.route+"_"+tc.code, func(t *testing.T) {
			f := newFakeAzure(t)
			f.status[tc.route], f.code[tc.route] = tc.status, tc.code
			r := f.validator(5*time.Second).Validate(context.Background(), azureProvider(), goodSecret())
			assertShape(t, r)
			if c := validatetest.Check(t, r, tc.check); c.Status != tc.want {
				t.Errorf("%s = %+v, want %s", tc.check, c, tc.want)
			}
			if r.Status != tc.report {
				t.Errorf("report status %s, want %s", r.Status, tc.report)
			}
		})
	}
}

func TestValidateUnreachable(t *testing.T) {
	base := "https://" + testenv.ClosedAddr
	v := New(Options{Cloud: testCloud(base), Transport: &http.Client{}, PerCallTimeout: 2 * time.Second})
	start := time.Now()
	r := v.Validate(context.Background(), azureProvider(), goodSecret())
	assertShape(t, r)
	if r.Status != provider.StatusError {
		t.Fatalf("status %s, want error: %+v", r.Status, r.Checks)
	}
	if c := validatetest.Check(t, r, CheckAuthentication); c.Status != provider.CheckError {
		t.Errorf("authentication = %+v", c)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestValidateSlow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		ctx     time.Duration
	}{
		{"per-call deadline", 150 * time.Millisecond, time.Minute},
		{"overall deadline", time.Minute, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAzure(t)
			f.latency = 10 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctx)
			defer cancel()
			start := time.Now()
			r := f.validator(tc.timeout).Validate(ctx, azureProvider(), goodSecret())
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %s, deadline was %s", d, min(tc.timeout, tc.ctx))
			}
			assertShape(t, r)
			if r.Status != provider.StatusError {
				t.Errorf("status %s, want error: %+v", r.Status, r.Checks)
			}
		})
	}
}

// A slow ARM (token fine) gives error checks, not failures.
func TestValidateSlowARM(t *testing.T) {
	f := newFakeAzure(t)
	f.armLatency = 10 * time.Second
	r := f.validator(300*time.Millisecond).Validate(context.Background(), azureProvider(), goodSecret())
	assertShape(t, r)
	if r.Status != provider.StatusError {
		t.Fatalf("status %s: %+v", r.Status, r.Checks)
	}
	if c := validatetest.Check(t, r, CheckAuthentication); c.Status != provider.CheckPassed {
		t.Errorf("authentication = %+v", c)
	}
	for _, name := range []string{CheckSubscription, CheckProbeAKSList, PermissionCheckPrefix + permissions.Azure[0].Name} {
		if c := validatetest.Check(t, r, name); c.Status != provider.CheckError {
			t.Errorf("%s = %+v, want error", name, c)
		}
	}
	if len(r.MissingPermissions) != 0 {
		t.Errorf("missing %v", r.MissingPermissions)
	}
}

func TestValidateIncompleteConfiguration(t *testing.T) {
	f := newFakeAzure(t)
	r := f.validator(time.Second).Validate(context.Background(), azureProvider(), map[string]string{})
	assertShape(t, r)
	if r.Status != provider.StatusInvalid || f.calls.Load() != 0 {
		t.Errorf("status %s after %d calls", r.Status, f.calls.Load())
	}
	if c := validatetest.Check(t, r, CheckAuthentication); !strings.Contains(c.Message, "client_secret") {
		t.Errorf("authentication = %+v", c)
	}
}

func TestMatchAction(t *testing.T) {
	cases := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.ContainerService/managedClusters/read", true},
		{"*/read", "Microsoft.ContainerService/managedClusters/read", true},
		{"*/read", "Microsoft.ContainerService/managedClusters/write", false},
		{"Microsoft.ContainerService/*", "Microsoft.ContainerService/managedClusters/agentPools/write", true},
		{"Microsoft.ContainerService/*", "Microsoft.Network/virtualNetworks/read", false},
		{"microsoft.containerservice/MANAGEDCLUSTERS/read", "Microsoft.ContainerService/managedClusters/read", true},
		{"Microsoft.ContainerService/managedClusters/*/read", "Microsoft.ContainerService/managedClusters/agentPools/read", true},
		{"Microsoft.ContainerService/managedClusters/*/read", "Microsoft.ContainerService/managedClusters/read", false},
		{"Microsoft.Network/*/join/action", "Microsoft.Network/virtualNetworks/subnets/join/action", true},
		{"Microsoft.ContainerService/managedClusters/read", "Microsoft.ContainerService/managedClusters/readx", false},
		{"Microsoft.ContainerService/managedClusters/read", "Microsoft.ContainerService/managedClusters/rea", false},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"", "x", false},
		{"**", "", true},
	}
	for _, tc := range cases {
		if got := matchAction(tc.pattern, tc.action); got != tc.want {
			t.Errorf("matchAction(%q, %q) = %v, want %v", tc.pattern, tc.action, got, tc.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	const read = "Microsoft.ContainerService/managedClusters/read"
	grants := []grant{
		{Actions: []string{"Microsoft.ContainerService/*"}, NotActions: []string{"*/read"}},
	}
	if ok, ex := allowed(grants, read); ok || ex != "*/read" {
		t.Errorf("allowed = %v, %q; want excluded by */read", ok, ex)
	}
	// NotActions of one role do not take away what another role grants.
	grants = append(grants, grant{Actions: []string{"*/read"}})
	if ok, _ := allowed(grants, read); !ok {
		t.Error("second role's grant ignored")
	}
	if ok, ex := allowed(nil, read); ok || ex != "" {
		t.Errorf("allowed(nil) = %v, %q", ok, ex)
	}
}

func without(list []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == drop })
}

// Discovery, token and then the ARM calls together: 3 × latency, where one after another would
// take 5 × latency.
func TestValidateRunsChecksConcurrently(t *testing.T) {
	const latency = 300 * time.Millisecond
	f := newFakeAzure(t)
	f.latency = latency
	start := time.Now()
	r := f.validator(5*time.Second).Validate(context.Background(), azureProvider(), goodSecret())
	if r.Status != provider.StatusValid {
		t.Fatalf("status %s", r.Status)
	}
	if d := time.Since(start); d > 4*latency {
		t.Errorf("took %s for %d calls of %s each: ARM checks not concurrent", d, f.calls.Load(), latency)
	}
}

// BenchmarkValidateAzure reports a validation's wall time against one call's latency. Entra ID
// discovery, the token and the ARM calls are necessarily sequential (3 round trips); the ARM
// checks run in parallel, so the ratio stays ≈3 however many permissions are checked.
func BenchmarkValidateAzure(b *testing.B) {
	const latency = 50 * time.Millisecond
	f := newFakeAzure(b)
	f.latency = latency
	v := f.validator(5 * time.Second)
	p := azureProvider()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if r := v.Validate(context.Background(), p, goodSecret()); r.Status != provider.StatusValid {
			b.Fatalf("status %s: %+v", r.Status, r.Checks)
		}
	}
	perOp := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(perOp.Milliseconds()), "validate_ms")
	b.ReportMetric(float64(latency.Milliseconds()), "slowest_call_ms")
	b.ReportMetric(float64(perOp)/float64(latency), "x_slowest_call")
	// The slowest single check is three calls deep: authority discovery, token, then its ARM call.
	b.ReportMetric(float64(perOp)/float64(3*latency), "x-slowest-check")
	b.ReportMetric(float64(f.calls.Load())/float64(b.N), "calls/op")
}
