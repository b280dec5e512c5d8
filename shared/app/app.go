// Package app builds the service's parts from its configuration: stores, the fleet service and
// the authenticator. Mains call it once at start-up and wire the result to their entry point.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/logging"
)

// App is the assembled service.
type App struct {
	Config  config.Config
	Logger  *slog.Logger
	Store   fleet.Store
	Secrets fleet.SecretStore
	Service *fleet.Service
	closers []func() error
}

// Parts are what only some functions need: validators (validate, worker) and a notifier for
// status changes. CRUD functions pass none, so they do not link the cloud SDKs or EventBridge.
type Parts struct {
	Validators fleet.Validators
	Notifier   fleet.ChangeNotifier
}

// Build assembles the app.
func Build(ctx context.Context, cfg config.Config, parts Parts) (*App, error) {
	a := &App{Config: cfg, Logger: logging.New(os.Stderr, cfg.LogLevel)}
	switch cfg.Store {
	case config.StoreEmbedded:
		if err := a.buildEmbedded(); err != nil {
			return nil, err
		}
	case config.StoreAWS:
		if err := a.buildAWS(ctx); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown store %q", cfg.Store)
	}
	a.Service = fleet.New(a.Store, a.Secrets, parts.Validators, fleet.Options{
		ValidateTimeout: cfg.ValidateTimeout,
		ErrorThreshold:  cfg.ErrorThreshold,
		Notifier:        parts.Notifier,
	})
	return a, nil
}

// Close releases what Build opened.
func (a *App) Close() error {
	var first error
	for _, c := range a.closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
