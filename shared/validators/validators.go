// Package validators assembles the validator of every cloud for the functions that validate.
// Only they import it, so the CRUD functions do not link the cloud SDKs.
package validators

import (
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate/azureval"
	"github.com/streamtime/fleet-providers/shared/validate/gcpval"
	"github.com/streamtime/fleet-providers/shared/validate/ocival"
)

// New returns the production validators. Their endpoints are the clouds' own, fixed in code:
// nothing in a provider's configuration can redirect them.
func New(cfg config.Config) fleet.Validators {
	return fleet.Validators{
		provider.GCP:   gcpval.New(gcpval.Options{}),
		provider.Azure: azureval.New(azureval.Options{}),
		provider.OCI:   ocival.New(ocival.Options{}),
	}
}
