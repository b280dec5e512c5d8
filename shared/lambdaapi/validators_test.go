package lambdaapi_test

import (
	"testing"

	"github.com/streamtime/fleet-providers/shared/fleet"
)

// eventValidators are the validators the validate event runs with.
func eventValidators(t *testing.T) fleet.Validators { return nil }
