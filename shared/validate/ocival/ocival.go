// Package ocival validates OCI fleet providers: a signed identity GetUser proves the API key, and
// one side-effect-free list call in the compartment per permission of permissions.OCI shows the
// policy reaches that resource family. OCI has no API that evaluates a policy for a principal, so
// these probes are the only evidence available.
package ocival

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/containerengine"
	"github.com/oracle/oci-go-sdk/v65/core"
	"github.com/oracle/oci-go-sdk/v65/identity"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate"
)

// Check names, stable for clients and dashboards.
const (
	CheckAuthentication = validate.CheckAuthentication
	// PermissionCheckPrefix precedes the permission in a check name (validate.PermissionCheck).
	PermissionCheckPrefix = "permission:"
)

const defaultPerCallTimeout = 8 * time.Second

// Options configures a Validator. The zero value calls OCI's regional endpoints.
type Options struct {
	// Host replaces the endpoint of every OCI service called, e.g. "https://127.0.0.1:8443"
	// (tests). Empty: the SDK's endpoint for the provider's region.
	Host string
	// HTTPClient sends every request. Nil: the SDK's default client.
	HTTPClient *http.Client
	// PerCallTimeout bounds each call to OCI. Zero: 8s.
	PerCallTimeout time.Duration
}

// Validator validates OCI providers. It is safe for concurrent use.
type Validator struct {
	opts Options
}

// New returns a Validator with opts' defaults filled in.
func New(opts Options) *Validator {
	if opts.PerCallTimeout <= 0 {
		opts.PerCallTimeout = defaultPerCallTimeout
	}
	return &Validator{opts: opts}
}

type config struct {
	user, tenancy, fingerprint, region, compartment string
	key, passphrase                                 string
}

// clients are the SDK clients one validation uses; each signs with the provider's key.
type clients struct {
	identity identity.IdentityClient
	ce       containerengine.ContainerEngineClient
	network  core.VirtualNetworkClient
	compute  core.ComputeClient
	storage  core.BlockstorageClient
}

// probe is the side-effect-free call that shows one grant of permissions.OCI is in effect.
type probe struct {
	op  string
	run func(ctx context.Context, c *clients, compartment *string) error
}

// limit1 keeps every probe to one small page: only the authorization decision matters.
var limit1 = common.Int(1)

var probes = map[string]probe{
	"manage cluster-family": {"ContainerEngine ListClusters", func(ctx context.Context, c *clients, comp *string) error {
		_, err := c.ce.ListClusters(ctx, containerengine.ListClustersRequest{CompartmentId: comp, Limit: limit1})
		return err
	}},
	"manage virtual-network-family": {"Core ListVcns", func(ctx context.Context, c *clients, comp *string) error {
		_, err := c.network.ListVcns(ctx, core.ListVcnsRequest{CompartmentId: comp, Limit: limit1})
		return err
	}},
	"manage instance-family": {"Core ListInstances", func(ctx context.Context, c *clients, comp *string) error {
		_, err := c.compute.ListInstances(ctx, core.ListInstancesRequest{CompartmentId: comp, Limit: limit1})
		return err
	}},
	"use volume-family": {"Core ListVolumes", func(ctx context.Context, c *clients, comp *string) error {
		_, err := c.storage.ListVolumes(ctx, core.ListVolumesRequest{CompartmentId: comp, Limit: limit1})
		return err
	}},
	"inspect compartments": {"Identity ListCompartments", func(ctx context.Context, c *clients, comp *string) error {
		_, err := c.identity.ListCompartments(ctx, identity.ListCompartmentsRequest{CompartmentId: comp, Limit: limit1})
		return err
	}},
}

// probeWarning says once what a passed probe proves, since OCI offers nothing stronger.
const probeWarning = "OCI has no permission-evaluation API: each permission is probed with a list call in the compartment, which proves at least 'inspect' on that resource family; the stronger verbs in the policy cannot be tested without side effects."

// Validate implements fleet.Validator.
func (v *Validator) Validate(ctx context.Context, p *provider.Provider, secret map[string]string) provider.Report {
	start := time.Now()
	cfg := config{
		user:        p.ConfigString("user_ocid"),
		tenancy:     p.ConfigString("tenancy_ocid"),
		fingerprint: p.ConfigString("fingerprint"),
		region:      p.ConfigString("region"),
		compartment: p.ConfigString("compartment_ocid"),
		key:         secret["private_key"],
		passphrase:  secret["private_key_passphrase"],
	}
	if cfg.compartment == "" {
		cfg.compartment = cfg.tenancy
	}
	r := provider.Report{
		CheckedAt: start.UTC(),
		Identity: map[string]string{
			"user_ocid":        cfg.user,
			"tenancy_ocid":     cfg.tenancy,
			"region":           cfg.region,
			"compartment_ocid": cfg.compartment,
		},
	}
	r.Checks = v.run(ctx, cfg, r.Identity)
	r.MissingPermissions = validate.Missing(r.Checks)
	if len(r.MissingPermissions) > 0 {
		r.Remediation = remediation(cfg, r.MissingPermissions)
	}
	for _, c := range r.Checks {
		if c.Permission != "" && c.Status == provider.CheckPassed {
			r.Warnings = []string{probeWarning}
			break
		}
	}
	validate.Finish(&r, start)
	return r
}

func (v *Validator) run(ctx context.Context, cfg config, identityInfo map[string]string) []provider.Check {
	if missing := cfg.missing(); missing != "" {
		return skipped(validate.Failed(CheckAuthentication, "configuration lacks "+missing+"; nothing was sent to OCI"))
	}
	// Checked before any client exists: for a region it does not know, the SDK reads region files
	// from the home directory and environment, then guesses an oc1 endpoint.
	if _, err := common.Region(cfg.region).RealmID(); err != nil {
		return skipped(validate.Failed(CheckAuthentication, fmt.Sprintf("region %q is not a region this service's OCI SDK knows; nothing was sent to OCI", cfg.region)))
	}
	var pass *string
	if cfg.passphrase != "" {
		pass = &cfg.passphrase
	}
	raw := common.NewRawConfigurationProvider(cfg.tenancy, cfg.user, cfg.region, cfg.fingerprint, cfg.key, pass)
	key, err := raw.PrivateRSAKey()
	if err != nil {
		// The SDK's error may quote parts of the configuration; say what is wrong without it.
		return skipped(validate.Failed(CheckAuthentication, "private_key cannot be used: it is not an RSA key in PEM form, or private_key_passphrase does not decrypt it; nothing was sent to OCI"))
	}
	cl, err := v.newClients(parsedKey{raw, key})
	if err != nil {
		return skipped(validate.Failed(CheckAuthentication, "the OCI configuration is not usable; nothing was sent to OCI"))
	}

	var userName string
	fns := []validate.CheckFunc{func(ctx context.Context) []provider.Check {
		c, name := v.authenticate(ctx, cl, cfg.user)
		userName = name
		return []provider.Check{c}
	}}
	// Probes are signed independently of GetUser, so they run alongside it rather than after it.
	for _, perm := range permissions.OCI {
		fns = append(fns, func(ctx context.Context) []provider.Check {
			return []provider.Check{v.permission(ctx, cl, cfg, perm)}
		})
	}
	checks := validate.Parallel(ctx, v.opts.PerCallTimeout, fns...)
	if userName != "" { // Parallel has returned, so the write above happened before this read
		identityInfo["user_name"] = userName
	}
	return checks
}

func (c config) missing() string {
	var m []string
	for _, f := range []struct{ name, value string }{
		{"user_ocid", c.user}, {"tenancy_ocid", c.tenancy}, {"fingerprint", c.fingerprint},
		{"region", c.region}, {"private_key", c.key},
	} {
		if f.value == "" {
			m = append(m, f.name)
		}
	}
	return strings.Join(m, ", ")
}

// parsedKey hands the SDK an already parsed key: the raw provider parses (and decrypts) the PEM
// again for every client it configures and every request it signs.
type parsedKey struct {
	common.ConfigurationProvider
	key *rsa.PrivateKey
}

func (p parsedKey) PrivateRSAKey() (*rsa.PrivateKey, error) { return p.key, nil }

func (v *Validator) newClients(cp common.ConfigurationProvider) (*clients, error) {
	var c clients
	var err error
	if c.identity, err = identity.NewIdentityClientWithConfigurationProvider(cp); err != nil {
		return nil, err
	}
	if c.ce, err = containerengine.NewContainerEngineClientWithConfigurationProvider(cp); err != nil {
		return nil, err
	}
	if c.network, err = core.NewVirtualNetworkClientWithConfigurationProvider(cp); err != nil {
		return nil, err
	}
	if c.compute, err = core.NewComputeClientWithConfigurationProvider(cp); err != nil {
		return nil, err
	}
	if c.storage, err = core.NewBlockstorageClientWithConfigurationProvider(cp); err != nil {
		return nil, err
	}
	for _, b := range []*common.BaseClient{&c.identity.BaseClient, &c.ce.BaseClient, &c.network.BaseClient, &c.compute.BaseClient, &c.storage.BaseClient} {
		v.configure(b)
	}
	return &c, nil
}

// configure makes a client do exactly one attempt per call: the SDK's default retries 5xx with
// backoff until the deadline and trips a circuit breaker, both of which would turn "OCI is slow
// right now" into a late or misleading answer.
func (v *Validator) configure(b *common.BaseClient) {
	noRetry := common.NoRetryPolicy()
	b.Configuration.RetryPolicy = &noRetry
	b.Configuration.CircuitBreaker = nil
	if v.opts.Host != "" {
		b.Host = v.opts.Host
	}
	if v.opts.HTTPClient != nil {
		b.HTTPClient = v.opts.HTTPClient
	}
	b.HTTPClient = deadlineDispatcher{b.HTTPClient}
}

// The SDK's common.Retry returns as soon as its context is done, reading the response variable its
// worker goroutine may still be writing (a data race in oci-go-sdk v65.129.0). So the SDK gets a
// context that is never cancelled (sdkContext) and the HTTP request itself is bound to the real
// one here: a deadline then surfaces as the worker's own error and Retry returns it.
type realContextKey struct{}

func sdkContext(ctx context.Context) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), realContextKey{}, ctx)
}

type deadlineDispatcher struct{ next common.HTTPRequestDispatcher }

func (d deadlineDispatcher) Do(req *http.Request) (*http.Response, error) {
	if ctx, ok := req.Context().Value(realContextKey{}).(context.Context); ok {
		req = req.WithContext(ctx)
	}
	return d.next.Do(req)
}

// authenticate reads the user the key belongs to: the cheapest signed call, and it names the user.
func (v *Validator) authenticate(ctx context.Context, cl *clients, user string) (provider.Check, string) {
	resp, err := cl.identity.GetUser(sdkContext(ctx), identity.GetUserRequest{UserId: &user})
	if err == nil {
		name := ""
		if resp.Name != nil {
			name = *resp.Name
		}
		return provider.Check{Name: CheckAuthentication, Status: provider.CheckPassed, Message: "OCI accepted the API key signature"}, name
	}
	se, ok := common.IsServiceError(err)
	switch {
	case ok && se.GetHTTPStatusCode() == http.StatusUnauthorized:
		return validate.Failed(CheckAuthentication, "OCI rejected the API key signature"+code(se)+"; check user_ocid, tenancy_ocid, fingerprint and that the key is uploaded to the user"), ""
	case ok && (se.GetHTTPStatusCode() == http.StatusNotFound || se.GetHTTPStatusCode() == http.StatusForbidden):
		// The signature was accepted (else 401); the user record is just not readable.
		return provider.Check{Name: CheckAuthentication, Status: provider.CheckPassed, Message: "OCI accepted the API key signature (user details not readable)"}, ""
	}
	return v.callError(ctx, CheckAuthentication, "Identity GetUser", err), ""
}

func (v *Validator) permission(ctx context.Context, cl *clients, cfg config, perm permissions.Permission) provider.Check {
	c := provider.Check{Name: validate.PermissionCheck(perm.Name), Permission: perm.Name}
	pr, ok := probes[perm.Name]
	if !ok {
		c.Status = provider.CheckUnknown
		c.Message = "OCI has no permission-evaluation API; verify the policy statement: " + statement(cfg, perm)
		return c
	}
	err := pr.run(sdkContext(ctx), cl, &cfg.compartment)
	if err == nil {
		c.Status, c.Message = provider.CheckPassed, pr.op+" succeeded in the compartment"
		return c
	}
	if se, ok := common.IsServiceError(err); ok {
		switch se.GetHTTPStatusCode() {
		case http.StatusNotFound, http.StatusForbidden:
			// OCI answers 404 NotAuthorizedOrNotFound when the policy does not allow the call.
			c.Status = provider.CheckFailed
			c.Message = fmt.Sprintf("%s was refused%s; needed to: %s", pr.op, code(se), perm.Why)
			return c
		case http.StatusUnauthorized:
			c.Status, c.Message = provider.CheckUnknown, "not checked: OCI did not accept the API key signature"
			return c
		}
	}
	e := v.callError(ctx, c.Name, pr.op, err)
	c.Status, c.Message = e.Status, e.Message
	return c
}

// callError turns an error that is not a definite refusal into an error (unreachable, throttled,
// server fault) or unknown (an answer we do not understand) check. It never quotes err.
func (v *Validator) callError(ctx context.Context, name, op string, err error) provider.Check {
	se, isService := common.IsServiceError(err)
	switch {
	case ctx.Err() != nil:
		return validate.Errored(name, fmt.Sprintf("no answer to %s within %s", op, v.opts.PerCallTimeout))
	case isService && (se.GetHTTPStatusCode() == http.StatusTooManyRequests || se.GetHTTPStatusCode() >= 500):
		return validate.Errored(name, fmt.Sprintf("%s answered HTTP %d%s; try again later", op, se.GetHTTPStatusCode(), code(se)))
	case isService:
		return provider.Check{Name: name, Status: provider.CheckUnknown, Message: fmt.Sprintf("%s answered HTTP %d%s", op, se.GetHTTPStatusCode(), code(se))}
	case validate.Unreachable(err):
		return validate.Errored(name, "could not reach OCI for "+op)
	default:
		return validate.Errored(name, "unexpected answer from OCI to "+op)
	}
}

// code is the service's error code for messages; the service message is left out, it can be
// long and adds nothing the code does not say.
func code(se common.ServiceError) string {
	c := se.GetCode()
	if c == "" || len(c) > 64 || strings.ContainsAny(c, " \n\"") {
		return ""
	}
	return " (" + c + ")"
}

// skipped completes a check that stopped validation with every other check, as unknown, so a
// report always lists the same checks.
func skipped(auth provider.Check) []provider.Check {
	out := []provider.Check{auth}
	for _, p := range permissions.OCI {
		out = append(out, provider.Check{Name: validate.PermissionCheck(p.Name), Status: provider.CheckUnknown,
			Message: "not checked: authentication did not succeed", Permission: p.Name})
	}
	return out
}

// location is where the policy must grant: the tenancy itself, or the compartment by OCID so the
// statement works whatever the compartment is called.
func (c config) location() string {
	if c.compartment == c.tenancy {
		return "tenancy"
	}
	return "compartment id " + c.compartment
}

func statement(cfg config, p permissions.Permission) string {
	return permissions.OCIStatement("<group>", cfg.location(), p)
}

func remediation(cfg config, missing []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Add to a policy in the tenancy or a parent compartment; <group> is a group user %s belongs to.\n", cfg.user)
	for _, name := range missing {
		b.WriteString(statement(cfg, permissions.Permission{Name: name}))
		b.WriteByte('\n')
	}
	return b.String()
}
