package eventbus_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/eventbus"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

var ctx = context.Background()

// subscribe routes the bus's FleetProviderStatusChanged events to a new SQS queue, as a
// consumer's rule would, and returns a function that waits for the next event there.
func subscribe(t *testing.T, eb *eventbridge.Client, sq *sqs.Client, bus string) func() map[string]any {
	t.Helper()
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("status-changes")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	pattern, _ := json.Marshal(map[string]any{"source": []string{eventbus.Source}, "detail-type": []string{eventbus.DetailType}})
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("status-changes"), EventBusName: aws.String(bus),
		EventPattern: aws.String(string(pattern))}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("status-changes"), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	return func() map[string]any {
		t.Helper()
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 1 {
			t.Fatalf("%d events arrived, want 1", len(out.Messages))
		}
		body := aws.ToString(out.Messages[0].Body)
		if strings.Contains(body, "EXAMPLEKEY") {
			t.Fatalf("secret in the event: %s", body)
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
}

func TestPublishedEventReadBack(t *testing.T) {
	cfg := testenv.AWSConfig(testenv.Moto(t))
	eb, sq := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("fleet")}); err != nil {
		t.Fatal(err)
	}
	next := subscribe(t, eb, sq, "fleet")

	checked := time.Date(2026, 11, 22, 3, 30, 0, 0, time.UTC)
	change := fleet.StatusChange{
		Organization: "acme", ProviderID: "01936f4e-6a1b-7c2d-9e3f-4a5b6c7d8e9f", Identifier: "plf-fleet-manager",
		ProviderType: provider.AWS, From: provider.StatusValid, To: provider.StatusInvalid,
		Reason: "eks:CreateCluster: implicitDeny", MissingPermissions: []string{"eks:CreateCluster", "iam:PassRole"},
		CheckedAt: checked,
	}
	if err := eventbus.New(eb, "fleet").StatusChanged(ctx, change); err != nil {
		t.Fatal(err)
	}
	ev := next()
	if ev["source"] != eventbus.Source || ev["detail-type"] != eventbus.DetailType || ev["time"] != "2026-11-22T03:30:00Z" {
		t.Fatalf("envelope: source %v, detail-type %v, time %v", ev["source"], ev["detail-type"], ev["time"])
	}
	want := map[string]any{
		"organization": "acme", "provider_id": "01936f4e-6a1b-7c2d-9e3f-4a5b6c7d8e9f", "identifier": "plf-fleet-manager",
		"provider_type": "aws", "from": "valid", "to": "invalid", "reason": "eks:CreateCluster: implicitDeny",
		"missing_permissions": []any{"eks:CreateCluster", "iam:PassRole"}, "checked_at": "2026-11-22T03:30:00Z",
	}
	if !reflect.DeepEqual(ev["detail"], want) {
		t.Fatalf("detail:\n got  %v\n want %v", ev["detail"], want)
	}
}

func TestPublishToMissingBusFails(t *testing.T) {
	cfg := testenv.AWSConfig(testenv.Moto(t))
	err := eventbus.New(eventbridge.NewFromConfig(cfg), "no-such-bus").StatusChanged(ctx, fleet.StatusChange{CheckedAt: time.Now()})
	if err == nil {
		t.Fatal("publishing to a missing bus succeeded")
	}
	if !strings.Contains(err.Error(), "eventbridge put") {
		t.Fatalf("error %v", err)
	}
}

func TestForConfigWithoutBusLogs(t *testing.T) {
	n, err := eventbus.ForConfig(ctx, config.Config{}, slog.New(slog.DiscardHandler))
	if _, ok := n.(eventbus.Log); err != nil || !ok {
		t.Fatalf("ForConfig without a bus: %T, %v", n, err)
	}
	if err := n.StatusChanged(ctx, fleet.StatusChange{}); err != nil {
		t.Fatal(err)
	}
}
