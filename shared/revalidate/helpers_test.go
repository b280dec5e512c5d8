package revalidate_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/dynamostore"
	"github.com/streamtime/fleet-providers/shared/embedded"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/revalidate"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// One DynamoDB Local per test binary; each test gets its own table.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var ctx = context.Background()

var awsConfig = json.RawMessage(`{"aws_access_key":"AKIAIOSFODNN7EXAMPLE","aws_access_secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`)

const secretValue = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// newStore returns a DynamoDB store on a fresh table of the shared DynamoDB Local.
func newStore(tb testing.TB, opts ...func(*dynamodb.Options)) *dynamostore.Store {
	tb.Helper()
	client := dynamodb.NewFromConfig(testenv.AWSConfig(testenv.DynamoDB(tb)), opts...)
	table := "providers-" + uuid.NewString()
	if err := dynamostore.CreateTable(ctx, client, table); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return dynamostore.New(client, table)
}

// clock is a test clock: every reading is a millisecond after the last, so reports taken one
// after the other have distinct, ordered times.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// validator is a fleet.Validator whose answer a test sets; it counts its calls.
type validator struct {
	mu     sync.Mutex
	calls  int
	answer func(p *provider.Provider) provider.Report
}

func (v *validator) Validate(_ context.Context, p *provider.Provider, secret map[string]string) provider.Report {
	v.mu.Lock()
	v.calls++
	answer := v.answer
	v.mu.Unlock()
	if secret["aws_access_secret"] != secretValue {
		return report(provider.CheckFailed, "authenticate", "secret not passed to the validator")
	}
	return answer(p)
}

func (v *validator) set(answer func(p *provider.Provider) provider.Report) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.answer = answer
}

func (v *validator) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls
}

// report is a report of one check with status s.
func report(s provider.CheckStatus, name, message string) provider.Report {
	r := provider.Report{Checks: []provider.Check{{Name: name, Status: s, Message: message}}}
	if s == provider.CheckFailed {
		r.Checks[0].Permission = name
		r.MissingPermissions = []string{name}
	}
	return r
}

func answer(s provider.CheckStatus) func(*provider.Provider) provider.Report {
	return func(*provider.Provider) provider.Report { return report(s, "eks:ListClusters", "") }
}

// notifier records status changes.
type notifier struct {
	mu      sync.Mutex
	changes []fleet.StatusChange
}

func (n *notifier) StatusChanged(_ context.Context, c fleet.StatusChange) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.changes = append(n.changes, c)
	return nil
}

func (n *notifier) take() []fleet.StatusChange {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.changes
	n.changes = nil
	return out
}

// world is the service on DynamoDB Local (secrets in an embedded store: their backend is not
// what these tests are about), with a scripted validator and a recording notifier.
type world struct {
	store     *dynamostore.Store
	secrets   fleet.SecretStore
	svc       *fleet.Service
	clock     *clock
	validator *validator
	notes     *notifier
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{store: newStore(t), secrets: db.Secrets(), clock: newClock(),
		validator: &validator{answer: answer(provider.CheckPassed)}, notes: &notifier{}}
	w.svc = fleet.New(w.store, w.secrets, fleet.Validators{provider.AWS: w.validator},
		fleet.Options{Now: w.clock.Now, Notifier: w.notes})
	return w
}

func (w *world) create(t *testing.T, identifier string) *provider.Provider {
	t.Helper()
	p, err := w.svc.Create(ctx, fleet.CreateInput{Org: "acme", Identifier: identifier, Type: provider.AWS, Config: awsConfig})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) get(t *testing.T, id string) *provider.Provider {
	t.Helper()
	p, err := w.store.Get(ctx, "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) dispatcher(q revalidate.Queue, opts revalidate.DispatchOptions) *revalidate.Dispatcher {
	opts.Now = w.clock.Now
	return revalidate.NewDispatcher(w.store, q, opts)
}

// recorder is a Queue that keeps what it is sent, in order.
type recorder struct {
	mu   sync.Mutex
	msgs []revalidate.Message
	send func([]revalidate.Message) error
}

func (r *recorder) Send(_ context.Context, batch []revalidate.Message) error {
	if r.send != nil {
		if err := r.send(batch); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, batch...)
	return nil
}

func (r *recorder) take() []revalidate.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

// memSecrets is a fleet.SecretStore in memory, for the benchmark: 10,000 secrets in an
// emulator would measure the emulator.
type memSecrets struct {
	mu sync.RWMutex
	m  map[fleet.SecretRef]map[string]string
}

func (s *memSecrets) Put(_ context.Context, ref fleet.SecretRef, _ string, data map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[fleet.SecretRef]map[string]string{}
	}
	s.m[ref] = maps.Clone(data)
	return nil
}

func (s *memSecrets) Get(_ context.Context, ref fleet.SecretRef, _ string) (map[string]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.m[ref]
	if !ok {
		return nil, provider.ErrNotFound
	}
	return maps.Clone(d), nil
}

func (s *memSecrets) Delete(_ context.Context, ref fleet.SecretRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, ref)
	return nil
}

func (s *memSecrets) List(context.Context, func(fleet.SecretInfo) error) error { return nil }

func (s *memSecrets) SetCurrent(context.Context, fleet.SecretRef, string) error { return nil }
