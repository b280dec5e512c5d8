//go:build !lambda.norpc || fleet_embedded

package app

import "github.com/streamtime/fleet-providers/shared/embedded"

// buildEmbedded opens the local data directory (make run, make invoke, tests).
func (a *App) buildEmbedded() error {
	db, err := embedded.Open(a.Config.DataDir)
	if err != nil {
		return err
	}
	a.Store, a.Secrets = db.Providers(), db.Secrets()
	a.closers = append(a.closers, db.Close)
	return nil
}
