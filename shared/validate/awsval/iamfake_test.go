package awsval

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// iamFake is a local endpoint for the calls moto cannot serve here. IAM SimulatePrincipalPolicy
// (moto answers 500) and ListAccessKeys, and EKS ListClusters: moto 5.2.1 in enforcing mode
// rebuilds a GET request's body from its query string (or, without one, from its headers)
// before checking the signature, so every REST GET, boto3's included, gets SignatureDoesNotMatch.
// The fake checks what the SDK sends — the SigV4 signature with the caller's secret, the
// PolicySourceArn, the ActionNames and the condition context — and answers in each service's
// protocol.
type iamFake struct {
	t testing.TB
	// secretFor returns the secret and session token of the access keys the fake accepts.
	secretFor func(keyID string) (secret, token string, ok bool)
	// wantSource is the PolicySourceArn every simulation must name.
	wantSource string
	// deny lists actions answered implicitDeny (or AccessDenied by EKS); all others are allowed.
	deny map[string]bool
	// refuse answers every simulation with AccessDenied.
	refuse bool
	// keyCreated answers ListAccessKeys; a key not in it gets AccessDenied.
	keyCreated map[string]time.Time
	// latency delays every answer (benchmarks).
	latency time.Duration

	mu        sync.Mutex
	simulated []string // actions received, in arrival order
	keyIDs    []string // access key ids that signed requests
}

func newIAMFake(t testing.TB, f *iamFake) *httptest.Server {
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func (f *iamFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodGet && r.URL.Path == "/clusters" {
		f.listClusters(w, r, body)
		return
	}
	form, err := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || err != nil {
		f.t.Errorf("iam fake: want a form POST, got %s %q", r.Method, body)
		queryError(w, http.StatusBadRequest, "MalformedQueryString", "not a form")
		return
	}
	keyID, err := f.verify(r, body, "iam")
	if err != nil {
		f.t.Errorf("iam fake: %v", err)
		queryError(w, http.StatusForbidden, "SignatureDoesNotMatch", "signature check failed")
		return
	}
	f.mu.Lock()
	f.keyIDs = append(f.keyIDs, keyID)
	f.mu.Unlock()

	switch form.Get("Action") {
	case "SimulatePrincipalPolicy":
		f.simulate(w, form)
	case "ListAccessKeys":
		f.listAccessKeys(w, form)
	default:
		f.t.Errorf("iam fake: unexpected action %q", form.Get("Action"))
		queryError(w, http.StatusBadRequest, "InvalidAction", "not implemented by the fake")
	}
}

func (f *iamFake) listClusters(w http.ResponseWriter, r *http.Request, body []byte) {
	keyID, err := f.verify(r, body, "eks")
	if err != nil {
		f.t.Errorf("eks fake: %v", err)
		w.Header().Set("X-Amzn-Errortype", "InvalidSignatureException")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	f.mu.Lock()
	f.keyIDs = append(f.keyIDs, keyID)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.deny["eks:ListClusters"] {
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"not authorized to perform: eks:ListClusters"}`)
		return
	}
	fmt.Fprint(w, `{"clusters":[]}`)
}

// verify recomputes the request's SigV4 signature with the secret the fake knows for its key.
func (f *iamFake) verify(r *http.Request, body []byte, service string) (string, error) {
	auth := r.Header.Get("Authorization")
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		k, v, _ := strings.Cut(part, "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || len(scope) != 5 || scope[3] != service {
		return "", fmt.Errorf("not a SigV4 signature for %s: %q", service, auth)
	}
	keyID, region := scope[0], scope[2]
	secret, token, ok := f.secretFor(keyID)
	if !ok {
		return keyID, fmt.Errorf("request signed with unknown access key %s", keyID)
	}
	if r.Header.Get("X-Amz-Security-Token") != token {
		return keyID, fmt.Errorf("session token missing or wrong for %s", keyID)
	}
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return keyID, fmt.Errorf("X-Amz-Date: %v", err)
	}
	clone, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	clone.Host = r.Host
	clone.ContentLength = int64(len(body))
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		switch h {
		case "host", "x-amz-date", "x-amz-security-token", "content-length":
			continue // the signer sets these itself
		}
		clone.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, clone, hex.EncodeToString(sum[:]), service, region, signedAt); err != nil {
		return keyID, err
	}
	if got, want := auth, clone.Header.Get("Authorization"); got != want {
		return keyID, fmt.Errorf("signature mismatch for %s:\n got %s\nwant %s", keyID, got, want)
	}
	return keyID, nil
}

func (f *iamFake) simulate(w http.ResponseWriter, form url.Values) {
	if src := form.Get("PolicySourceArn"); src != f.wantSource {
		f.t.Errorf("iam fake: PolicySourceArn %q, want %q", src, f.wantSource)
	}
	actions := members(form, "ActionNames")
	if len(actions) == 0 {
		f.t.Errorf("iam fake: no ActionNames")
	}
	context := map[string]string{}
	for i := 1; form.Has(fmt.Sprintf("ContextEntries.member.%d.ContextKeyName", i)); i++ {
		p := fmt.Sprintf("ContextEntries.member.%d.", i)
		context[form.Get(p+"ContextKeyName")] = form.Get(p + "ContextKeyValues.member.1")
	}
	if slices.Contains(actions, "iam:PassRole") && context["iam:PassedToService"] != "eks.amazonaws.com" {
		f.t.Errorf("iam fake: PassRole simulated without iam:PassedToService context: %v", context)
	}
	f.mu.Lock()
	f.simulated = append(f.simulated, actions...)
	f.mu.Unlock()
	if f.refuse {
		queryError(w, http.StatusForbidden, "AccessDenied",
			"User: "+f.wantSource+" is not authorized to perform: iam:SimulatePrincipalPolicy on resource: "+f.wantSource)
		return
	}
	type result struct {
		EvalActionName   string
		EvalResourceName string
		EvalDecision     string
	}
	var out struct {
		XMLName xml.Name `xml:"SimulatePrincipalPolicyResponse"`
		Results []result `xml:"SimulatePrincipalPolicyResult>EvaluationResults>member"`
		Trunc   bool     `xml:"SimulatePrincipalPolicyResult>IsTruncated"`
		ReqID   string   `xml:"ResponseMetadata>RequestId"`
	}
	out.ReqID = "fake"
	for _, a := range actions {
		d := "allowed"
		if f.deny[a] {
			d = "implicitDeny"
		}
		out.Results = append(out.Results, result{a, "*", d})
	}
	writeXML(w, http.StatusOK, out)
}

func (f *iamFake) listAccessKeys(w http.ResponseWriter, form url.Values) {
	user := form.Get("UserName")
	type key struct {
		UserName, AccessKeyId, Status, CreateDate string
	}
	var out struct {
		XMLName xml.Name `xml:"ListAccessKeysResponse"`
		Keys    []key    `xml:"ListAccessKeysResult>AccessKeyMetadata>member"`
		Trunc   bool     `xml:"ListAccessKeysResult>IsTruncated"`
	}
	for id, created := range f.keyCreated {
		out.Keys = append(out.Keys, key{user, id, "Active", created.UTC().Format(time.RFC3339)})
	}
	if len(out.Keys) == 0 {
		queryError(w, http.StatusForbidden, "AccessDenied", "not authorized to perform: iam:ListAccessKeys")
		return
	}
	writeXML(w, http.StatusOK, out)
}

func (f *iamFake) simulatedActions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.simulated)
}

func (f *iamFake) signers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.keyIDs)
}

// members reads a Query-protocol list (Name.member.1, Name.member.2, ...).
func members(form url.Values, name string) []string {
	var out []string
	for i := 1; form.Has(fmt.Sprintf("%s.member.%d", name, i)); i++ {
		out = append(out, form.Get(fmt.Sprintf("%s.member.%d", name, i)))
	}
	return out
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(v)
}

func queryError(w http.ResponseWriter, status int, code, msg string) {
	type detail struct {
		Type, Code, Message string
	}
	writeXML(w, status, struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Error     detail
		RequestID string `xml:"RequestId"`
	}{Error: detail{"Sender", code, msg}, RequestID: "fake"})
}

// stsGate stands in front of moto's STS and adds the one trust-policy rule moto skips: moto
// compares sts:ExternalId when a caller sends one but lets a caller that sends none through. For
// the roles in requireExternalID the gate refuses AssumeRole without an ExternalId, as AWS does
// for a trust policy with a StringEquals sts:ExternalId condition; everything else goes to moto
// unchanged (Host included, so moto still checks the signature). It records what the SDK sent.
type stsGate struct {
	t                 testing.TB
	requireExternalID map[string]bool
	proxy             *httputil.ReverseProxy

	mu      sync.Mutex
	assumed []url.Values // the forms of AssumeRole calls
}

func newSTSGate(t testing.TB, requireExternalID ...string) (*stsGate, string) {
	target, _ := url.Parse(moto.endpoint)
	g := &stsGate{t: t, requireExternalID: map[string]bool{}}
	for _, arn := range requireExternalID {
		g.requireExternalID[arn] = true
	}
	g.proxy = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
	}}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv.URL
}

func (g *stsGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	if form.Get("Action") == "AssumeRole" {
		g.mu.Lock()
		g.assumed = append(g.assumed, form)
		g.mu.Unlock()
		if g.requireExternalID[form.Get("RoleArn")] && !form.Has("ExternalId") {
			queryError(w, http.StatusForbidden, "AccessDenied",
				"User: arn:aws:iam::"+motoAccount+":user/streamtime-service is not authorized to perform: sts:AssumeRole on resource: "+form.Get("RoleArn"))
			return
		}
	}
	g.proxy.ServeHTTP(w, r)
}

func (g *stsGate) assumeCalls() []url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.assumed)
}
