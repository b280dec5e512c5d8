// Command worker is the Lambda function behind the revalidation queue: it validates each
// provider a message names, as POST validate does, and reports the messages to deliver again.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/eventbus"
	"github.com/streamtime/fleet-providers/shared/logging"
	"github.com/streamtime/fleet-providers/shared/revalidate"
	"github.com/streamtime/fleet-providers/shared/validators"
)

func main() {
	cfg := config.MustFromEnv()
	ctx := context.Background()
	n, err := eventbus.ForConfig(ctx, cfg, logging.New(log.Writer(), cfg.LogLevel))
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	a, err := app.Build(ctx, cfg, app.Parts{Validators: validators.New(ctx, cfg), Notifier: n})
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	lambda.Start(revalidate.SQSHandler(revalidate.WorkerFor(a), a.Logger))
}
