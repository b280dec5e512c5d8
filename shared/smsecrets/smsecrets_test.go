package smsecrets_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/fleet/secretstest"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/smsecrets"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// moto is one moto server per test binary, started by the first test that needs it and stopped
// by TestMain; tests isolate themselves with their own name prefix. (testenv.Moto starts one per
// test, which costs a second or two each.)
var moto struct {
	once     sync.Once
	endpoint string
	err      error
	server   *testenv.Server
}

func motoClient(t *testing.T) *secretsmanager.Client {
	t.Helper()
	moto.once.Do(func() {
		moto.server, moto.err = testenv.StartMoto()
		if moto.err == nil {
			moto.endpoint = moto.server.Endpoint
		}
	})
	if moto.err != nil {
		t.Fatalf("moto emulator: %v", moto.err)
	}
	return secretsmanager.NewFromConfig(testenv.AWSConfig(moto.endpoint))
}

func TestMain(m *testing.M) {
	code := m.Run()
	moto.server.Stop()
	os.Exit(code)
}

func newStore(t *testing.T, client *secretsmanager.Client, opts smsecrets.Options) *smsecrets.Store {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = "test/" + uuid.NewString()
	}
	s, err := smsecrets.New(client, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	client := motoClient(t)
	secretstest.Run(t, func(t *testing.T) fleet.SecretStore {
		return newStore(t, client, smsecrets.Options{})
	})
}

// With a recovery window, a deleted secret lingers, scheduled for deletion: it must behave as
// deleted, and deleting it again must be fine.
func TestConformanceWithRecoveryWindow(t *testing.T) {
	client := motoClient(t)
	secretstest.Run(t, func(t *testing.T) fleet.SecretStore {
		return newStore(t, client, smsecrets.Options{RecoveryWindowDays: 7})
	})
}

func TestNewChecksOptions(t *testing.T) {
	client := secretsmanager.NewFromConfig(testenv.AWSConfig("http://127.0.0.1:1"))
	for _, opts := range []smsecrets.Options{
		{Prefix: ""},
		{Prefix: "bad prefix"},
		{Prefix: "ok", RecoveryWindowDays: 3},
		{Prefix: "ok", RecoveryWindowDays: 31},
	} {
		if _, err := smsecrets.New(client, opts); err == nil {
			t.Errorf("New(%+v) accepted", opts)
		}
	}
}

// The secret is named, tagged and encrypted as documented.
func TestNameTagsAndKey(t *testing.T) {
	client := motoClient(t)
	prefix := "test/" + uuid.NewString()
	s := newStore(t, client, smsecrets.Options{Prefix: prefix + "/", KMSKeyID: "alias/fleet-providers"})
	ref := fleet.SecretRef{Org: "org-a", ProviderID: uuid.NewString()}
	if err := s.Put(context.Background(), ref, uuid.NewString(), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	desc, err := client.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{
		SecretId: aws.String(prefix + "/org-a/" + ref.ProviderID)})
	if err != nil {
		t.Fatalf("DescribeSecret by the documented name: %v", err)
	}
	tags := map[string]string{}
	for _, tag := range desc.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	want := map[string]string{"organization": "org-a", "provider-id": ref.ProviderID, "managed-by": "streamtime-fleet-providers"}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, tags[k], v)
		}
	}
	if aws.ToString(desc.KmsKeyId) != "alias/fleet-providers" {
		t.Errorf("KmsKeyId = %q", aws.ToString(desc.KmsKeyId))
	}
}

// List ignores what is not the service's: other prefixes, and untagged secrets under the prefix,
// which Repair would otherwise delete.
func TestListOnlyOwnSecrets(t *testing.T) {
	client := motoClient(t)
	ctx := context.Background()
	prefix := "test/" + uuid.NewString()
	s := newStore(t, client, smsecrets.Options{Prefix: prefix})
	neighbour := newStore(t, client, smsecrets.Options{Prefix: prefix + "-other"})
	mine := fleet.SecretRef{Org: "org-a", ProviderID: uuid.NewString()}
	for _, st := range []*smsecrets.Store{s, neighbour} {
		if err := st.Put(ctx, mine, uuid.NewString(), map[string]string{"k": "v"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{prefix + "/org-a/" + uuid.NewString(), prefix + "/loose"} {
		if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []fleet.SecretRef
	if err := s.List(ctx, func(i fleet.SecretInfo) error { seen = append(seen, i.Ref); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != mine {
		t.Fatalf("List saw %v, want only %v", seen, mine)
	}
}

// throttler answers every call with Secrets Manager's throttling error.
type throttler struct{}

func (throttler) Do(r *http.Request) (*http.Response, error) {
	body := `{"__type":"ThrottlingException","message":"Rate exceeded"}`
	return &http.Response{
		StatusCode: 400,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}, nil
}

func TestThrottlingIsUnavailable(t *testing.T) {
	client := secretsmanager.NewFromConfig(testenv.AWSConfig("http://127.0.0.1:1"), func(o *secretsmanager.Options) {
		o.HTTPClient = throttler{}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 2
			so.MaxBackoff = 10 * time.Millisecond
		})
	})
	s := newStore(t, client, smsecrets.Options{})
	ctx := context.Background()
	ref := fleet.SecretRef{Org: "org-a", ProviderID: uuid.NewString()}
	_, getErr := s.Get(ctx, ref, uuid.NewString())
	for op, err := range map[string]error{
		"Put":        s.Put(ctx, ref, uuid.NewString(), map[string]string{"k": "SECRET"}),
		"Get":        getErr,
		"Delete":     s.Delete(ctx, ref),
		"SetCurrent": s.SetCurrent(ctx, ref, uuid.NewString()),
		"List":       s.List(ctx, func(fleet.SecretInfo) error { return nil }),
	} {
		var ue *provider.UnavailableError
		if !errors.As(err, &ue) || ue.RetryAfter <= 0 {
			t.Errorf("%s under throttling: %v, want *provider.UnavailableError", op, err)
		}
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	client := secretsmanager.NewFromConfig(testenv.AWSConfig("http://"+testenv.ClosedAddr), func(o *secretsmanager.Options) {
		o.RetryMaxAttempts = 1
	})
	s := newStore(t, client, smsecrets.Options{})
	err := s.Put(context.Background(), fleet.SecretRef{Org: "o", ProviderID: uuid.NewString()}, uuid.NewString(), map[string]string{"k": "v"})
	if !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Put with Secrets Manager down: %v, want ErrUnavailable", err)
	}
}
