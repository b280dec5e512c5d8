package revalidate_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamtime/fleet-providers/shared/eventbus"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/revalidate"
	"github.com/streamtime/fleet-providers/shared/sqsqueue"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// queue creates an SQS queue (with a redrive policy to dlqARN if set) and returns its URL and ARN.
func queue(t *testing.T, sq *sqs.Client, name, dlqARN string) (url, arn string) {
	t.Helper()
	in := &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"VisibilityTimeout": "30"}}
	if dlqARN != "" {
		in.Attributes["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, dlqARN)
	}
	q, err := sq.CreateQueue(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), a.Attributes["QueueArn"]
}

func receive(t *testing.T, sq *sqs.Client, url string) []sqstypes.Message {
	t.Helper()
	out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// lambdaEvent is what the SQS event source hands the worker for these messages.
func lambdaEvent(msgs []sqstypes.Message, queueARN string) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes,
			EventSource: "aws:sqs", EventSourceARN: queueARN, AWSRegion: "us-east-1"})
	}
	return ev
}

// The deployed path on moto: the dispatcher sends to SQS, the worker's handler takes what the
// event source would give it and its batch item failures decide what SQS keeps; the status
// change goes through EventBridge to a subscriber; a poison message ends in the DLQ.
func TestScheduledRevalidationThroughSQSAndEventBridge(t *testing.T) {
	cfg := testenv.AWSConfig(testenv.Moto(t))
	sq, eb := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	dlqURL, dlqARN := queue(t, sq, "revalidate-dlq", "")
	workURL, workARN := queue(t, sq, "revalidate", dlqARN)
	eventsURL, eventsARN := queue(t, sq, "status-changes", "")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("fleet")}); err != nil {
		t.Fatal(err)
	}
	pattern := fmt.Sprintf(`{"source":[%q],"detail-type":[%q]}`, eventbus.Source, eventbus.DetailType)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("changes"), EventBusName: aws.String("fleet"), EventPattern: &pattern}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("changes"), EventBusName: aws.String("fleet"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: &eventsARN}}}); err != nil {
		t.Fatal(err)
	}

	w := newWorld(t)
	p := w.create(t, "plf-fleet-manager")
	if _, _, err := w.svc.Validate(ctx, "acme", p.ID); err != nil {
		t.Fatal(err)
	}
	// Since then the customer removed a permission.
	w.validator.set(func(*provider.Provider) provider.Report {
		return report(provider.CheckFailed, "eks:CreateCluster", "implicitDeny")
	})
	w.clock.Advance(25 * time.Hour)

	d := w.dispatcher(sqsqueue.New(sq, workURL), revalidate.DispatchOptions{Interval: 24 * time.Hour})
	if res, err := d.Run(ctx); err != nil || res.Enqueued != 1 || !res.Complete {
		t.Fatalf("dispatch: %+v, %v", res, err)
	}
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &workURL, MessageBody: aws.String(`{"org":`)}); err != nil {
		t.Fatal(err)
	}

	svc := fleet.New(w.store, w.secrets, fleet.Validators{provider.AWS: w.validator},
		fleet.Options{Now: w.clock.Now, Notifier: eventbus.New(eb, "fleet")})
	handler := revalidate.SQSHandler(revalidate.NewWorker(svc, 10), slog.New(slog.DiscardHandler))
	validated := false
	for range 6 {
		msgs := receive(t, sq, workURL)
		if len(msgs) == 0 {
			break
		}
		resp, err := handler(ctx, lambdaEvent(msgs, workARN))
		if err != nil {
			t.Fatal(err)
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		// What the event source does with the response: delete the successes, and let the
		// failures become visible again.
		for _, m := range msgs {
			if failed[aws.ToString(m.MessageId)] {
				_, err = sq.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &workURL, ReceiptHandle: m.ReceiptHandle})
			} else {
				validated = validated || strings.Contains(aws.ToString(m.Body), p.ID)
				_, err = sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &workURL, ReceiptHandle: m.ReceiptHandle})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if !validated {
		t.Fatal("the dispatched message was never handled successfully")
	}
	if got := w.get(t, p.ID); got.Status != provider.StatusInvalid {
		t.Fatalf("status after the scheduled run: %s", got.Status)
	}
	if dead := receive(t, sq, dlqURL); len(dead) != 1 || aws.ToString(dead[0].Body) != `{"org":` {
		t.Fatalf("DLQ holds %d messages, want the poison one", len(dead))
	}

	changes := receive(t, sq, eventsURL)
	if len(changes) != 1 {
		t.Fatalf("%d status change events, want 1", len(changes))
	}
	body := aws.ToString(changes[0].Body)
	if strings.Contains(body, secretValue) {
		t.Fatalf("secret in the event: %s", body)
	}
	var ev struct {
		Source     string         `json:"source"`
		DetailType string         `json:"detail-type"`
		Detail     map[string]any `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatal(err)
	}
	stored := w.get(t, p.ID)
	want := map[string]any{
		"organization": "acme", "provider_id": p.ID, "identifier": "plf-fleet-manager", "provider_type": "aws",
		"from": "valid", "to": "invalid", "reason": "eks:CreateCluster: implicitDeny",
		"missing_permissions": []any{"eks:CreateCluster"},
		"checked_at":          stored.Validation.CheckedAt.Format(time.RFC3339Nano),
	}
	if ev.Source != eventbus.Source || ev.DetailType != eventbus.DetailType || !reflect.DeepEqual(ev.Detail, want) {
		t.Fatalf("event %s %s:\n got  %v\n want %v", ev.Source, ev.DetailType, ev.Detail, want)
	}
}
