package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/authorizer/example"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/runtimeapi"
	"github.com/streamtime/fleet-providers/shared/runtimeapi/lambdafn"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// wantStatus is what each HTTP event must get from its function's bootstrap against a store
// holding the seeded provider. Every HTTP event must be listed: a new event states its outcome.
var wantStatus = map[string][]int{
	"create.json":              {201},
	"create-invalid.json":      {400},
	"create-wrong-org.json":    {403},
	"get.json":                 {200},
	"get-not-found.json":       {404},
	"get-unauthenticated.json": {401},
	"list.json":                {200},
	"list-page.json":           {200},
	"update.json":              {200},
	"update-rotate.json":       {200},
	"delete.json":              {204},
	// The validators' calls meet the closed proxy of defaultEnv: a report of status "error".
	"validate.json": {200},
}

// wantAuthorized is whether each authorizer event's token yields a principal under the example issuer's keys.
var wantAuthorized = map[string]bool{
	"authorizer.json":         true,
	"authorizer-expired.json": false,
	"authorizer-garbage.json": false,
}

// succeeds lists the events of other sources (schedule, queue) and the environment their function
// needs beyond the default one; each must run without a function error against the seeded store.
var succeeds = map[string][]string{
	"repair.json": {"REPAIR_GRACE=15m"}, // the seeded provider's secret is live: nothing to repair
}

// bootstraps builds each function once per test binary, for this machine, with the Makefile's rule.
type bootstraps struct {
	dir  string
	mu   sync.Mutex
	once map[string]*sync.Once
	path map[string]string
	err  map[string]error
}

var built = &bootstraps{once: map[string]*sync.Once{}, path: map[string]string{}, err: map[string]error{}}

func (b *bootstraps) get(t *testing.T, name string) string {
	t.Helper()
	b.mu.Lock()
	if b.dir == "" {
		dir, err := os.MkdirTemp("", "deploytest-bootstraps")
		if err != nil {
			b.mu.Unlock()
			t.Fatal(err)
		}
		b.dir = dir
	}
	once := b.once[name]
	if once == nil {
		once = new(sync.Once)
		b.once[name] = once
	}
	b.mu.Unlock()
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		p, err := lambdafn.Build(ctx, testenv.Root(), name, lambdafn.Host(), filepath.Join(b.dir, name), nil)
		b.mu.Lock()
		b.path[name], b.err[name] = p, err
		b.mu.Unlock()
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.err[name]; err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	return b.path[name]
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// Every file in events/ goes through its function's real bootstrap under the local Runtime API:
// the machinery behind `make invoke`, with the environment the function is deployed with, save
// the embedded store in place of DynamoDB and Secrets Manager.
func TestEveryEventThroughItsBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function")
	}
	for _, file := range eventFiles(t) {
		name, fn := filepath.Base(file), functionOf(file)
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case wantStatus[name] != nil:
			t.Run(name, func(t *testing.T) { httpEvent(t, fn, raw, wantStatus[name]) })
		case strings.HasPrefix(name, "authorizer"):
			want, ok := wantAuthorized[name]
			if !ok {
				t.Errorf("%s: add its expected answer to wantAuthorized", name)
				continue
			}
			t.Run(name, func(t *testing.T) { authorizerEvent(t, raw, want) })
		case succeeds[name] != nil:
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				seed(t, dir)
				invoke(t, fn, append(defaultEnv(dir), succeeds[name]...), raw)
			})
		case wantFailures[name] != nil:
			t.Run(name, func(t *testing.T) { workerEvent(t, raw, wantFailures[name]) })
		case name == "dispatcher.json":
			t.Run(name, func(t *testing.T) { dispatcherEvent(t, raw) })
		default:
			t.Errorf("%s: add its expected outcome to this test", name)
		}
	}
}

func invoke(t *testing.T, fn string, env []string, event []byte) []byte {
	t.Helper()
	var logs bytes.Buffer
	out, err := runtimeapi.Invoke(context.Background(), runtimeapi.Function{
		Bootstrap: built.get(t, fn), Name: lambdafn.LogicalID(fn), Env: env,
		Timeout: 20 * time.Second, Stdout: &logs, Stderr: &logs,
	}, event)
	if err != nil {
		t.Fatalf("%v\nfunction output:\n%s", err, logs.String())
	}
	return out
}

// defaultEnv is the deployed functions' environment on an embedded store in dir. Outbound HTTP
// goes to a proxy on a closed loopback port, so the real validators in the validate binary can
// never reach a cloud from a test: they report "error", as they would for an outage.
func defaultEnv(dir string) []string {
	return []string{"STORE=embedded", "DATA_DIR=" + dir, "AUTH_MODE=authorizer", "VALIDATE_TIMEOUT=5s",
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY="}
}

func httpEvent(t *testing.T, fn string, event []byte, want []int) {
	dir := t.TempDir()
	seed(t, dir)
	out := invoke(t, fn, defaultEnv(dir), event)
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("not an HTTP API response: %v: %s", err, out)
	}
	if !slices.Contains(want, res.StatusCode) {
		t.Fatalf("status %d, want %v: %s", res.StatusCode, want, res.Body)
	}
	if res.StatusCode >= 400 && res.Headers["Content-Type"] != "application/problem+json" {
		t.Fatalf("error without problem+json: %v", res.Headers)
	}
	if strings.Contains(res.Body, "EXAMPLEKEY") {
		t.Fatalf("secret in response: %s", res.Body)
	}
}

func authorizerEvent(t *testing.T, event []byte, want bool) {
	env := []string{"STORE=embedded", "AUTH_MODE=token",
		"AUTH_ISSUER=" + example.Issuer, "AUTH_AUDIENCE=" + example.Audience, "AUTH_JWKS=" + string(example.JWKS)}
	out := invoke(t, "authorizer", env, event)
	var res events.APIGatewayV2CustomAuthorizerSimpleResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("not a simple authorizer response: %v: %s", err, out)
	}
	// Rejected tokens pass with no principal, for the handlers to answer 401.
	if !res.IsAuthorized || (want && res.Context["org"] != "acme") || (!want && res.Context != nil) {
		t.Fatalf("got %s, want a principal: %v", out, want)
	}
}

// seed stores the provider the events refer to in a data dir, then closes it for the bootstrap.
func seed(t *testing.T, dir string) {
	t.Helper()
	env := map[string]string{"STORE": "embedded", "DATA_DIR": dir, "AUTH_MODE": "authorizer"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(context.Background(), cfg, app.Parts{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	testenv.SeedEventProvider(t, a.Store, a.Secrets)
}

// wantFailures is each worker event's batch item failures against the seeded provider.
var wantFailures = map[string][]string{
	"worker.json":       {},
	"worker-batch.json": {"e7d6c5b4-a392-4817-9f6e-5d4c3b2a1908"}, // the truncated body
}

func workerEvent(t *testing.T, event []byte, want []string) {
	dir := t.TempDir()
	seed(t, dir)
	out := invoke(t, "worker", defaultEnv(dir), event)
	var res events.SQSEventResponse
	if err := json.Unmarshal(out, &res); err != nil || res.BatchItemFailures == nil {
		t.Fatalf("not an SQS batch response: %v: %s", err, out)
	}
	var got []string
	for _, f := range res.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	if !slices.Equal(got, want) && len(got)+len(want) > 0 {
		t.Fatalf("batch item failures %v, want %v", got, want)
	}
}

// The dispatcher on the embedded store has no queue: it logs what it would enqueue.
func dispatcherEvent(t *testing.T, event []byte) {
	dir := t.TempDir()
	seed(t, dir)
	out := invoke(t, "dispatcher", []string{"STORE=embedded", "DATA_DIR=" + dir, "AUTH_MODE=authorizer"}, event)
	var res struct {
		Enqueued int  `json:"enqueued"`
		Complete bool `json:"complete"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Enqueued != 1 || !res.Complete {
		t.Fatalf("dispatcher run %s (%v), want the seeded provider enqueued", out, err)
	}
}
