// Command dispatcher is the Lambda function the revalidation schedule invokes: it enqueues the
// providers due for revalidation to the worker queue, continuing where its last run stopped.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/revalidate"
	"github.com/streamtime/fleet-providers/shared/sqsqueue"
)

func main() {
	cfg := config.MustFromEnv()
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, app.Parts{})
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	// Locally, on the embedded store (make invoke), there is no SQS: the run logs its messages.
	var q revalidate.Queue = revalidate.LogQueue{Logger: a.Logger}
	switch {
	case cfg.RevalidateQueueURL != "":
		awsCfg, err := config.AWS(ctx)
		if err != nil {
			log.Fatalf("start-up: aws configuration: %v", err)
		}
		q = sqsqueue.New(sqs.NewFromConfig(awsCfg), cfg.RevalidateQueueURL)
	case cfg.Store != config.StoreEmbedded:
		log.Fatal("configuration error: REVALIDATE_QUEUE_URL is required")
	}
	d, err := revalidate.DispatcherFor(a, q)
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	lambda.Start(revalidate.ScheduleHandler(d, a.Logger))
}
