// Package gcpval validates GCP fleet providers: it exchanges the service account key for an
// access token, tests the permissions in permissions.GCP on the project with Resource Manager
// testIamPermissions, and lists GKE clusters as a side-effect-free probe.
package gcpval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/httptransport"
	container "cloud.google.com/go/container/apiv1"
	"cloud.google.com/go/container/apiv1/containerpb"
	"github.com/googleapis/gax-go/v2"
	crm "google.golang.org/api/cloudresourcemanager/v1"
	"google.golang.org/api/option"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate"
)

// Google's endpoints, the defaults of Options.
const (
	DefaultResourceManagerEndpoint = "https://cloudresourcemanager.googleapis.com/"
	DefaultContainerEndpoint       = "https://container.googleapis.com"
	// DefaultCertsEndpoint serves a service account's public key certificates by key id (the
	// client_x509_cert_url of a key file); it needs no authentication.
	DefaultCertsEndpoint  = "https://www.googleapis.com/robot/v1/metadata/x509/"
	DefaultPerCallTimeout = 8 * time.Second
)

// SecretKey is the secret field holding the service account key JSON.
const SecretKey = "service_account_key"

// Names of the checks besides the permission ones (validate.PermissionCheck(name)).
const (
	CheckAuthentication = validate.CheckAuthentication
	CheckProbe          = "probe:gke:ListClusters"
)

const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// Options configures a Validator. Endpoints come from code or service configuration, never from
// the provider's key; tests point them at a local server.
type Options struct {
	// TokenURL replaces the key's token_uri. Default provider.GoogleTokenURL.
	TokenURL                string
	ResourceManagerEndpoint string
	ContainerEndpoint       string
	CertsEndpoint           string
	// HTTPClient supplies the transport and overall timeout; its redirect policy is replaced.
	HTTPClient *http.Client
	// PerCallTimeout bounds each call to Google. Default DefaultPerCallTimeout.
	PerCallTimeout time.Duration
}

// Validator validates GCP providers; it implements fleet.Validator and is safe for concurrent use.
type Validator struct {
	opts  Options
	base  http.RoundTripper
	plain *http.Client // unauthenticated: token exchange and certificates
}

// New returns a Validator, filling unset options with Google's endpoints and default timeouts.
func New(opts Options) *Validator {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&opts.TokenURL, provider.GoogleTokenURL)
	def(&opts.ResourceManagerEndpoint, DefaultResourceManagerEndpoint)
	def(&opts.ContainerEndpoint, DefaultContainerEndpoint)
	def(&opts.CertsEndpoint, DefaultCertsEndpoint)
	// The discovery client resolves its method paths relative to the endpoint.
	if !strings.HasSuffix(opts.ResourceManagerEndpoint, "/") {
		opts.ResourceManagerEndpoint += "/"
	}
	if opts.PerCallTimeout <= 0 {
		opts.PerCallTimeout = DefaultPerCallTimeout
	}
	v := &Validator{opts: opts, base: http.DefaultTransport}
	var timeout time.Duration
	if c := opts.HTTPClient; c != nil {
		if c.Transport != nil {
			v.base = c.Transport
		}
		timeout = c.Timeout
	}
	v.plain = &http.Client{Transport: v.base, CheckRedirect: sameHost, Timeout: timeout}
	return v
}

// sameHost refuses redirects to another host or scheme: a redirected request would carry the
// signed assertion or the access token there.
func sameHost(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
		return fmt.Errorf("refused a redirect to another host (%s)", req.URL.Host)
	}
	return nil
}

// quiet replaces the SDKs' environment-enabled debug logging (GOOGLE_SDK_GO_LOGGING_LEVEL),
// which would log the signed assertion and the token response.
var quiet = slog.New(slog.DiscardHandler)

// Validate checks p's service account key and permissions. It always returns a complete report.
func (v *Validator) Validate(ctx context.Context, p *provider.Provider, secret map[string]string) provider.Report {
	start := time.Now()
	var r provider.Report
	key, keyJSON, keyErr := parseKey(secret[SecretKey], v.opts.TokenURL)
	project := projectOf(p, key)
	r.Identity = key.identity(project)

	var token string
	if keyErr != nil {
		r.Checks = skipAll(provider.Check{Name: CheckAuthentication, Status: provider.CheckFailed, Message: keyErr.Error()})
	} else {
		r.Checks, r.Warnings, token = v.run(ctx, key, keyJSON, project)
	}
	r.MissingPermissions = validate.Missing(r.Checks)
	r.Remediation = remediation(project, key.ClientEmail, r.MissingPermissions)
	scrubReport(&r, secretsOf(key, token))
	validate.Finish(&r, start)
	return r
}

// run builds the clients and runs the checks. It returns the access token (if any) so the caller
// can make sure no message repeats it.
func (v *Validator) run(ctx context.Context, key saKey, keyJSON []byte, project string) ([]provider.Check, []string, string) {
	creds, err := credentials.NewCredentialsFromJSON(credentials.ServiceAccount, keyJSON, &credentials.DetectOptions{
		Scopes: []string{cloudPlatformScope},
		// A key naming another universe would make the SDK sign its own JWTs instead of
		// exchanging the key, which proves nothing about the key being valid.
		UniverseDomain:      "googleapis.com",
		Client:              v.plain,
		DisableAsyncRefresh: true,
		Logger:              quiet,
	})
	if err != nil {
		return skipAll(provider.Check{Name: CheckAuthentication, Status: provider.CheckFailed,
			Message: "the service account key cannot be used: " + err.Error()}), nil, ""
	}
	// One authenticated client for both APIs, built before the checks start: httptransport
	// rewrites creds.TokenProvider, so building clients concurrently would race. The SDKs' own
	// clients (option.WithAuthCredentials) cannot take our transport or redirect policy.
	authed, err := httptransport.NewClient(&httptransport.Options{
		Credentials:      creds,
		BaseRoundTripper: v.base,
		DisableTelemetry: true,
		Logger:           quiet,
	})
	if err != nil {
		return internalError(err), nil, ""
	}
	authed.CheckRedirect, authed.Timeout = sameHost, v.plain.Timeout
	apiOpts := func(endpoint string) []option.ClientOption {
		return []option.ClientOption{option.WithHTTPClient(authed), option.WithEndpoint(endpoint), option.WithLogger(quiet)}
	}
	rm, err := crm.NewService(ctx, apiOpts(v.opts.ResourceManagerEndpoint)...)
	if err != nil {
		return internalError(err), nil, ""
	}
	gke, err := container.NewClusterManagerRESTClient(ctx, apiOpts(v.opts.ContainerEndpoint)...)
	if err != nil {
		return internalError(err), nil, ""
	}
	defer gke.Close()

	gate := &authGate{done: make(chan struct{})}
	var warnings []string
	// The API checks need the token, so they wait for the exchange (one, shared through the
	// credentials' cache) and start together as soon as it is done; the certificate lookup needs
	// nothing and runs alongside. Each call has PerCallTimeout; a check spans at most two calls.
	checks := validate.Parallel(ctx, 2*v.opts.PerCallTimeout,
		func(ctx context.Context) []provider.Check {
			return []provider.Check{v.authenticate(ctx, creds, gate)}
		},
		func(ctx context.Context) []provider.Check { return v.testPermissions(ctx, rm, project, gate) },
		func(ctx context.Context) []provider.Check { return []provider.Check{v.probe(ctx, gke, project, gate)} },
		func(ctx context.Context) []provider.Check {
			warnings = v.expiryWarnings(ctx, key)
			return nil
		},
	)
	return checks, warnings, gate.token
}

// authGate publishes the outcome of the token exchange to the checks that need a token, so they
// skip their calls when it failed instead of each repeating the exchange.
type authGate struct {
	done   chan struct{}
	status provider.CheckStatus
	token  string
}

// wait returns "" once authentication passed, else why the caller's call is not made.
func (g *authGate) wait(ctx context.Context) string {
	select {
	case <-g.done:
	case <-ctx.Done():
		return "not checked: authentication did not finish in time"
	}
	switch g.status {
	case provider.CheckPassed:
		return ""
	case provider.CheckFailed:
		return "not checked: authentication failed"
	default:
		return "not checked: authentication could not be completed"
	}
}

func (v *Validator) authenticate(ctx context.Context, creds *auth.Credentials, gate *authGate) (c provider.Check) {
	c.Name = CheckAuthentication
	defer func() {
		gate.status = c.Status
		close(gate.done)
	}()
	ctx, cancel := context.WithTimeout(ctx, v.opts.PerCallTimeout)
	defer cancel()
	tok, err := creds.Token(ctx)
	if err != nil {
		c.Status, c.Message = authFailure(err, v.opts.PerCallTimeout)
		return c
	}
	gate.token = tok.Value
	c.Status = provider.CheckPassed
	c.Message = "the key was exchanged for an access token"
	return c
}

// testPermissions asks Resource Manager which of permissions.GCP the account holds on the
// project: one call answers for all of them.
func (v *Validator) testPermissions(ctx context.Context, rm *crm.Service, project string, gate *authGate) []provider.Check {
	all := func(st provider.CheckStatus, msg string) []provider.Check {
		out := make([]provider.Check, len(permissions.GCP))
		for i, p := range permissions.GCP {
			out[i] = provider.Check{Name: validate.PermissionCheck(p.Name), Permission: p.Name, Status: st, Message: msg}
		}
		return out
	}
	if !projectRE.MatchString(project) {
		return all(provider.CheckUnknown, "not checked: the provider has no valid project_id")
	}
	if why := gate.wait(ctx); why != "" {
		return all(provider.CheckUnknown, why)
	}
	ctx, cancel := context.WithTimeout(ctx, v.opts.PerCallTimeout)
	defer cancel()
	resp, err := rm.Projects.TestIamPermissions(project, &crm.TestIamPermissionsRequest{
		Permissions: permissions.Names(permissions.GCP),
	}).Context(ctx).Do()
	if err != nil {
		st := provider.CheckUnknown
		if transient(err) {
			st = provider.CheckError
		}
		return all(st, "not checked: testIamPermissions on project "+project+" failed: "+describe(err, v.opts.PerCallTimeout))
	}
	granted := map[string]bool{}
	for _, name := range resp.Permissions {
		granted[name] = true
	}
	out := all(provider.CheckPassed, "granted on project "+project)
	for i, p := range permissions.GCP {
		if !granted[p.Name] {
			out[i].Status = provider.CheckFailed
			out[i].Message = "not granted on project " + project + "; needed to: " + p.Why
		}
	}
	return out
}

// probe lists the project's clusters in all locations: read-only, and it shows that the
// Kubernetes Engine API is enabled and answers this account.
func (v *Validator) probe(ctx context.Context, gke *container.ClusterManagerClient, project string, gate *authGate) provider.Check {
	c := provider.Check{Name: CheckProbe, Status: provider.CheckUnknown}
	if !projectRE.MatchString(project) {
		c.Message = "not checked: the provider has no valid project_id"
		return c
	}
	if c.Message = gate.wait(ctx); c.Message != "" {
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, v.opts.PerCallTimeout)
	defer cancel()
	// No retries: a quick "error" is better than spending the deadline; the service revalidates.
	resp, err := gke.ListClusters(ctx, &containerpb.ListClustersRequest{Parent: "projects/" + project + "/locations/-"},
		gax.WithRetry(func() gax.Retryer { return nil }))
	if err != nil {
		switch code := httpCode(err); {
		case transient(err):
			c.Status = provider.CheckError
		case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound:
			// Denied, API disabled or no such project: clusters cannot be managed there.
			c.Status = provider.CheckFailed
		}
		c.Message = "listing GKE clusters in project " + project + " failed: " + describe(err, v.opts.PerCallTimeout)
		return c
	}
	c.Status = provider.CheckPassed
	c.Message = fmt.Sprintf("listed %d GKE cluster(s) in project %s", len(resp.GetClusters()), project)
	if z := resp.GetMissingZones(); len(z) > 0 {
		c.Message += "; zones that did not answer: " + strings.Join(z, ", ")
	}
	return c
}

// skipAll returns auth followed by every other check as unknown, for when no call can be made.
func skipAll(auth provider.Check) []provider.Check {
	why := "not checked: authentication failed"
	if auth.Status != provider.CheckFailed {
		why = "not checked: authentication could not be completed"
	}
	out := []provider.Check{auth}
	for _, p := range permissions.GCP {
		out = append(out, provider.Check{Name: validate.PermissionCheck(p.Name), Permission: p.Name, Status: provider.CheckUnknown, Message: why})
	}
	return append(out, provider.Check{Name: CheckProbe, Status: provider.CheckUnknown, Message: why})
}

// internalError reports a failure to build a client: our problem, not the provider's.
func internalError(err error) []provider.Check {
	return skipAll(provider.Check{Name: CheckAuthentication, Status: provider.CheckError,
		Message: "internal error preparing the Google clients: " + err.Error()})
}

// drain is used where a body is abandoned, so the connection can be reused.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<16))
	_ = r.Close()
}
