package awsval

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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

func keyProvider(id string) *provider.Provider {
	return &provider.Provider{ID: "p1", Type: provider.AWS, Config: map[string]any{"aws_access_key": id, "region": "eu-west-1"}}
}

func roleProvider(arn string) *provider.Provider {
	return &provider.Provider{ID: "p2", Type: provider.AWS, Config: map[string]any{"role_arn": arn, "external_id": externalID}}
}

// testOptions points STS and EC2 at moto, and IAM and EKS at fakeURL (see iamFake).
func testOptions(fakeURL string) Options {
	return Options{
		Endpoints:      Endpoints{STS: moto.endpoint, IAM: fakeURL, EKS: fakeURL, EC2: moto.endpoint},
		PerCallTimeout: 5 * time.Second,
	}
}

// keyFake returns an IAM fake that accepts the given user's key and expects simulations for it.
func keyFake(t *testing.T, user string, f *iamFake) (*iamFake, string) {
	k := moto.users[user]
	f.secretFor = func(id string) (string, string, bool) { return k.secret, "", id == k.id }
	f.wantSource = "arn:aws:iam::" + motoAccount + ":user/" + user
	return f, newIAMFake(t, f).URL
}

func validateKey(t *testing.T, opts Options, id, secret string) provider.Report {
	t.Helper()
	r := New(opts).Validate(context.Background(), keyProvider(id), map[string]string{"aws_access_secret": secret})
	noSecrets(t, r, secret)
	return r
}

// noSecrets fails if the report, as the API would serialise it, contains any secret value or
// signing material.
func noSecrets(t *testing.T, r provider.Report, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(secrets, "Signature=", "X-Amz-Security-Token", "Credential=") {
		if s != "" && strings.Contains(string(b), s) {
			t.Errorf("report contains secret material %.6s…: %s", s, b)
		}
	}
}

func sorted(xs []string) []string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}

func TestKeyModeValid(t *testing.T) {
	k := moto.users["fleet-full"]
	f, iamURL := keyFake(t, "fleet-full", &iamFake{
		keyCreated: map[string]time.Time{k.id: time.Now().Add(-200 * 24 * time.Hour)},
	})
	r := validateKey(t, testOptions(iamURL), k.id, k.secret)

	if r.Status != provider.StatusValid {
		t.Fatalf("status %s, want valid: %+v", r.Status, r.Checks)
	}
	if want := 1 + len(permissions.AWS) + 2; len(r.Checks) != want {
		t.Errorf("%d checks, want %d (authentication, every permission, two probes)", len(r.Checks), want)
	}
	if c := r.Checks[0]; c.Name != "authentication" || c.Status != provider.CheckPassed {
		t.Errorf("first check %+v", c)
	}
	for _, p := range permissions.AWS {
		if c := validatetest.Check(t, r, validate.PermissionCheck(p.Name)); c.Status != provider.CheckPassed || c.Permission != p.Name {
			t.Errorf("%+v", c)
		}
	}
	wantARN := "arn:aws:iam::" + motoAccount + ":user/fleet-full"
	if r.Identity["account"] != motoAccount || r.Identity["arn"] != wantARN || r.Identity["user_id"] == "" {
		t.Errorf("identity %v", r.Identity)
	}
	if got := f.simulatedActions(); !slices.Equal(sorted(got), sorted(permissions.Names(permissions.AWS))) {
		t.Errorf("simulated %v, want every permission once", got)
	}
	for _, id := range f.signers() {
		if id != k.id {
			t.Errorf("IAM call signed by %s, want the customer's key %s", id, k.id)
		}
	}
	if len(r.MissingPermissions) != 0 || r.Remediation != "" {
		t.Errorf("missing %v, remediation %q", r.MissingPermissions, r.Remediation)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "200 days old") {
		t.Errorf("warnings %q, want the key age", r.Warnings)
	}
}

// recorder keeps the bodies of the answers it carries.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	rec.mu.Lock()
	rec.bodies = append(rec.bodies, string(b))
	rec.mu.Unlock()
	return resp, nil
}

// moto's STS errors nest <Error> in <Errors>, which the SDK cannot parse, so the validator only
// sees HTTP 403; the recorder shows moto refused for the reason each case is about.
// TestAWSErrorCodes covers the error shape AWS itself sends.
func TestKeyModeWrongSecret(t *testing.T) {
	k := moto.users["fleet-full"]
	f, fakeURL := keyFake(t, "fleet-full", &iamFake{})
	rec := &recorder{}
	opts := testOptions(fakeURL)
	opts.HTTPClient = &http.Client{Transport: rec}
	r := validateKey(t, opts, k.id, strings.Repeat("x", 40))
	if r.Status != provider.StatusInvalid {
		t.Fatalf("status %s, want invalid", r.Status)
	}
	c := validatetest.Check(t, r, "authentication")
	if c.Status != provider.CheckFailed || !strings.Contains(c.Message, "403") {
		t.Errorf("authentication %+v", c)
	}
	if len(rec.bodies) != 1 || !strings.Contains(rec.bodies[0], "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("moto answered %q, want SignatureDoesNotMatch", rec.bodies)
	}
	if len(f.signers()) != 0 {
		t.Errorf("IAM called after failed authentication: %v", f.signers())
	}
	// Every required permission is still listed, as not checked.
	if len(r.Checks) != 1+len(permissions.AWS) || len(r.MissingPermissions) != 0 {
		t.Errorf("want authentication plus %d unchecked permissions, got %d checks, missing %v", len(permissions.AWS), len(r.Checks), r.MissingPermissions)
	}
	for _, c := range r.Checks[1:] {
		if c.Status != provider.CheckUnknown {
			t.Errorf("%s: %s, want unknown", c.Name, c.Status)
		}
	}
}

func TestKeyModeUnknownKey(t *testing.T) {
	_, fakeURL := keyFake(t, "fleet-full", &iamFake{})
	rec := &recorder{}
	opts := testOptions(fakeURL)
	opts.HTTPClient = &http.Client{Transport: rec}
	r := validateKey(t, opts, "AKIAZZZZZZZZZZZZZZZZ", moto.users["fleet-full"].secret)
	c := validatetest.Check(t, r, "authentication")
	if r.Status != provider.StatusInvalid || c.Status != provider.CheckFailed {
		t.Errorf("status %s, authentication %+v", r.Status, c)
	}
	if len(rec.bodies) != 1 || !strings.Contains(rec.bodies[0], "<Code>InvalidClientTokenId</Code>") {
		t.Errorf("moto answered %q, want InvalidClientTokenId", rec.bodies)
	}
}

// TestAWSErrorCodes answers GetCallerIdentity the way AWS STS does and checks how each answer is
// classified: a refusal of the credentials is failed and named, an outage is error.
func TestAWSErrorCodes(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   provider.CheckStatus
		text   string
	}{
		{403, "SignatureDoesNotMatch", provider.CheckFailed, "secret access key does not belong"},
		{403, "InvalidClientTokenId", provider.CheckFailed, "does not know this access key id"},
		{403, "AccessDenied", provider.CheckFailed, "AccessDenied"},
		{400, "Throttling", provider.CheckError, "busy"},
		{503, "ServiceUnavailable", provider.CheckError, "busy"},
		{500, "", provider.CheckError, "HTTP 500"},
		{400, "RegionDisabledException", provider.CheckError, "RegionDisabledException"},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.code == "" {
					w.WriteHeader(c.status)
					return
				}
				queryError(w, c.status, c.code, "the message from AWS")
			}))
			defer srv.Close()
			opts := testOptions(closedPort(t))
			opts.Endpoints.STS = srv.URL
			opts.RetryMaxAttempts = 1
			secret := strings.Repeat("s", 40)
			r := validateKey(t, opts, "AKIAZZZZZZZZZZZZZZZZ", secret)
			got := validatetest.Check(t, r, "authentication")
			if got.Status != c.want || !strings.Contains(got.Message, c.text) {
				t.Errorf("%+v, want %s mentioning %q", got, c.want, c.text)
			}
		})
	}
}

func TestKeyModeMissingPermission(t *testing.T) {
	k := moto.users["fleet-no-create"]
	_, iamURL := keyFake(t, "fleet-no-create", &iamFake{deny: map[string]bool{"eks:CreateCluster": true}})
	r := validateKey(t, testOptions(iamURL), k.id, k.secret)

	if r.Status != provider.StatusInvalid {
		t.Fatalf("status %s, want invalid", r.Status)
	}
	if !slices.Equal(r.MissingPermissions, []string{"eks:CreateCluster"}) {
		t.Errorf("missing %v", r.MissingPermissions)
	}
	c := validatetest.Check(t, r, validate.PermissionCheck("eks:CreateCluster"))
	if c.Status != provider.CheckFailed || !strings.Contains(c.Message, "control plane") {
		t.Errorf("%+v: want failed with why", c)
	}
	var fix permissions.IAMPolicy
	if err := json.Unmarshal([]byte(r.Remediation), &fix); err != nil {
		t.Fatalf("remediation %q: %v", r.Remediation, err)
	}
	if len(fix.Statement) != 1 || !slices.Equal(fix.Statement[0].Action, []string{"eks:CreateCluster"}) ||
		fix.Statement[0].Effect != "Allow" {
		t.Errorf("remediation %s", r.Remediation)
	}
	if r.Warnings != nil {
		t.Errorf("warnings %q: a key age the caller may not read is skipped silently", r.Warnings)
	}
}

func TestSimulationDeniedFallsBackToProbes(t *testing.T) {
	k := moto.users["fleet-full"]
	_, iamURL := keyFake(t, "fleet-full", &iamFake{refuse: true})
	r := validateKey(t, testOptions(iamURL), k.id, k.secret)

	if r.Status != provider.StatusUnverified {
		t.Fatalf("status %s, want unverified: %+v", r.Status, r.Checks)
	}
	probed := map[string]bool{"eks:ListClusters": true, "ec2:DescribeVpcs": true}
	for _, p := range permissions.AWS {
		c := validatetest.Check(t, r, validate.PermissionCheck(p.Name))
		switch {
		case probed[p.Name] && c.Status != provider.CheckPassed:
			t.Errorf("%+v: want passed by its probe", c)
		case !probed[p.Name] && (c.Status != provider.CheckUnknown || !strings.Contains(c.Message, "iam:SimulatePrincipalPolicy")):
			t.Errorf("%+v: want unknown naming the refused simulation", c)
		}
	}
	for _, name := range []string{probeEKS, probeEC2} {
		if c := validatetest.Check(t, r, name); c.Status != provider.CheckPassed {
			t.Errorf("%+v", c)
		}
	}
}

func TestSimulationDeniedProbeRefused(t *testing.T) {
	k := moto.users["fleet-no-vpcs"]
	_, iamURL := keyFake(t, "fleet-no-vpcs", &iamFake{refuse: true})
	r := validateKey(t, testOptions(iamURL), k.id, k.secret)

	if r.Status != provider.StatusInvalid || !slices.Equal(r.MissingPermissions, []string{"ec2:DescribeVpcs"}) {
		t.Fatalf("status %s, missing %v, want invalid for ec2:DescribeVpcs", r.Status, r.MissingPermissions)
	}
	if c := validatetest.Check(t, r, probeEC2); c.Status != provider.CheckFailed || !strings.Contains(c.Message, "AccessDenied") {
		t.Errorf("%+v", c)
	}
	if !strings.Contains(r.Remediation, "ec2:DescribeVpcs") {
		t.Errorf("remediation %q", r.Remediation)
	}
}

func closedPort(*testing.T) string { return "http://" + testenv.ClosedAddr }

func TestUnreachableSTS(t *testing.T) {
	opts := testOptions(closedPort(t))
	opts.Endpoints.STS = closedPort(t)
	opts.PerCallTimeout = time.Second
	start := time.Now()
	r := validateKey(t, opts, "AKIAZZZZZZZZZZZZZZZZ", strings.Repeat("s", 40))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	c := validatetest.Check(t, r, "authentication")
	if r.Status != provider.StatusError || c.Status != provider.CheckError || !strings.Contains(c.Message, "could not reach AWS STS") {
		t.Errorf("status %s, %+v", r.Status, c)
	}
}

// slowServer answers nothing until the client gives up (or 10s pass).
func slowServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body first lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSlowSTS(t *testing.T) {
	opts := testOptions(closedPort(t))
	opts.Endpoints.STS = slowServer(t)
	opts.PerCallTimeout = 300 * time.Millisecond
	start := time.Now()
	r := validateKey(t, opts, "AKIAZZZZZZZZZZZZZZZZ", strings.Repeat("s", 40))
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("took %v; the server sleeps 10s, the per-call timeout is 300ms", took)
	}
	c := validatetest.Check(t, r, "authentication")
	if r.Status != provider.StatusError || c.Status != provider.CheckError || !strings.Contains(c.Message, "did not answer in time") {
		t.Errorf("status %s, %+v", r.Status, c)
	}
}

func TestSlowIAM(t *testing.T) {
	k := moto.users["fleet-full"]
	_, fakeURL := keyFake(t, "fleet-full", &iamFake{})
	opts := testOptions(fakeURL)
	opts.Endpoints.IAM = slowServer(t)
	opts.PerCallTimeout = time.Second
	start := time.Now()
	r := New(opts).Validate(context.Background(), keyProvider(k.id), map[string]string{"aws_access_secret": k.secret})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	if r.Status != provider.StatusError {
		t.Errorf("status %s, want error", r.Status)
	}
	if c := validatetest.Check(t, r, validate.PermissionCheck("eks:CreateCluster")); c.Status != provider.CheckError {
		t.Errorf("%+v", c)
	}
	// The probes answered, so the permissions they exercise are decided all the same.
	if c := validatetest.Check(t, r, validate.PermissionCheck("eks:ListClusters")); c.Status != provider.CheckPassed {
		t.Errorf("%+v", c)
	}
}

func TestOverallDeadline(t *testing.T) {
	opts := testOptions(closedPort(t))
	opts.Endpoints.STS = slowServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := New(opts).Validate(ctx, keyProvider("AKIAZZZZZZZZZZZZZZZZ"), map[string]string{"aws_access_secret": strings.Repeat("s", 40)})
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v past a 200ms context", took)
	}
	if r.Status != provider.StatusError {
		t.Errorf("status %s", r.Status)
	}
}

// roleFake accepts the temporary keys moto issued for role sessions.
func roleFake(t *testing.T, role string, f *iamFake) (*iamFake, string) {
	var mu sync.Mutex
	known := map[string]assumedSession{}
	f.secretFor = func(id string) (string, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		s, ok := known[id]
		if !ok { // moto's model dump is slow: read it once per new key
			for _, s := range moto.sessions(t) {
				known[s.AccessKeyID] = s
			}
			s, ok = known[id]
		}
		return s.SecretAccessKey, s.SessionToken, ok
	}
	f.wantSource = roleARN(role)
	return f, newIAMFake(t, f).URL
}

// roleOptions calls STS through gate as the streamtime-service user.
func roleOptions(fakeURL, gateURL string) Options {
	o := testOptions(fakeURL)
	o.Endpoints.STS = gateURL
	svc := moto.users["streamtime-service"]
	o.SourceCredentials = staticCreds(svc.id, svc.secret, "")
	return o
}

func validateRole(t *testing.T, opts Options, p *provider.Provider) provider.Report {
	t.Helper()
	r := New(opts).Validate(context.Background(), p, map[string]string{})
	secrets := []string{moto.users["streamtime-service"].secret}
	for _, s := range moto.sessions(t) {
		secrets = append(secrets, s.SecretAccessKey, s.SessionToken)
	}
	noSecrets(t, r, secrets...)
	return r
}

func TestRoleMode(t *testing.T) {
	f, fakeURL := roleFake(t, "streamtime-fleet", &iamFake{})
	gate, gateURL := newSTSGate(t, roleARN("streamtime-fleet"))
	r := validateRole(t, roleOptions(fakeURL, gateURL), roleProvider(roleARN("streamtime-fleet")))

	if r.Status != provider.StatusValid {
		t.Fatalf("status %s: %+v", r.Status, r.Checks)
	}
	if c := validatetest.Check(t, r, "external id required"); c.Status != provider.CheckPassed {
		t.Errorf("%+v", c)
	}
	wantSession := "arn:aws:sts::" + motoAccount + ":assumed-role/streamtime-fleet/" + SessionName
	if r.Identity["role_arn"] != roleARN("streamtime-fleet") || r.Identity["arn"] != wantSession || r.Identity["account"] != motoAccount {
		t.Errorf("identity %v", r.Identity)
	}
	// What STS received: one AssumeRole with the provider's external id, one without.
	var with, without int
	for _, form := range gate.assumeCalls() {
		if form.Get("RoleSessionName") != SessionName || form.Get("RoleArn") != roleARN("streamtime-fleet") {
			t.Errorf("AssumeRole %v", form)
		}
		switch {
		case form.Get("ExternalId") == externalID:
			with++
		case !form.Has("ExternalId"):
			without++
		}
	}
	if with != 1 || without != 1 {
		t.Errorf("AssumeRole calls with/without the external id: %d/%d, want 1/1", with, without)
	}
	// IAM and EKS calls are signed by the role session, not by the service's own key.
	for _, id := range f.signers() {
		if !strings.HasPrefix(id, "ASIA") {
			t.Errorf("call signed by %s, want a role session key", id)
		}
	}
	if len(f.signers()) == 0 || len(r.Warnings) != 0 {
		t.Errorf("signers %v, warnings %q", f.signers(), r.Warnings)
	}
}

func TestRoleAssumableWithoutExternalID(t *testing.T) {
	_, fakeURL := roleFake(t, "streamtime-open", &iamFake{})
	_, gateURL := newSTSGate(t) // the trust policy has no sts:ExternalId condition
	r := validateRole(t, roleOptions(fakeURL, gateURL), roleProvider(roleARN("streamtime-open")))

	c := validatetest.Check(t, r, "external id required")
	if r.Status != provider.StatusInvalid || c.Status != provider.CheckFailed || !strings.Contains(c.Message, "sts:ExternalId") {
		t.Errorf("status %s, %+v", r.Status, c)
	}
	if a := validatetest.Check(t, r, "authentication"); a.Status != provider.CheckPassed {
		t.Errorf("%+v", a)
	}
}

func TestRoleWrongExternalID(t *testing.T) {
	// moto compares an external id that is sent against the trust policy's condition.
	_, fakeURL := roleFake(t, "streamtime-fleet", &iamFake{})
	_, gateURL := newSTSGate(t, roleARN("streamtime-fleet"))
	p := roleProvider(roleARN("streamtime-fleet"))
	p.Config["external_id"] = "st-ffffffffffffffffffffffffffffffff"
	r := validateRole(t, roleOptions(fakeURL, gateURL), p)
	c := validatetest.Check(t, r, "authentication")
	if r.Status != provider.StatusInvalid || c.Status != provider.CheckFailed || !strings.Contains(c.Message, "trust policy") {
		t.Errorf("status %s, %+v", r.Status, c)
	}
}

func TestRoleWithPath(t *testing.T) {
	// The session ARN drops the role's path; the simulation must name the configured ARN.
	_, fakeURL := roleFake(t, "streamtime-pathed", &iamFake{})
	_, gateURL := newSTSGate(t, roleARN("streamtime-pathed"))
	r := validateRole(t, roleOptions(fakeURL, gateURL), roleProvider(roleARN("streamtime-pathed")))
	if r.Status != provider.StatusValid {
		t.Errorf("status %s: %+v", r.Status, r.Checks)
	}
}

func TestRoleModeWithoutSourceCredentials(t *testing.T) {
	r := validateRole(t, testOptions(closedPort(t)), roleProvider(roleARN("streamtime-fleet")))
	if c := validatetest.Check(t, r, "authentication"); r.Status != provider.StatusError || c.Status != provider.CheckError {
		t.Errorf("status %s, %+v: the service's own setup is not the customer's fault", r.Status, c)
	}
}

func TestPrincipalARN(t *testing.T) {
	cases := []struct {
		caller, role, want string
	}{
		{"arn:aws:iam::123456789012:user/ci/deployer", "", "arn:aws:iam::123456789012:user/ci/deployer"},
		{"arn:aws:sts::123456789012:assumed-role/fleet/streamtime-validate", "", "arn:aws:iam::123456789012:role/fleet"},
		{"arn:aws-cn:sts::123456789012:assumed-role/fleet/s", "", "arn:aws-cn:iam::123456789012:role/fleet"},
		{"arn:aws:sts::123456789012:assumed-role/fleet/s", "arn:aws:iam::123456789012:role/team/fleet", "arn:aws:iam::123456789012:role/team/fleet"},
		// A configured role that is not the session's role is not trusted for its path.
		{"arn:aws:sts::123456789012:assumed-role/fleet/s", "arn:aws:iam::999999999999:role/team/fleet", "arn:aws:iam::123456789012:role/fleet"},
		{"arn:aws:sts::123456789012:assumed-role/fleet/s", "arn:aws:iam::123456789012:role/team/other", "arn:aws:iam::123456789012:role/fleet"},
		{"arn:aws:iam::123456789012:root", "", ""},
		{"arn:aws:sts::123456789012:federated-user/bob", "", ""},
		{"not an arn", "", ""},
	}
	for _, c := range cases {
		got, err := principalARN(c.caller, c.role)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("principalARN(%q, %q) = %q, %v; want %q", c.caller, c.role, got, err, c.want)
		}
	}
}
