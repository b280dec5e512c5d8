// Command repair is the Lambda function a daily schedule runs: it finishes what interrupted
// creates, rotations and deletes left behind (fleet.Service.Repair): an orphan secret - which
// still holds a customer's credentials - is deleted, a secret whose current version is not its
// provider's gets that version back.
package main

import (
	"context"
	"encoding/json"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/logging"
)

func main() {
	cfg := config.MustFromEnv()
	a, err := app.Build(context.Background(), cfg, app.Parts{})
	if err != nil {
		log.Fatalf("start-up: %v", err)
	}
	lambda.Start(func(ctx context.Context, _ json.RawMessage) (fleet.RepairStats, error) {
		ctx = logging.With(ctx, a.Logger)
		st, err := a.Service.Repair(ctx, cfg.RepairGrace)
		a.Logger.InfoContext(ctx, "repair run", "secrets", st.Secrets, "orphans_deleted", st.OrphansDeleted, "versions_restored", st.VersionsRestored)
		return st, err
	})
}
