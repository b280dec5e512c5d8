package ocival

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/testenv"
	"github.com/streamtime/fleet-providers/shared/validate/validatetest"
)

const (
	tenancyOCID     = "ocid1.tenancy.oc1..aaaaaaaatenancytenancytenancy"
	userOCID        = "ocid1.user.oc1..aaaaaaaauseruseruseruseruser"
	compartmentOCID = "ocid1.compartment.oc1..aaaaaaaacompartmentcompart"
	region          = "eu-frankfurt-1"
	passphrase      = "pass-PHRASE-never-shown"
)

var (
	keysOnce              sync.Once
	goodKey, otherKey     *rsa.PrivateKey
	goodPEM, encryptedPEM string
	otherPEM              string
)

// keys generates the test keys once per test binary: RSA generation is the slow part.
func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if goodKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		goodPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(goodKey)}))
		otherPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(otherKey)}))
		// Legacy PEM encryption is what `openssl genrsa -aes256` and OCI's own docs produce.
		//nolint:staticcheck
		block, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(goodKey), []byte(passphrase), x509.PEMCipherAES256)
		if err != nil {
			panic(err)
		}
		encryptedPEM = string(pem.EncodeToMemory(block))
	})
}

func fingerprint(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	fp, err := provider.OCIFingerprint(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// fakeOCI serves Identity, Container Engine and Core on one TLS server and, like OCI, accepts
// only requests whose draft-cavage signature verifies with a key registered for the user.
type fakeOCI struct {
	srv     *httptest.Server
	keys    map[string]*rsa.PublicKey // by fingerprint
	latency time.Duration
	// denied routes answer 404 NotAuthorizedOrNotFound, as OCI does for a missing policy.
	denied map[string]bool

	calls      atomic.Int64
	mu         sync.Mutex
	rejections []string
}

func newFakeOCI(t testing.TB) *fakeOCI {
	keys(t)
	f := &fakeOCI{
		keys:   map[string]*rsa.PublicKey{fingerprint(t, goodKey): &goodKey.PublicKey},
		denied: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /20160918/users/{id}", f.signed("users", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != userOCID {
			writeJSON(w, 404, ociError("NotAuthorizedOrNotFound"))
			return
		}
		writeJSON(w, 200, map[string]any{
			"id": userOCID, "compartmentId": tenancyOCID, "name": "streamtime-fleet",
			"description": "fleet automation", "lifecycleState": "ACTIVE", "timeCreated": "2025-01-02T03:04:05.000Z",
		})
	}))
	for route, path := range map[string]string{
		"compartments": "/20160918/compartments",
		"clusters":     "/20180222/clusters",
		"vcns":         "/20160918/vcns",
		"instances":    "/20160918/instances",
		"volumes":      "/20160918/volumes",
	} {
		mux.HandleFunc("GET "+path, f.signed(route, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("compartmentId") == "" {
				writeJSON(w, 400, ociError("MissingParameter"))
				return
			}
			writeJSON(w, 200, []any{})
		}))
	}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		select {
		case <-time.After(f.latency):
		case <-r.Context().Done():
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOCI) signed(route string, ok http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if reason := f.verify(r); reason != "" {
			f.mu.Lock()
			f.rejections = append(f.rejections, route+": "+reason)
			f.mu.Unlock()
			writeJSON(w, 401, ociError("NotAuthenticated"))
			return
		}
		if f.denied[route] {
			writeJSON(w, 404, ociError("NotAuthorizedOrNotFound"))
			return
		}
		ok(w, r)
	}
}

// verify checks an OCI request signature and returns why it is not acceptable, or "".
func (f *fakeOCI) verify(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Signature ")
	if !ok {
		return "no signature"
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(part, "=")
		params[strings.TrimSpace(k)] = strings.Trim(v, `"`)
	}
	if params["algorithm"] != "rsa-sha256" || params["version"] != "1" {
		return "algorithm or version"
	}
	keyID := strings.Split(params["keyId"], "/")
	if len(keyID) != 3 || keyID[0] != tenancyOCID || keyID[1] != userOCID {
		return "keyId names another tenancy or user"
	}
	pub := f.keys[keyID[2]]
	if pub == nil {
		return "fingerprint not registered"
	}
	headers := strings.Fields(params["headers"])
	for _, must := range []string{"date", "(request-target)", "host"} {
		if !slices.Contains(headers, must) {
			return "unsigned " + must
		}
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil || time.Since(date).Abs() > 5*time.Minute {
		return "date missing or skewed"
	}
	lines := make([]string, len(headers))
	for i, h := range headers {
		switch h {
		case "(request-target)":
			lines[i] = h + ": " + strings.ToLower(r.Method) + " " + r.RequestURI
		case "host":
			lines[i] = h + ": " + r.Host
		default:
			lines[i] = h + ": " + r.Header.Get(h)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil {
		return "signature encoding"
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		return "signature does not verify"
	}
	return ""
}

func ociError(code string) map[string]any {
	return map[string]any{"code": code, "message": "fake " + code}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("opc-request-id", "fake-request")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeOCI) validator(timeout time.Duration) *Validator {
	return New(Options{Host: f.srv.URL, HTTPClient: f.srv.Client(), PerCallTimeout: timeout})
}

func ociProvider(t testing.TB, key *rsa.PrivateKey, compartment string) *provider.Provider {
	cfg := map[string]any{
		"user_ocid":    userOCID,
		"tenancy_ocid": tenancyOCID,
		"fingerprint":  fingerprint(t, key),
		"region":       region,
	}
	if compartment != "" {
		cfg["compartment_ocid"] = compartment
	}
	return &provider.Provider{ID: "p1", Type: provider.OCI, Config: cfg}
}

// assertShape checks what every report must have: every check listed once and no key material.
func assertShape(t *testing.T, r provider.Report) {
	t.Helper()
	if want := 1 + len(permissions.OCI); len(r.Checks) != want {
		t.Errorf("%d checks, want %d: %+v", len(r.Checks), want, r.Checks)
	}
	for _, p := range permissions.OCI {
		validatetest.Check(t, r, PermissionCheckPrefix+p.Name)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{passphrase, "PRIVATE KEY", keyBody(goodPEM), keyBody(encryptedPEM), keyBody(otherPEM)} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("report contains key material or passphrase: %s", raw)
		}
	}
	if r.MissingPermissions == nil || r.Identity == nil {
		t.Error("nil list or map in report")
	}
}

// keyBody is a stretch of base64 from the middle of a PEM, enough to recognise it anywhere.
func keyBody(p string) string {
	lines := strings.Split(p, "\n")
	return lines[len(lines)/2]
}

func TestValidateValid(t *testing.T) {
	keys(t)
	for _, tc := range []struct {
		name   string
		secret map[string]string
	}{
		{"plain key", map[string]string{"private_key": goodPEM}},
		{"encrypted key", map[string]string{"private_key": encryptedPEM, "private_key_passphrase": passphrase}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOCI(t)
			r := f.validator(5*time.Second).Validate(context.Background(), ociProvider(t, goodKey, ""), tc.secret)
			assertShape(t, r)
			if r.Status != provider.StatusValid {
				t.Fatalf("status %s: %+v (rejections %v)", r.Status, r.Checks, f.rejections)
			}
			for _, c := range r.Checks {
				if c.Status != provider.CheckPassed {
					t.Errorf("check %s = %s (%s)", c.Name, c.Status, c.Message)
				}
			}
			want := map[string]string{"user_ocid": userOCID, "tenancy_ocid": tenancyOCID, "region": region,
				"compartment_ocid": tenancyOCID, "user_name": "streamtime-fleet"}
			for k, v := range want {
				if r.Identity[k] != v {
					t.Errorf("identity[%s] = %q, want %q", k, r.Identity[k], v)
				}
			}
			if len(r.MissingPermissions) != 0 || r.Remediation != "" {
				t.Errorf("missing %v, remediation %q", r.MissingPermissions, r.Remediation)
			}
			if len(r.Warnings) != 1 {
				t.Errorf("warnings %v, want the probe caveat", r.Warnings)
			}
			if n := f.calls.Load(); n != int64(1+len(permissions.OCI)) {
				t.Errorf("%d calls, want %d", n, 1+len(permissions.OCI))
			}
		})
	}
}

func TestValidateWrongKey(t *testing.T) {
	keys(t)
	for _, tc := range []struct {
		name string
		p    *provider.Provider
	}{
		// The key's own fingerprint, never uploaded to the user.
		{"unregistered key", ociProvider(t, otherKey, "")},
		// A registered fingerprint, but signed with another key: only the server can tell.
		{"key does not match fingerprint", ociProvider(t, goodKey, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOCI(t)
			r := f.validator(5*time.Second).Validate(context.Background(), tc.p, map[string]string{"private_key": otherPEM})
			assertShape(t, r)
			if r.Status != provider.StatusInvalid {
				t.Fatalf("status %s: %+v", r.Status, r.Checks)
			}
			if c := validatetest.Check(t, r, CheckAuthentication); c.Status != provider.CheckFailed || !strings.Contains(c.Message, "NotAuthenticated") {
				t.Errorf("authentication = %+v", c)
			}
			if len(r.MissingPermissions) != 0 {
				t.Errorf("missing %v: an unauthenticated probe proves nothing about the policy", r.MissingPermissions)
			}
			if len(f.rejections) == 0 {
				t.Error("the fake rejected nothing")
			}
		})
	}
}

func TestValidateProbeDenied(t *testing.T) {
	keys(t)
	f := newFakeOCI(t)
	f.denied["vcns"] = true
	const denied = "manage virtual-network-family"
	r := f.validator(5*time.Second).Validate(context.Background(), ociProvider(t, goodKey, compartmentOCID), map[string]string{"private_key": goodPEM})
	assertShape(t, r)
	if r.Status != provider.StatusInvalid {
		t.Fatalf("status %s: %+v", r.Status, r.Checks)
	}
	if c := validatetest.Check(t, r, PermissionCheckPrefix+denied); c.Status != provider.CheckFailed || !strings.Contains(c.Message, "NotAuthorizedOrNotFound") {
		t.Errorf("check = %+v", c)
	}
	if !slices.Equal(r.MissingPermissions, []string{denied}) {
		t.Errorf("missing = %v", r.MissingPermissions)
	}
	want := "Allow group <group> to manage virtual-network-family in compartment id " + compartmentOCID
	if !strings.Contains(r.Remediation, want) {
		t.Errorf("remediation lacks %q:\n%s", want, r.Remediation)
	}
	for _, c := range r.Checks {
		if c.Name != PermissionCheckPrefix+denied && c.Status != provider.CheckPassed {
			t.Errorf("%s = %+v", c.Name, c)
		}
	}
}

func TestValidateUnreachable(t *testing.T) {
	keys(t)
	host := "https://" + testenv.ClosedAddr
	v := New(Options{Host: host, HTTPClient: &http.Client{}, PerCallTimeout: 2 * time.Second})
	start := time.Now()
	r := v.Validate(context.Background(), ociProvider(t, goodKey, ""), map[string]string{"private_key": goodPEM})
	assertShape(t, r)
	if r.Status != provider.StatusError {
		t.Fatalf("status %s: %+v", r.Status, r.Checks)
	}
	for _, c := range r.Checks {
		if c.Status != provider.CheckError {
			t.Errorf("%s = %+v, want error", c.Name, c)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestValidateSlow(t *testing.T) {
	keys(t)
	for _, tc := range []struct {
		name         string
		perCall, ctx time.Duration
	}{
		{"per-call deadline", 150 * time.Millisecond, time.Minute},
		{"overall deadline", time.Minute, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOCI(t)
			f.latency = 10 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctx)
			defer cancel()
			start := time.Now()
			r := f.validator(tc.perCall).Validate(ctx, ociProvider(t, goodKey, ""), map[string]string{"private_key": goodPEM})
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %s", d)
			}
			assertShape(t, r)
			if r.Status != provider.StatusError {
				t.Errorf("status %s: %+v", r.Status, r.Checks)
			}
			if len(r.MissingPermissions) != 0 {
				t.Errorf("missing %v", r.MissingPermissions)
			}
		})
	}
}

func TestValidateUnknownRegion(t *testing.T) {
	keys(t)
	f := newFakeOCI(t)
	p := ociProvider(t, goodKey, "")
	p.Config["region"] = "xx-atlantis-1"
	r := f.validator(time.Second).Validate(context.Background(), p, map[string]string{"private_key": goodPEM})
	assertShape(t, r)
	if r.Status != provider.StatusInvalid {
		t.Fatalf("status %s", r.Status)
	}
	if c := validatetest.Check(t, r, CheckAuthentication); c.Status != provider.CheckFailed || !strings.Contains(c.Message, "xx-atlantis-1") {
		t.Errorf("authentication = %+v", c)
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("%d calls for an unknown region", n)
	}
}

func TestValidateUnusableKey(t *testing.T) {
	keys(t)
	f := newFakeOCI(t)
	for name, secret := range map[string]map[string]string{
		"wrong passphrase": {"private_key": encryptedPEM, "private_key_passphrase": "wrong-" + passphrase},
		"not a key":        {"private_key": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"},
		"no key":           {},
	} {
		t.Run(name, func(t *testing.T) {
			r := f.validator(time.Second).Validate(context.Background(), ociProvider(t, goodKey, ""), secret)
			assertShape(t, r)
			if r.Status != provider.StatusInvalid {
				t.Errorf("status %s: %+v", r.Status, r.Checks)
			}
			if strings.Contains(validatetest.MustJSON(t, r), "wrong-"+passphrase) {
				t.Error("report contains the passphrase")
			}
		})
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("%d calls with an unusable key", n)
	}
}

// A grant without a probe is reported unknown with the statement to verify, never passed.
func TestPermissionWithoutProbe(t *testing.T) {
	v := New(Options{})
	cfg := config{tenancy: tenancyOCID, compartment: compartmentOCID}
	c := v.permission(context.Background(), nil, cfg, permissions.Permission{Name: "use tag-namespaces"})
	if c.Status != provider.CheckUnknown || !strings.Contains(c.Message, "OCI has no permission-evaluation API") ||
		!strings.Contains(c.Message, "Allow group <group> to use tag-namespaces in compartment id "+compartmentOCID) {
		t.Errorf("check = %+v", c)
	}
}

// Every probe must belong to a listed permission; a renamed permission would silently lose its probe.
func TestProbesMatchPermissions(t *testing.T) {
	names := permissions.Names(permissions.OCI)
	for name := range probes {
		if !slices.Contains(names, name) {
			t.Errorf("probe for %q, which is not in permissions.OCI", name)
		}
	}
}

func TestLocation(t *testing.T) {
	if got := (config{tenancy: tenancyOCID, compartment: tenancyOCID}).location(); got != "tenancy" {
		t.Errorf("location = %q", got)
	}
}

// GetUser and every probe must be in flight together: run one after another they would take
// 6 × latency.
func TestValidateRunsChecksConcurrently(t *testing.T) {
	const latency = 200 * time.Millisecond
	f := newFakeOCI(t)
	f.latency = latency
	start := time.Now()
	r := f.validator(5*time.Second).Validate(context.Background(), ociProvider(t, goodKey, ""), map[string]string{"private_key": goodPEM})
	if r.Status != provider.StatusValid {
		t.Fatalf("status %s", r.Status)
	}
	if d := time.Since(start); d > 2*latency {
		t.Errorf("took %s for %d calls of %s each: not concurrent", d, f.calls.Load(), latency)
	}
}

// BenchmarkValidateOCI reports a validation's wall time against one call's latency. Every call is
// signed on its own, so GetUser and all probes run at once: the ratio stays ≈1.
func BenchmarkValidateOCI(b *testing.B) {
	// Two latencies tell the fixed local cost (RSA-signing each request, TLS handshakes) from the
	// waiting that runs in parallel: the ratio falls as the cloud's latency grows.
	for _, latency := range []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond} {
		b.Run(latency.String(), func(b *testing.B) {
			f := newFakeOCI(b)
			f.latency = latency
			v := f.validator(5 * time.Second)
			p := ociProvider(b, goodKey, "")
			secret := map[string]string{"private_key": goodPEM}
			start := time.Now()
			for b.Loop() {
				if r := v.Validate(context.Background(), p, secret); r.Status != provider.StatusValid {
					b.Fatalf("status %s: %+v", r.Status, r.Checks)
				}
			}
			perOp := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(perOp.Microseconds())/1000, "validate_ms")
			b.ReportMetric(float64(f.calls.Load())/float64(b.N), "calls/op")
			if latency > 0 {
				// Every OCI call is signed locally and runs at once: the slowest single check is one call.
				b.ReportMetric(float64(perOp)/float64(latency), "x-slowest-check")
			}
		})
	}
}
