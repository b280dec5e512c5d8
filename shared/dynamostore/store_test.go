package dynamostore_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/dynamostore"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/fleet/storetest"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// One DynamoDB Local per test binary; each test gets its own table.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// newTable creates a fresh table on the shared DynamoDB Local and returns a client and its name.
func newTable(t *testing.T, opts ...func(*dynamodb.Options)) (*dynamodb.Client, string) {
	t.Helper()
	client := dynamodb.NewFromConfig(testenv.AWSConfig(testenv.DynamoDB(t)), opts...)
	table := "providers-" + uuid.NewString()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, client, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return client, table
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fleet.Store {
		client, table := newTable(t)
		return dynamostore.New(client, table)
	})
}

func TestCreateTableIsIdempotent(t *testing.T) {
	client, table := newTable(t)
	if err := dynamostore.CreateTable(context.Background(), client, table); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
}

func TestCheckCloudFormation(t *testing.T) {
	good := map[string]any{
		"TableName":   "x",
		"BillingMode": "PAY_PER_REQUEST",
		"KeySchema": []any{
			map[string]any{"AttributeName": "PK", "KeyType": "HASH"},
			map[string]any{"AttributeName": "SK", "KeyType": "RANGE"},
		},
		"AttributeDefinitions": []any{
			map[string]any{"AttributeName": "due_sk", "AttributeType": "S"},
			map[string]any{"AttributeName": "SK", "AttributeType": "S"},
			map[string]any{"AttributeName": "PK", "AttributeType": "S"},
			map[string]any{"AttributeName": "due_pk", "AttributeType": "S"},
		},
		"GlobalSecondaryIndexes": []any{map[string]any{
			"IndexName": "due",
			"KeySchema": []any{
				map[string]any{"AttributeName": "due_pk", "KeyType": "HASH"},
				map[string]any{"AttributeName": "due_sk", "KeyType": "RANGE"},
			},
			"Projection":                       map[string]any{"ProjectionType": "KEYS_ONLY"},
			"ContributorInsightsSpecification": map[string]any{"Enabled": true},
		}},
	}
	if err := dynamostore.CheckCloudFormation(good); err != nil {
		t.Fatalf("matching template: %v", err)
	}
	bad := map[string]any{"BillingMode": "PROVISIONED", "KeySchema": good["KeySchema"], "AttributeDefinitions": good["AttributeDefinitions"].([]any)[:1]}
	err := dynamostore.CheckCloudFormation(bad)
	for _, want := range []string{"BillingMode", "AttributeDefinitions", "GlobalSecondaryIndexes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("drifted template: %v, want %s named", err, want)
		}
	}
	allProjected := maps.Clone(good)
	allProjected["GlobalSecondaryIndexes"] = []any{map[string]any{
		"IndexName":  "due",
		"KeySchema":  good["GlobalSecondaryIndexes"].([]any)[0].(map[string]any)["KeySchema"],
		"Projection": map[string]any{"ProjectionType": "ALL"},
	}}
	if err := dynamostore.CheckCloudFormation(allProjected); err == nil || !strings.Contains(err.Error(), "GlobalSecondaryIndexes") {
		t.Fatalf("index with another projection: %v", err)
	}
}

// The table CreateTable makes is the one Definition describes, index included.
func TestCreateTableMatchesDefinition(t *testing.T) {
	client, table := newTable(t)
	out, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	gsis := out.Table.GlobalSecondaryIndexes
	if len(gsis) != 1 || aws.ToString(gsis[0].IndexName) != "due" || gsis[0].Projection.ProjectionType != "KEYS_ONLY" {
		t.Fatalf("indexes: %+v", gsis)
	}
}

// throttler answers every DynamoDB call with a throttling error, as DynamoDB does (HTTP 400 with
// the error type in the body), and counts the calls.
type throttler struct{ calls atomic.Int32 }

func (th *throttler) Do(r *http.Request) (*http.Response, error) {
	th.calls.Add(1)
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`
	return &http.Response{
		StatusCode: 400,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}, nil
}

func TestThrottlingIsUnavailable(t *testing.T) {
	th := &throttler{}
	client := dynamodb.NewFromConfig(testenv.AWSConfig("http://127.0.0.1:1"), func(o *dynamodb.Options) {
		o.HTTPClient = th
		// The SDK retries throttling itself first; keep its backoff short for the test.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 2
			so.MaxBackoff = 10 * time.Millisecond
		})
	})
	s := dynamostore.New(client, "providers")
	ctx := context.Background()
	p := &provider.Provider{ID: uuid.NewString(), Organization: "org-a", Identifier: "throttled", Type: provider.AWS, Version: 1}
	checks := map[string]error{
		"Get":    func() error { _, err := s.Get(ctx, "org-a", "x"); return err }(),
		"List":   func() error { _, _, err := s.List(ctx, "org-a", 10, ""); return err }(),
		"Create": s.Create(ctx, p),
		"Delete": s.Delete(ctx, "org-a", "x"),
	}
	for op, err := range checks {
		var ue *provider.UnavailableError
		if !errors.As(err, &ue) || ue.RetryAfter <= 0 || !errors.Is(err, provider.ErrUnavailable) {
			t.Errorf("%s under throttling: %v, want *provider.UnavailableError with RetryAfter", op, err)
			continue
		}
		if strings.Contains(err.Error(), "Rate of requests") {
			t.Errorf("%s: AWS message in Error(): %q", op, err.Error())
		}
	}
	if th.calls.Load() == 0 {
		t.Fatal("no call reached the throttler")
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	client := dynamodb.NewFromConfig(testenv.AWSConfig("http://"+testenv.ClosedAddr), func(o *dynamodb.Options) {
		o.RetryMaxAttempts = 1
	})
	_, err := dynamostore.New(client, "providers").Get(context.Background(), "org-a", "x")
	if !errors.Is(err, provider.ErrUnavailable) {
		t.Fatalf("Get with DynamoDB down: %v, want ErrUnavailable", err)
	}
}

// conflicting answers the first n TransactWriteItems calls as DynamoDB does when another
// transaction holds the items (DynamoDB Local serializes transactions and never does), and
// passes everything else to DynamoDB Local.
type conflicting struct {
	n, seen atomic.Int32
}

func (c *conflicting) Do(r *http.Request) (*http.Response, error) {
	if r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.TransactWriteItems" && c.seen.Add(1) <= c.n.Load() {
		body := `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",` +
			`"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]",` +
			`"CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"}]}`
		return &http.Response{
			StatusCode: 400,
			Header:     http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body:       io.NopCloser(strings.NewReader(body)),
			Request:    r,
		}, nil
	}
	return http.DefaultClient.Do(r)
}

func TestTransactionConflictIsRetried(t *testing.T) {
	c := &conflicting{}
	client, table := newTable(t, func(o *dynamodb.Options) { o.HTTPClient = c })
	s := dynamostore.New(client, table)
	ctx := context.Background()

	c.n.Store(2) // lost twice, then goes through
	p := &provider.Provider{ID: uuid.NewString(), Organization: "org-a", Identifier: "contended", Type: provider.AWS}
	if err := s.Create(ctx, p); err != nil {
		t.Fatalf("Create after two conflicts: %v", err)
	}
	if c.seen.Load() != 3 {
		t.Fatalf("%d transaction attempts, want 3", c.seen.Load())
	}

	c.seen.Store(0)
	c.n.Store(1000) // never goes through
	q := &provider.Provider{ID: uuid.NewString(), Organization: "org-a", Identifier: "stuck", Type: provider.AWS}
	var ue *provider.UnavailableError
	if err := s.Create(ctx, q); !errors.As(err, &ue) {
		t.Fatalf("Create that always conflicts: %v, want *provider.UnavailableError", err)
	}
	if _, err := s.Get(ctx, "org-a", q.ID); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("Get after failed create: %v", err)
	}
}
