// Package validators assembles the validator of every cloud for the functions that validate.
// Only they import it, so the CRUD functions do not link the cloud SDKs.
package validators

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/eventbus"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/logging"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate/awsval"
	"github.com/streamtime/fleet-providers/shared/validate/azureval"
	"github.com/streamtime/fleet-providers/shared/validate/gcpval"
	"github.com/streamtime/fleet-providers/shared/validate/ocival"
)

// Options holds each cloud validator's options; the zero value is production: every endpoint
// is the cloud's own, fixed in code, so nothing in a provider's configuration can redirect it.
type Options struct {
	AWS   awsval.Options
	GCP   gcpval.Options
	Azure azureval.Options
	OCI   ocival.Options
}

// New returns the production validators. The service's own AWS identity (the Lambda role) is
// what assumes customers' cross-account roles; credentials resolve lazily, on first use.
func New(ctx context.Context, _ config.Config) fleet.Validators {
	var o Options
	if awsCfg, err := config.AWS(ctx); err == nil && awsCfg.Credentials != nil {
		o.AWS.SourceCredentials = aws.NewCredentialsCache(awsCfg.Credentials)
	}
	return With(o)
}

// With returns validators built from explicit options (tests point them at local servers).
func With(o Options) fleet.Validators {
	return fleet.Validators{
		provider.AWS:   awsval.New(o.AWS),
		provider.GCP:   gcpval.New(o.GCP),
		provider.Azure: azureval.New(o.Azure),
		provider.OCI:   ocival.New(o.OCI),
	}
}

// Parts are what the validating functions (validate, worker, the local server) add to the app:
// the validators, and the notifier that publishes status changes (EventBridge when
// EVENT_BUS_NAME is set, else the log).
func Parts(ctx context.Context, cfg config.Config) (app.Parts, error) {
	n, err := eventbus.ForConfig(ctx, cfg, logging.New(os.Stderr, cfg.LogLevel))
	if err != nil {
		return app.Parts{}, err
	}
	return app.Parts{Validators: New(ctx, cfg), Notifier: n}, nil
}
