// Command validate is the Lambda function behind POST .../fleet-providers/{id}/validate.
package main

import (
	"context"
	"log"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/httpapi"
	"github.com/streamtime/fleet-providers/shared/lambdaapi"
	"github.com/streamtime/fleet-providers/shared/validators"
)

func main() {
	cfg := config.MustFromEnv()
	ctx := context.Background()
	parts, err := validators.Parts(ctx, cfg)
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	a, err := app.Build(ctx, cfg, parts)
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	lambdaapi.Serve(a, httpapi.OpValidate)
}
