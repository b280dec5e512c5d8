// Command list is the Lambda function behind the Fleet Providers "list" operation.
package main

import (
	"context"
	"log"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/httpapi"
	"github.com/streamtime/fleet-providers/shared/lambdaapi"
)

func main() {
	a, err := app.Build(context.Background(), config.MustFromEnv(), app.Parts{})
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	lambdaapi.Serve(a, httpapi.OpList)
}
