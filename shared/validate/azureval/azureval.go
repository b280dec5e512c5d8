// Package azureval validates Azure fleet providers: a client-secret token from Entra ID, a read of
// the subscription, the identity's effective permissions at subscription scope (checked against
// permissions.Azure), and a side-effect-free AKS list as a probe.
package azureval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate"
)

// Check names, stable for clients and dashboards.
const (
	CheckAuthentication = validate.CheckAuthentication
	CheckSubscription   = "subscription"
	CheckProbeAKSList   = "probe:aks_list_clusters"
	// PermissionCheckPrefix precedes the permission in a check name (validate.PermissionCheck).
	PermissionCheckPrefix = "permission:"
)

const (
	defaultPerCallTimeout  = 8 * time.Second
	permissionsAPIVersion  = "2022-04-01"
	subscriptionAPIVersion = "2022-12-01"
	// maxPermissionPages bounds how many nextLink pages are followed; a principal has one entry per
	// role assignment, so real answers fit in one page.
	maxPermissionPages = 10
	// moduleName and moduleVersion identify our raw ARM calls in azcore's telemetry header.
	moduleName    = "github.com/streamtime/fleet-providers/shared/validate/azureval"
	moduleVersion = "v1.0.0"
	aksReadAction = "Microsoft.ContainerService/managedClusters/read"
)

// Options configures a Validator. The zero value validates against the Azure public cloud.
type Options struct {
	// Cloud is where tokens and ARM calls go. It comes from the service's configuration, never
	// from a provider's input, so a customer cannot steer the secret to another host.
	// Zero value: cloud.AzurePublic.
	Cloud cloud.Configuration
	// Transport sends every HTTP request (tests pass a client trusting a local TLS server).
	// Nil: azcore's default transport.
	Transport policy.Transporter
	// PerCallTimeout bounds each call to Azure. Zero: 8s.
	PerCallTimeout time.Duration
}

// Validator validates Azure providers. It is safe for concurrent use.
type Validator struct {
	opts Options
}

// New returns a Validator with opts' defaults filled in.
func New(opts Options) *Validator {
	if opts.Cloud.ActiveDirectoryAuthorityHost == "" {
		opts.Cloud = cloud.AzurePublic
	}
	if opts.PerCallTimeout <= 0 {
		opts.PerCallTimeout = defaultPerCallTimeout
	}
	return &Validator{opts: opts}
}

type config struct {
	tenant, client, subscription, secret string
}

// Validate implements fleet.Validator.
func (v *Validator) Validate(ctx context.Context, p *provider.Provider, secret map[string]string) provider.Report {
	start := time.Now()
	cfg := config{
		tenant:       p.ConfigString("tenant_id"),
		client:       p.ConfigString("client_id"),
		subscription: p.ConfigString("subscription_id"),
		secret:       secret["client_secret"],
	}
	r := provider.Report{
		CheckedAt: start.UTC(),
		Identity: map[string]string{
			"tenant_id":       cfg.tenant,
			"client_id":       cfg.client,
			"subscription_id": cfg.subscription,
		},
	}
	r.Checks = v.run(ctx, cfg, r.Identity)
	r.MissingPermissions = validate.Missing(r.Checks)
	if len(r.MissingPermissions) > 0 {
		r.Remediation = remediation(cfg, r.MissingPermissions)
	}
	validate.Finish(&r, start)
	return r
}

func (v *Validator) run(ctx context.Context, cfg config, identity map[string]string) []provider.Check {
	if missing := cfg.missing(); missing != "" {
		return skipped(notAuthenticated, validate.Failed(CheckAuthentication, "configuration lacks "+missing+"; nothing was sent to Azure"))
	}
	clientOpts := policy.ClientOptions{
		Cloud:     v.opts.Cloud,
		Transport: v.opts.Transport,
		// One attempt per call: the deadline is short and an unanswered call is reported as error.
		Retry: policy.RetryOptions{MaxRetries: -1},
	}
	cred, err := azidentity.NewClientSecretCredential(cfg.tenant, cfg.client, cfg.secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: clientOpts,
		// Instance discovery would ask login.microsoftonline.com about the authority; the
		// authority comes from our own configuration, so there is nothing to discover.
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		// Only malformed tenant or client ids get here; the error text is not needed to say so.
		return skipped(notAuthenticated, validate.Failed(CheckAuthentication, "tenant_id or client_id is not usable as an Entra ID identifier"))
	}

	auth := v.authenticate(ctx, cred)
	if auth.Status != provider.CheckPassed {
		return skipped(notAuthenticated, auth)
	}

	armOpts := &arm.ClientOptions{
		ClientOptions: clientOpts,
		// The ARM pipeline would otherwise register resource providers on a 409, a write to the
		// customer's subscription; validation must not change anything.
		DisableRPRegistration: true,
	}
	armClient, err := arm.NewClient(moduleName, moduleVersion, cred, armOpts)
	if err == nil {
		var aks *armcontainerservice.ManagedClustersClient
		if aks, err = armcontainerservice.NewManagedClustersClient(cfg.subscription, cred, armOpts); err == nil {
			return append([]provider.Check{auth}, v.armChecks(ctx, armClient, aks, cfg.subscription, identity)...)
		}
	}
	// Only the service's own cloud configuration (no Resource Manager endpoint) gets here.
	const msg = "not checked: the service's Azure cloud configuration is unusable"
	return skipped(msg, auth, validate.Errored(CheckSubscription, msg))
}

// armChecks runs the ARM checks concurrently, each under its own deadline.
func (v *Validator) armChecks(ctx context.Context, armClient *arm.Client, aks *armcontainerservice.ManagedClustersClient, sub string, identity map[string]string) []provider.Check {

	var subName string
	checks := validate.Parallel(ctx, v.opts.PerCallTimeout,
		func(ctx context.Context) []provider.Check {
			c, name := v.subscription(ctx, armClient, sub)
			subName = name
			return []provider.Check{c}
		},
		func(ctx context.Context) []provider.Check {
			return v.permissions(ctx, armClient, sub)
		},
		func(ctx context.Context) []provider.Check {
			return []provider.Check{v.probe(ctx, aks)}
		},
	)
	if subName != "" { // Parallel has returned, so the write above happened before this read
		identity["subscription_name"] = subName
	}
	return checks
}

func (c config) missing() string {
	var m []string
	for _, f := range []struct{ name, value string }{
		{"tenant_id", c.tenant}, {"client_id", c.client}, {"subscription_id", c.subscription}, {"client_secret", c.secret},
	} {
		if f.value == "" {
			m = append(m, f.name)
		}
	}
	return strings.Join(m, ", ")
}

// authenticate asks Entra ID for an ARM token. The credential caches it, so the ARM calls that
// follow reuse it rather than racing for tokens of their own.
func (v *Validator) authenticate(ctx context.Context, cred *azidentity.ClientSecretCredential) provider.Check {
	ctx, cancel := context.WithTimeout(ctx, v.opts.PerCallTimeout)
	defer cancel()
	_, err := cred.GetToken(ctx, policy.TokenRequestOptions{
		Scopes: []string{v.audience() + "/.default"},
		// The ARM pipeline asks for CAE tokens; asking the same way lets it reuse this one.
		EnableCAE: true,
	})
	if err == nil {
		return provider.Check{Name: CheckAuthentication, Status: provider.CheckPassed, Message: "Entra ID issued a token for the client secret"}
	}
	if ctx.Err() != nil {
		return validate.Errored(CheckAuthentication, v.timeoutMessage("Entra ID"))
	}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		code := entraErrorCode(afe.RawResponse)
		switch s := afe.RawResponse.StatusCode; {
		case s == http.StatusTooManyRequests || s >= 500:
			return validate.Errored(CheckAuthentication, fmt.Sprintf("Entra ID answered HTTP %d%s; try again later", s, code))
		case s >= 400:
			return validate.Failed(CheckAuthentication, "Entra ID rejected the tenant, client id or client secret"+code)
		}
	}
	return validate.Errored(CheckAuthentication, "could not reach Entra ID")
}

func (v *Validator) audience() string {
	return strings.TrimSuffix(v.opts.Cloud.Services[cloud.ResourceManager].Audience, "/")
}

var aadstsRE = regexp.MustCompile(`AADSTS[0-9]+`)

// entraErrorCode returns " (<error>, AADSTS<n>)" from an Entra ID error body, for support. Only the
// codes are kept: descriptions are long and add nothing the codes do not say.
func entraErrorCode(resp *http.Response) string {
	body, err := runtime.Payload(resp)
	if err != nil {
		return ""
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	var parts []string
	if isToken(e.Error) {
		parts = append(parts, e.Error)
	}
	if c := aadstsRE.FindString(e.Description); c != "" {
		parts = append(parts, c)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func isToken(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// subscription reads the subscription and returns its display name.
func (v *Validator) subscription(ctx context.Context, c *arm.Client, sub string) (provider.Check, string) {
	var body struct {
		DisplayName string `json:"displayName"`
		State       string `json:"state"`
	}
	u := c.Endpoint() + "/subscriptions/" + url.PathEscape(sub) + "?api-version=" + subscriptionAPIVersion
	if err := getJSON(ctx, c, u, &body); err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) {
			switch re.StatusCode {
			case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
				return validate.Failed(CheckSubscription, fmt.Sprintf("subscription not found or not visible to the application (HTTP %d%s); assign the role at subscription scope", re.StatusCode, armCode(re))), ""
			}
		}
		return v.callError(ctx, CheckSubscription, "Azure Resource Manager", err), ""
	}
	switch body.State {
	case "Disabled", "Deleted":
		return validate.Failed(CheckSubscription, "subscription is "+body.State+"; clusters cannot be created in it"), body.DisplayName
	}
	msg := "subscription is readable"
	if body.State != "" {
		msg += " (state " + body.State + ")"
	}
	return provider.Check{Name: CheckSubscription, Status: provider.CheckPassed, Message: msg}, body.DisplayName
}

// grant is one entry of the permissions API: what one role assignment allows.
type grant struct {
	Actions    []string `json:"actions"`
	NotActions []string `json:"notActions"`
}

// permissions evaluates every action of permissions.Azure against the identity's effective
// permissions at subscription scope, one check per action.
func (v *Validator) permissions(ctx context.Context, c *arm.Client, sub string) []provider.Check {
	grants, err := v.fetchGrants(ctx, c, sub)
	if err != nil {
		var status provider.CheckStatus
		var msg string
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != http.StatusTooManyRequests {
			status, msg = provider.CheckUnknown, fmt.Sprintf("could not read the application's permissions at subscription scope (HTTP %d%s)", re.StatusCode, armCode(re))
		} else {
			e := v.callError(ctx, "", "Azure Resource Manager", err)
			status, msg = e.Status, e.Message
		}
		out := make([]provider.Check, len(permissions.Azure))
		for i, p := range permissions.Azure {
			out[i] = provider.Check{Name: validate.PermissionCheck(p.Name), Status: status, Message: msg, Permission: p.Name}
		}
		return out
	}
	out := make([]provider.Check, len(permissions.Azure))
	for i, p := range permissions.Azure {
		c := provider.Check{Name: validate.PermissionCheck(p.Name), Permission: p.Name}
		switch ok, excludedBy := allowed(grants, p.Name); {
		case ok:
			c.Status, c.Message = provider.CheckPassed, "granted at subscription scope"
		case excludedBy != "":
			c.Status, c.Message = provider.CheckFailed, fmt.Sprintf("excluded by notActions %q at subscription scope; needed to: %s", excludedBy, p.Why)
		default:
			c.Status, c.Message = provider.CheckFailed, "not granted at subscription scope; needed to: "+p.Why
		}
		out[i] = c
	}
	return out
}

func (v *Validator) fetchGrants(ctx context.Context, c *arm.Client, sub string) ([]grant, error) {
	endpoint, err := url.Parse(c.Endpoint())
	if err != nil {
		return nil, err
	}
	next := c.Endpoint() + "/subscriptions/" + url.PathEscape(sub) +
		"/providers/Microsoft.Authorization/permissions?api-version=" + permissionsAPIVersion
	var grants []grant
	for page := 0; next != ""; page++ {
		if page == maxPermissionPages {
			return nil, errors.New("permissions listing has too many pages")
		}
		var body struct {
			Value    []grant `json:"value"`
			NextLink string  `json:"nextLink"`
		}
		if err := getJSON(ctx, c, next, &body); err != nil {
			return nil, err
		}
		grants = append(grants, body.Value...)
		next = body.NextLink
		// The pipeline attaches the token to whatever URL it is given: follow only links that stay
		// on the ARM endpoint.
		if next != "" {
			n, err := url.Parse(next)
			if err != nil || n.Scheme != endpoint.Scheme || n.Host != endpoint.Host {
				return nil, errors.New("permissions nextLink leaves the ARM endpoint")
			}
		}
	}
	return grants, nil
}

// allowed reports whether any grant allows action without excluding it in its own notActions
// (Azure applies notActions per role assignment, not across them). If not, excludedBy is the
// notActions pattern that removed it, or "" when nothing granted it at all.
func allowed(grants []grant, action string) (ok bool, excludedBy string) {
	for _, g := range grants {
		if !matchAny(g.Actions, action) {
			continue
		}
		if ex := firstMatch(g.NotActions, action); ex != "" {
			excludedBy = ex
			continue
		}
		return true, ""
	}
	return false, excludedBy
}

func matchAny(patterns []string, action string) bool { return firstMatch(patterns, action) != "" }

func firstMatch(patterns []string, action string) string {
	for _, p := range patterns {
		if matchAction(p, action) {
			return p
		}
	}
	return ""
}

// matchAction reports whether an Azure RBAC action pattern matches action. Azure compares
// case-insensitively and "*" stands for any run of characters, "/" included
// ("Microsoft.ContainerService/*", "*/read", "*").
func matchAction(pattern, action string) bool {
	p, a := strings.ToLower(pattern), strings.ToLower(action)
	// Greedy match with backtracking to the last star: linear in practice, no regexp compilation
	// of customer-controlled patterns.
	pi, ai, star, mark := 0, 0, -1, 0
	for ai < len(a) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ai
			pi++
		case pi < len(p) && p[pi] == a[ai]:
			pi++
			ai++
		case star >= 0:
			mark++
			pi, ai = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// probe lists AKS clusters (first page only): proof that the AKS API answers this identity.
func (v *Validator) probe(ctx context.Context, aks *armcontainerservice.ManagedClustersClient) provider.Check {
	_, err := aks.NewListPager(nil).NextPage(ctx)
	if err == nil {
		return provider.Check{Name: CheckProbeAKSList, Status: provider.CheckPassed, Message: "listed AKS clusters in the subscription"}
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusConflict && re.ErrorCode == "MissingSubscriptionRegistration":
			return validate.Failed(CheckProbeAKSList, "the Microsoft.ContainerService resource provider is not registered on the subscription; run: az provider register --namespace Microsoft.ContainerService")
		case re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized:
			c := validate.Failed(CheckProbeAKSList, fmt.Sprintf("listing AKS clusters was refused (HTTP %d%s)", re.StatusCode, armCode(re)))
			c.Permission = aksReadAction
			return c
		case re.StatusCode == http.StatusNotFound:
			return validate.Failed(CheckProbeAKSList, fmt.Sprintf("subscription not found by the AKS API (HTTP 404%s)", armCode(re)))
		}
	}
	return v.callError(ctx, CheckProbeAKSList, "the AKS API", err)
}

// callError turns an error that is not a definite refusal into an error (unreachable, throttled,
// server fault) or unknown (an answer we do not understand) check. It never quotes err: SDK
// errors embed whole responses.
func (v *Validator) callError(ctx context.Context, name, service string, err error) provider.Check {
	var re *azcore.ResponseError
	switch {
	case ctx.Err() != nil:
		return validate.Errored(name, v.timeoutMessage(service))
	case errors.As(err, &re) && (re.StatusCode == http.StatusTooManyRequests || re.StatusCode >= 500):
		return validate.Errored(name, fmt.Sprintf("%s answered HTTP %d%s; try again later", service, re.StatusCode, armCode(re)))
	case errors.As(err, &re):
		return provider.Check{Name: name, Status: provider.CheckUnknown, Message: fmt.Sprintf("%s answered HTTP %d%s", service, re.StatusCode, armCode(re))}
	case validate.Unreachable(err):
		return validate.Errored(name, "could not reach "+service)
	default:
		return validate.Errored(name, "unexpected answer from "+service)
	}
}

func (v *Validator) timeoutMessage(service string) string {
	return fmt.Sprintf("no answer from %s within %s", service, v.opts.PerCallTimeout)
}

func armCode(re *azcore.ResponseError) string {
	if re.ErrorCode == "" || !isToken(re.ErrorCode) {
		return ""
	}
	return ", " + re.ErrorCode
}

func getJSON(ctx context.Context, c *arm.Client, u string, out any) error {
	req, err := runtime.NewRequest(ctx, http.MethodGet, u)
	if err != nil {
		return err
	}
	resp, err := c.Pipeline().Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return runtime.NewResponseError(resp)
	}
	return runtime.UnmarshalAsJSON(resp, out)
}

const notAuthenticated = "not checked: authentication did not succeed"

// skipped completes the checks that ran before validation stopped with every check that did not
// run, as unknown with msg, so a report always lists the same checks.
func skipped(msg string, done ...provider.Check) []provider.Check {
	ran := map[string]bool{}
	for _, c := range done {
		ran[c.Name] = true
	}
	out := append([]provider.Check(nil), done...)
	for _, name := range []string{CheckAuthentication, CheckSubscription} {
		if !ran[name] {
			out = append(out, provider.Check{Name: name, Status: provider.CheckUnknown, Message: msg})
		}
	}
	for _, p := range permissions.Azure {
		out = append(out, provider.Check{Name: validate.PermissionCheck(p.Name), Status: provider.CheckUnknown, Message: msg, Permission: p.Name})
	}
	return append(out, provider.Check{Name: CheckProbeAKSList, Status: provider.CheckUnknown, Message: msg})
}

func remediation(cfg config, missing []string) string {
	var b strings.Builder
	b.WriteString("# Add these actions to the \"Actions\" of the role assigned to the application at subscription scope\n")
	fmt.Fprintf(&b, "# (the %q custom role from Streamtime's setup guide):\n", permissions.AzureRoleName)
	for i, a := range missing {
		sep := ","
		if i == len(missing)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "#   %q%s\n", a, sep)
	}
	b.WriteString("az role definition update --role-definition role.json   # the role definition with the actions added\n")
	fmt.Fprintf(&b, "az role assignment create --assignee %s --role %q --scope /subscriptions/%s\n",
		cfg.client, permissions.AzureRoleName, cfg.subscription)
	return b.String()
}
