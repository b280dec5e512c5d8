package fleet_test

// Crash safety, round trips and faults of the service on its production backends: DynamoDB
// (DynamoDB Local) and Secrets Manager (moto). One emulator of each serves the whole test; every
// case gets its own table and secret name prefix.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/dynamostore"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/smsecrets"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

const realOrg = "org-real"

var (
	realConfig    = json.RawMessage(`{"aws_access_key":"AKIAIOSFODNN7EXAMPLE","aws_access_secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","region":"eu-west-1"}`)
	rotatedConfig = json.RawMessage(`{"aws_access_key":"AKIAI44QH8DHBEXAMPLE","aws_access_secret":"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}`)
)

// emulators are the endpoints of the running emulators.
type emulators struct{ dynamodb, moto string }

// backends is one isolated pair of stores (own table, own secret prefix) on the emulators, with
// the SDK clients' calls counted.
type backends struct {
	store   *dynamostore.Store
	secrets *smsecrets.Store
	calls   *callCounter
}

func newBackends(t *testing.T, emu emulators) *backends {
	t.Helper()
	calls := &callCounter{calls: map[string]int{}}
	ddb := dynamodb.NewFromConfig(testenv.AWSConfig(emu.dynamodb), func(o *dynamodb.Options) { o.HTTPClient = calls })
	sm := secretsmanager.NewFromConfig(testenv.AWSConfig(emu.moto), func(o *secretsmanager.Options) { o.HTTPClient = calls })
	table := "providers-" + uuid.NewString()
	if err := dynamostore.CreateTable(context.Background(), ddb, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	secrets, err := smsecrets.New(sm, smsecrets.Options{Prefix: "test/" + uuid.NewString()})
	if err != nil {
		t.Fatal(err)
	}
	calls.reset()
	return &backends{store: dynamostore.New(ddb, table), secrets: secrets, calls: calls}
}

func (b *backends) service() *fleet.Service {
	return fleet.New(b.store, b.secrets, nil, fleet.Options{})
}

// callCounter is the SDK clients' HTTP client: it counts API calls by operation
// ("DynamoDB_20120810.GetItem", "secretsmanager.CreateSecret").
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *callCounter) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.calls[r.Header.Get("X-Amz-Target")]++
	c.mu.Unlock()
	return http.DefaultClient.Do(r)
}

// take returns the calls counted since the last take or reset, and starts over.
func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *callCounter) reset() { c.take() }

func TestRealBackends(t *testing.T) {
	emu := emulators{dynamodb: testenv.DynamoDB(t), moto: testenv.Moto(t)}
	t.Run("CrashSafety", func(t *testing.T) { testCrashSafety(t, emu) })
	t.Run("RoundTrips", func(t *testing.T) { testRoundTrips(t, emu) })
	t.Run("Throttling", func(t *testing.T) { testThrottling(t, emu) })
	t.Run("SecretsOutageDuringCreate", func(t *testing.T) { testSecretsOutage(t, emu) })
}

// errCrash is what every call returns once the injector has "killed" the process.
var errCrash = errors.New("injected crash")

// crashMode says what happens at the chosen call.
type crashMode int

const (
	// crashBefore: the process dies before the call reaches AWS.
	crashBefore crashMode = iota
	// crashAfter: the call takes effect, and the process dies before it sees the answer.
	crashAfter
	// lostReply: the call takes effect but its answer is lost (a timeout after the write
	// landed); the process lives on and handles the error as it would any other.
	lostReply
)

func (m crashMode) String() string { return [...]string{"before", "after", "lost_reply"}[m] }

// injector counts the service's calls to its stores and, at call number at, simulates the
// process dying: that call and every later one (including the service's own clean-up attempts,
// which a dead process never makes) fail without reaching the backend.
type injector struct {
	mu    sync.Mutex
	at    int
	mode  crashMode
	calls []string
	dead  bool
}

func (in *injector) do(name string, call func() error) error {
	in.mu.Lock()
	if in.dead {
		in.mu.Unlock()
		return errCrash
	}
	in.calls = append(in.calls, name)
	crash := len(in.calls) == in.at
	in.dead = crash && in.mode != lostReply
	in.mu.Unlock()
	if crash && in.mode == crashBefore {
		return errCrash
	}
	if err := call(); err != nil || !crash {
		return err
	}
	return errCrash
}

type crashingStore struct {
	in *injector
	s  fleet.Store
}

func (c crashingStore) Create(ctx context.Context, p *provider.Provider) error {
	return c.in.do("store.Create", func() error { return c.s.Create(ctx, p) })
}

func (c crashingStore) Get(ctx context.Context, org, id string) (p *provider.Provider, err error) {
	err = c.in.do("store.Get", func() error { p, err = c.s.Get(ctx, org, id); return err })
	return p, err
}

func (c crashingStore) List(ctx context.Context, org string, limit int, after string) (items []*provider.Provider, next string, err error) {
	err = c.in.do("store.List", func() error { items, next, err = c.s.List(ctx, org, limit, after); return err })
	return items, next, err
}

func (c crashingStore) Update(ctx context.Context, prev, next *provider.Provider) error {
	return c.in.do("store.Update", func() error { return c.s.Update(ctx, prev, next) })
}

func (c crashingStore) Delete(ctx context.Context, org, id string) error {
	return c.in.do("store.Delete", func() error { return c.s.Delete(ctx, org, id) })
}

type crashingSecrets struct {
	in *injector
	s  fleet.SecretStore
}

func (c crashingSecrets) Put(ctx context.Context, ref fleet.SecretRef, version string, data map[string]string) error {
	return c.in.do("secrets.Put", func() error { return c.s.Put(ctx, ref, version, data) })
}

func (c crashingSecrets) Get(ctx context.Context, ref fleet.SecretRef, version string) (data map[string]string, err error) {
	err = c.in.do("secrets.Get", func() error { data, err = c.s.Get(ctx, ref, version); return err })
	return data, err
}

func (c crashingSecrets) Delete(ctx context.Context, ref fleet.SecretRef) error {
	return c.in.do("secrets.Delete", func() error { return c.s.Delete(ctx, ref) })
}

func (c crashingSecrets) List(ctx context.Context, fn func(fleet.SecretInfo) error) error {
	return c.in.do("secrets.List", func() error { return c.s.List(ctx, fn) })
}

func (c crashingSecrets) SetCurrent(ctx context.Context, ref fleet.SecretRef, version string) error {
	return c.in.do("secrets.SetCurrent", func() error { return c.s.SetCurrent(ctx, ref, version) })
}

// operation is one service call under test; setup prepares the state it starts from.
type operation struct {
	name  string
	setup func(t *testing.T, svc *fleet.Service) (id string)
	run   func(svc *fleet.Service, id string) error
	// calls is the store calls the operation makes when nothing fails.
	calls []string
}

func createOne(t *testing.T, svc *fleet.Service) string {
	t.Helper()
	p, err := svc.Create(context.Background(), fleet.CreateInput{Org: realOrg, Identifier: "existing", Type: provider.AWS, Config: realConfig})
	if err != nil {
		t.Fatalf("setup create: %v", err)
	}
	return p.ID
}

var operations = []operation{
	{
		name:  "Create",
		setup: func(*testing.T, *fleet.Service) string { return "" },
		run: func(svc *fleet.Service, _ string) error {
			_, err := svc.Create(context.Background(), fleet.CreateInput{Org: realOrg, Identifier: "created", Type: provider.AWS, Config: realConfig})
			return err
		},
		calls: []string{"secrets.Put", "store.Create"},
	},
	{
		name:  "Rotate",
		setup: createOne,
		run: func(svc *fleet.Service, id string) error {
			_, err := svc.Update(context.Background(), realOrg, id, fleet.UpdateInput{Config: rotatedConfig})
			return err
		},
		calls: []string{"store.Get", "secrets.Put", "store.Update"},
	},
	{
		name:  "RenameAndRotate",
		setup: createOne,
		run: func(svc *fleet.Service, id string) error {
			name := "renamed"
			_, err := svc.Update(context.Background(), realOrg, id, fleet.UpdateInput{Identifier: &name, Config: rotatedConfig})
			return err
		},
		calls: []string{"store.Get", "secrets.Put", "store.Update"},
	},
	{
		name:  "Delete",
		setup: createOne,
		run: func(svc *fleet.Service, id string) error {
			return svc.Delete(context.Background(), realOrg, id)
		},
		calls: []string{"store.Delete", "secrets.Delete"},
	},
}

// testCrashSafety kills the process before and after each store call of each operation (and
// loses each call's reply while the process lives on), runs Repair as the restarted process
// would, and checks that the two stores agree.
func testCrashSafety(t *testing.T, emu emulators) {
	for _, op := range operations {
		// Without a crash the operation makes exactly the calls listed.
		t.Run(op.name+"/NoCrash", func(t *testing.T) {
			b := newBackends(t, emu)
			id := op.setup(t, b.service())
			in := &injector{}
			svc := fleet.New(crashingStore{in, b.store}, crashingSecrets{in, b.secrets}, nil, fleet.Options{})
			if err := op.run(svc, id); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
			if !slices.Equal(in.calls, op.calls) {
				t.Fatalf("%s made calls %v, want %v", op.name, in.calls, op.calls)
			}
			assertConsistent(t, b)
		})
		for at := 1; at <= len(op.calls); at++ {
			for _, mode := range []crashMode{crashBefore, crashAfter, lostReply} {
				t.Run(fmt.Sprintf("%s/%s_%s", op.name, mode, op.calls[at-1]), func(t *testing.T) {
					b := newBackends(t, emu)
					id := op.setup(t, b.service())
					in := &injector{at: at, mode: mode}
					svc := fleet.New(crashingStore{in, b.store}, crashingSecrets{in, b.secrets}, nil, fleet.Options{})
					// What the dying process saw does not matter (Delete, for one, reports success
					// once the item is gone); that the crash happened does.
					if err := op.run(svc, id); err != nil && !errors.Is(err, errCrash) {
						t.Fatalf("%s with a crash %s call %d: %v", op.name, mode, at, err)
					}
					if len(in.calls) < at {
						t.Fatalf("%s: never reached call %d", op.name, at)
					}
					// The restarted process repairs; grace 0 because no work is in flight.
					st, err := b.service().Repair(context.Background(), 0)
					if err != nil {
						t.Fatalf("Repair: %v", err)
					}
					t.Logf("calls %v, repair %+v", in.calls, st)
					assertConsistent(t, b)
				})
			}
		}
	}
}

// assertConsistent checks that every secret belongs to an item, every item's secret version is
// readable and current, and that a second Repair finds nothing left to do.
func assertConsistent(t *testing.T, b *backends) {
	t.Helper()
	ctx := context.Background()
	secrets := map[string]fleet.SecretInfo{}
	err := b.secrets.List(ctx, func(i fleet.SecretInfo) error {
		secrets[i.Ref.ProviderID] = i
		if _, err := b.store.Get(ctx, i.Ref.Org, i.Ref.ProviderID); err != nil {
			t.Errorf("secret %v has no item: %v", i.Ref, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("secrets.List: %v", err)
	}
	items, _, err := b.store.List(ctx, realOrg, 100, "")
	if err != nil {
		t.Fatalf("store.List: %v", err)
	}
	for _, p := range items {
		ref := fleet.SecretRef{Org: p.Organization, ProviderID: p.ID}
		if _, err := b.secrets.Get(ctx, ref, p.SecretVersion); err != nil {
			t.Errorf("item %s: secret version %s unreadable: %v", p.ID, p.SecretVersion, err)
		}
		if cur := secrets[p.ID].CurrentVersion; cur != p.SecretVersion {
			t.Errorf("item %s uses secret version %s but %q is current", p.ID, p.SecretVersion, cur)
		}
	}
	if len(secrets) != len(items) {
		t.Errorf("%d secrets for %d items", len(secrets), len(items))
	}
	if st, err := b.service().Repair(ctx, 0); err != nil || st.OrphansDeleted+st.VersionsRestored != 0 {
		t.Errorf("second Repair: %+v, %v; want nothing to do", st, err)
	}
}

// testRoundTrips holds each operation to the AWS calls the design allows, and checks that only
// validation could ever read a secret.
func testRoundTrips(t *testing.T, emu emulators) {
	b := newBackends(t, emu)
	svc := b.service()
	ctx := context.Background()
	step := func(name string, want map[string]int, run func() error) {
		t.Helper()
		b.calls.reset()
		if err := run(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := b.calls.take()
		t.Logf("%s: %v", name, got)
		if got["secretsmanager.GetSecretValue"] != 0 {
			t.Errorf("%s read a secret value", name)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s made calls %v, want %v", name, got, want)
		}
	}

	var p *provider.Provider
	step("create", map[string]int{"secretsmanager.CreateSecret": 1, "DynamoDB_20120810.TransactWriteItems": 1}, func() (err error) {
		p, err = svc.Create(ctx, fleet.CreateInput{Org: realOrg, Identifier: "counted", Type: provider.AWS, Config: realConfig})
		return err
	})
	for i := range 4 {
		if _, err := svc.Create(ctx, fleet.CreateInput{Org: realOrg, Identifier: "more-" + strconv.Itoa(i), Type: provider.AWS, Config: realConfig}); err != nil {
			t.Fatal(err)
		}
	}
	step("get", map[string]int{"DynamoDB_20120810.GetItem": 1}, func() error {
		_, err := svc.Get(ctx, realOrg, p.ID)
		return err
	})
	var page fleet.Page
	step("list first page", map[string]int{"DynamoDB_20120810.Query": 1}, func() (err error) {
		page, err = svc.List(ctx, realOrg, 2, "")
		return err
	})
	step("list next page", map[string]int{"DynamoDB_20120810.Query": 1}, func() error {
		_, err := svc.List(ctx, realOrg, 2, page.NextCursor)
		return err
	})
	name := "counted-renamed"
	step("rename", map[string]int{"DynamoDB_20120810.GetItem": 1, "DynamoDB_20120810.TransactWriteItems": 1}, func() error {
		_, err := svc.Update(ctx, realOrg, p.ID, fleet.UpdateInput{Identifier: &name})
		return err
	})
	// A rotation adds a version to an existing secret: CreateSecret finds it, PutSecretValue
	// adds the version (the price of creates taking one call).
	step("rotate", map[string]int{"DynamoDB_20120810.GetItem": 1, "secretsmanager.CreateSecret": 1,
		"secretsmanager.PutSecretValue": 1, "DynamoDB_20120810.TransactWriteItems": 1}, func() error {
		_, err := svc.Update(ctx, realOrg, p.ID, fleet.UpdateInput{Config: rotatedConfig})
		return err
	})
	// The store reads the identifier to free it in the same transaction as the delete.
	step("delete", map[string]int{"DynamoDB_20120810.GetItem": 1, "DynamoDB_20120810.TransactWriteItems": 1,
		"secretsmanager.DeleteSecret": 1}, func() error {
		return svc.Delete(ctx, realOrg, p.ID)
	})
	step("repair (4 consistent providers)", map[string]int{"secretsmanager.ListSecrets": 1, "DynamoDB_20120810.GetItem": 4}, func() error {
		_, err := svc.Repair(ctx, 0)
		return err
	})
}

// awsError answers every call with an AWS error, as the service would send it.
type awsError struct {
	status int
	body   string
}

func (e awsError) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: e.status,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:       io.NopCloser(strings.NewReader(e.body)),
		Request:    r,
	}, nil
}

// testThrottling: DynamoDB throttling and 5xx reach the caller as a retryable UnavailableError
// with a Retry-After hint and no AWS text.
func testThrottling(t *testing.T, emu emulators) {
	b := newBackends(t, emu)
	fast := retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 2; o.MaxBackoff = 10 * time.Millisecond })
	for name, answer := range map[string]awsError{
		"throttled":    {400, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`},
		"provisioned":  {400, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}`},
		"server error": {500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`},
	} {
		ddb := dynamodb.NewFromConfig(testenv.AWSConfig(emu.dynamodb), func(o *dynamodb.Options) {
			o.HTTPClient = answer
			o.Retryer = fast
		})
		svc := fleet.New(dynamostore.New(ddb, "providers"), b.secrets, nil, fleet.Options{})
		_, getErr := svc.Get(context.Background(), realOrg, uuid.NewString())
		_, listErr := svc.List(context.Background(), realOrg, 10, "")
		_, createErr := svc.Create(context.Background(), fleet.CreateInput{Org: realOrg, Identifier: "throttled", Type: provider.AWS, Config: realConfig})
		for op, err := range map[string]error{"get": getErr, "list": listErr, "create": createErr} {
			var ue *provider.UnavailableError
			if !errors.As(err, &ue) || ue.RetryAfter <= 0 {
				t.Errorf("%s, %s: %v, want *provider.UnavailableError with RetryAfter", name, op, err)
			} else if strings.Contains(err.Error(), "throughput") || strings.Contains(err.Error(), "Internal") {
				t.Errorf("%s, %s: AWS text in %q", name, op, err.Error())
			}
		}
	}
	// The creates above wrote their secret and then failed on DynamoDB: Service.Create or else
	// Repair removes it.
	if _, err := b.service().Repair(context.Background(), 0); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	assertConsistent(t, b)
}

// testSecretsOutage: with Secrets Manager unreachable a create fails as unavailable and leaves
// nothing anywhere; the identifier is still free.
func testSecretsOutage(t *testing.T, emu emulators) {
	b := newBackends(t, emu)
	down := secretsmanager.NewFromConfig(testenv.AWSConfig("http://"+testenv.ClosedAddr), func(o *secretsmanager.Options) {
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 2; o.MaxBackoff = 10 * time.Millisecond })
	})
	downSecrets, err := smsecrets.New(down, smsecrets.Options{Prefix: "test/" + uuid.NewString()})
	if err != nil {
		t.Fatal(err)
	}
	svc := fleet.New(b.store, downSecrets, nil, fleet.Options{})
	in := fleet.CreateInput{Org: realOrg, Identifier: "outage", Type: provider.AWS, Config: realConfig}
	if _, err := svc.Create(context.Background(), in); !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("create with Secrets Manager down: %v, want ErrUnavailable", err)
	}
	items, _, err := b.store.List(context.Background(), realOrg, 10, "")
	if err != nil || len(items) != 0 {
		t.Fatalf("items after failed create: %d, %v", len(items), err)
	}
	if _, err := b.service().Create(context.Background(), in); err != nil {
		t.Fatalf("create once Secrets Manager is back: %v", err)
	}
	assertConsistent(t, b)
}
