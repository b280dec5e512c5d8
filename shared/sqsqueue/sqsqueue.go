// Package sqsqueue is the revalidation queue on Amazon SQS: the dispatcher sends with
// SendMessageBatch, and the worker function receives through its SQS event source.
package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamtime/fleet-providers/shared/revalidate"
)

// Queue is a revalidate.Queue on one SQS queue.
type Queue struct {
	client *sqs.Client
	url    string
}

var _ revalidate.Queue = (*Queue)(nil)

// New returns a Queue sending to the queue at url with client (built once per process).
func New(client *sqs.Client, url string) *Queue {
	return &Queue{client: client, url: url}
}

// attempts bounds how often entries SQS refused for its own reasons are sent again. The SDK
// already retries failed calls; these are entries failed inside a successful call.
const attempts = 4

// Send sends batch in one SendMessageBatch call (batches over revalidate.MaxBatch are split).
// Entries SQS fails on its side are sent again; an entry refused as the sender's fault, or still
// failing after a few attempts, makes Send fail.
func (q *Queue) Send(ctx context.Context, batch []revalidate.Message) error {
	for len(batch) > revalidate.MaxBatch {
		if err := q.Send(ctx, batch[:revalidate.MaxBatch]); err != nil {
			return err
		}
		batch = batch[revalidate.MaxBatch:]
	}
	entries := make([]types.SendMessageBatchRequestEntry, len(batch))
	for i, m := range batch {
		body, err := json.Marshal(m)
		if err != nil {
			return err
		}
		// Ids only need to be unique within the call; the index finds the entry again.
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))}
	}
	for attempt := 1; ; attempt++ {
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: entries})
		if err != nil {
			return fmt.Errorf("sqs send: %w", err)
		}
		if len(out.Failed) == 0 {
			return nil
		}
		byID := make(map[string]types.SendMessageBatchRequestEntry, len(entries))
		for _, e := range entries {
			byID[aws.ToString(e.Id)] = e
		}
		var retry []types.SendMessageBatchRequestEntry
		for _, f := range out.Failed {
			e, ok := byID[aws.ToString(f.Id)]
			if !ok || f.SenderFault || attempt == attempts {
				return fmt.Errorf("sqs send: %d of %d messages refused (%s)", len(out.Failed), len(entries), aws.ToString(f.Code))
			}
			retry = append(retry, e)
		}
		entries = retry
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(rand.Int64N(int64(50*time.Millisecond) << attempt))):
		}
	}
}
