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
	a, err := app.Build(context.Background(), cfg, validators.New(context.Background(), cfg))
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	lambdaapi.Serve(a, httpapi.OpValidate)
}
