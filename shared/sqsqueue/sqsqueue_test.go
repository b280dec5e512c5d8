package sqsqueue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamtime/fleet-providers/shared/revalidate"
	"github.com/streamtime/fleet-providers/shared/sqsqueue"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

var ctx = context.Background()

// One moto server for the package's cases.
func TestOnMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	t.Run("SendThenReceive", func(t *testing.T) { testSendThenReceive(t, endpoint) })
	t.Run("SendToMissingQueueFails", func(t *testing.T) { testSendToMissingQueueFails(t, endpoint) })
}

func testSendThenReceive(t *testing.T, endpoint string) {
	client := sqs.NewFromConfig(testenv.AWSConfig(endpoint))
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("revalidate")})
	if err != nil {
		t.Fatal(err)
	}
	queue := sqsqueue.New(client, aws.ToString(q.QueueUrl))
	at := time.Date(2026, 11, 22, 4, 0, 0, 123456789, time.UTC)
	var sent []string
	for i := range 25 {
		var batch []revalidate.Message
		for j := range 10 {
			id := fmt.Sprintf("p-%02d-%d", i, j)
			batch = append(batch, revalidate.Message{Org: "acme", ProviderID: id, EnqueuedAt: at})
			sent = append(sent, id)
		}
		if i == 24 { // a batch over MaxBatch is split, not refused
			batch = append(batch, revalidate.Message{Org: "acme", ProviderID: "extra", EnqueuedAt: at})
			sent = append(sent, "extra")
		}
		if err := queue.Send(ctx, batch); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}

	var got []string
	for len(got) < len(sent) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var msg revalidate.Message
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &msg); err != nil {
				t.Fatalf("body %q: %v", aws.ToString(m.Body), err)
			}
			if msg.Org != "acme" || !msg.EnqueuedAt.Equal(at) {
				t.Fatalf("message %+v", msg)
			}
			got = append(got, msg.ProviderID)
		}
	}
	slices.Sort(got)
	slices.Sort(sent)
	if !slices.Equal(got, sent) {
		t.Fatalf("received %d messages, sent %d", len(got), len(sent))
	}
}

func testSendToMissingQueueFails(t *testing.T, endpoint string) {
	client := sqs.NewFromConfig(testenv.AWSConfig(endpoint), func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	queue := sqsqueue.New(client, endpoint+"/123456789012/no-such-queue")
	if err := queue.Send(ctx, []revalidate.Message{{Org: "acme", ProviderID: "x", EnqueuedAt: time.Now()}}); err == nil {
		t.Fatal("Send to a missing queue succeeded")
	}
}
