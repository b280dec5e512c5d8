package lambdaapi_test

import (
	"testing"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/validators/validatorstest"
)

// eventValidators are the real validators, every endpoint unreachable: validate.json gets a
// complete report of status error without any call leaving the machine.
func eventValidators(t *testing.T) fleet.Validators { return validatorstest.Unreachable(t) }
