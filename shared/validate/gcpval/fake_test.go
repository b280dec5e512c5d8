package gcpval

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/permissions"
)

// A fake Google on 127.0.0.1: OAuth token endpoint, Resource Manager testIamPermissions, GKE
// ListClusters and the x509 certificate metadata, on one ServeMux. The token endpoint verifies the
// RS256 assertion against the registered public key; the API routes require the token it issued.

const (
	testProject = "streamtime-test-1"
	testEmail   = "fleet@streamtime-test-1.iam.gserviceaccount.com"
	testKeyID   = "0123456789abcdef0123456789abcdef01234567"
	testToken   = "ya29.fake-access-token-0123456789"
)

// Keys are generated once: one registered with the fake, one it does not know.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

func registeredKey() *rsa.PrivateKey { return testKeys()[0] }
func unknownKey() *rsa.PrivateKey    { return testKeys()[1] }

// fakeConfig is fixed before the server starts, so handlers read it without locks.
type fakeConfig struct {
	granted  []string                 // permissions the account holds; nil means all of permissions.GCP
	delay    map[string]time.Duration // per route: token, iam, list, certs
	status   map[string]int           // per route: answer with this error status instead
	reason   map[string]string        // per route: ErrorInfo reason of the error answer
	redirect string                   // token route redirects (307) here
	notAfter time.Time                // validity of the key's certificate; zero means year 9999
}

type fake struct {
	cfg fakeConfig
	srv *httptest.Server
	pub *rsa.PublicKey
	// certPEM is served as the registered key's certificate.
	certPEM string
	// calls counts requests per route, including "decoy" (anything not Google's).
	calls sync.Map // string -> *atomic.Int32
}

func newFake(t testing.TB, cfg fakeConfig) *fake {
	f := &fake{cfg: cfg, pub: &registeredKey().PublicKey, certPEM: makeCert(t, cfg.notAfter)}
	if f.cfg.granted == nil {
		f.cfg.granted = permissions.Names(permissions.GCP)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.route("token", f.handleToken))
	mux.HandleFunc("POST /v1/projects/{res}", f.route("iam", f.handleTestIAM))
	mux.HandleFunc("GET /v1/projects/{project}/locations/{loc}/clusters", f.route("list", f.handleList))
	mux.HandleFunc("GET /certs/{email}", f.route("certs", f.handleCerts))
	mux.HandleFunc("/", f.route("decoy", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not Google", http.StatusTeapot)
	}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) count(route string) int {
	c, _ := f.calls.LoadOrStore(route, new(atomic.Int32))
	return int(c.(*atomic.Int32).Load())
}

// route counts the call, applies the configured delay and forced status, then runs h.
func (f *fake) route(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _ := f.calls.LoadOrStore(name, new(atomic.Int32))
		c.(*atomic.Int32).Add(1)
		if d := f.cfg.delay[name]; d > 0 {
			// Read the body first: only then does the server notice a client that gave up and
			// cancel r.Context(), so server Close does not wait out the delay.
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		if code := f.cfg.status[name]; code != 0 {
			googleError(w, code, "forced failure", f.cfg.reason[name])
			return
		}
		h(w, r)
	}
}

func (f *fake) validator(perCall time.Duration) *Validator {
	return New(Options{
		TokenURL:                f.srv.URL + "/token",
		ResourceManagerEndpoint: f.srv.URL,
		ContainerEndpoint:       f.srv.URL,
		CertsEndpoint:           f.srv.URL + "/certs/",
		PerCallTimeout:          perCall,
	})
}

func (f *fake) handleToken(w http.ResponseWriter, r *http.Request) {
	if f.cfg.redirect != "" {
		http.Redirect(w, r, f.cfg.redirect, http.StatusTemporaryRedirect)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthFail(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type.")
		return
	}
	if err := f.verifyAssertion(r.PostForm.Get("assertion")); err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599,"token_type":"Bearer"}`, testToken)
}

// verifyAssertion checks what Google checks: an RS256 JWT from the account, for this endpoint,
// signed by the key named in kid.
func (f *fake) verifyAssertion(a string) error {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return errors.New("Invalid JWT.")
	}
	var h struct{ Alg, Kid string }
	var c struct {
		Iss, Aud, Scope string
		Iat, Exp        int64
	}
	if decodeSegment(parts[0], &h) != nil || decodeSegment(parts[1], &c) != nil {
		return errors.New("Invalid JWT.")
	}
	if h.Alg != "RS256" || h.Kid != testKeyID {
		return errors.New("Invalid JWT: unknown key.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("Invalid JWT Signature.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], sig) != nil {
		return errors.New("Invalid JWT Signature.")
	}
	now := time.Now().Unix()
	switch {
	case c.Iss != testEmail:
		return errors.New("Invalid JWT: wrong issuer.")
	case c.Aud != f.srv.URL+"/token":
		return errors.New("Invalid JWT: wrong audience.")
	case !slices.Contains(strings.Fields(c.Scope), cloudPlatformScope):
		return errors.New("Invalid JWT: wrong scope.")
	case c.Exp <= now || c.Iat > now+60:
		return errors.New("Invalid JWT: Token must be a short-lived token.")
	}
	return nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (f *fake) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		googleError(w, http.StatusUnauthorized, "Request had invalid authentication credentials.", "")
		return false
	}
	return true
}

func (f *fake) handleTestIAM(w http.ResponseWriter, r *http.Request) {
	// Go's ServeMux captures "proj:testIamPermissions" as one segment.
	project, method, _ := strings.Cut(r.PathValue("res"), ":")
	if method != "testIamPermissions" {
		http.NotFound(w, r)
		return
	}
	if !f.authorized(w, r) {
		return
	}
	if project != testProject {
		googleError(w, http.StatusForbidden, "The caller does not have permission", "")
		return
	}
	var req struct{ Permissions []string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		googleError(w, http.StatusBadRequest, "bad body", "")
		return
	}
	held := []string{}
	for _, p := range req.Permissions {
		if slices.Contains(f.cfg.granted, p) {
			held = append(held, p)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"permissions": held})
}

func (f *fake) handleList(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	if r.PathValue("project") != testProject || r.PathValue("loc") != "-" {
		googleError(w, http.StatusNotFound, "not found", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"clusters":[{"name":"prod","location":"europe-west1"}]}`)
}

func (f *fake) handleCerts(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("email") != testEmail {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{testKeyID: f.certPEM})
}

// makeCert is the certificate Google publishes for the registered key, valid until notAfter
// (zero: year 9999, as for keys without an expiry).
func makeCert(t testing.TB, notAfter time.Time) string {
	if notAfter.IsZero() {
		notAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: testEmail},
		NotBefore:    time.Now().Add(-24 * time.Hour),
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &registeredKey().PublicKey, registeredKey())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func oauthFail(w http.ResponseWriter, code int, e, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e, "error_description": desc})
}

// rpcStatus is the google.rpc.Code name Google puts beside an HTTP status (the client rejects
// error bodies with other names).
var rpcStatus = map[int]string{
	400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
}

// googleError writes Google's JSON error shape, with an ErrorInfo reason when given.
func googleError(w http.ResponseWriter, code int, msg, reason string) {
	body := map[string]any{"code": code, "message": msg, "status": rpcStatus[code]}
	if reason != "" {
		body["details"] = []any{map[string]any{
			"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": reason,
			"domain": "googleapis.com",
		}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

// keyPEM is k as the PKCS#8 PEM a Google key file holds.
func keyPEM(k *rsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// keyJSON is a service account key file for the test account, signed with k, naming tokenURI.
func keyJSON(k *rsa.PrivateKey, tokenURI string) string {
	b, _ := json.Marshal(map[string]string{
		"type":                        "service_account",
		"project_id":                  testProject,
		"private_key_id":              testKeyID,
		"private_key":                 keyPEM(k),
		"client_email":                testEmail,
		"client_id":                   "112233445566778899000",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/fleet%40streamtime-test-1.iam.gserviceaccount.com",
		"universe_domain":             "googleapis.com",
	})
	return string(b)
}
