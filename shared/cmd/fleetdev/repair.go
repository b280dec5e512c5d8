package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"time"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/logging"
)

// repair runs fleet.Service.Repair once against the configured store and prints what it did.
func repair(args []string) error {
	fs := flag.NewFlagSet("repair", flag.ExitOnError)
	grace := fs.Duration("grace", 15*time.Minute, "leave secrets changed more recently than this alone (work in flight)")
	_ = fs.Parse(args)
	cfg, err := devConfig()
	if err != nil {
		return err
	}
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, app.Parts{})
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.Service.Repair(logging.With(ctx, a.Logger), *grace)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(st)
}
