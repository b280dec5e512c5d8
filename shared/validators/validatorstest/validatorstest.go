// Package validatorstest builds the real validators pointed at endpoints where nothing listens,
// for tests of the validate path that must never reach a real cloud.
package validatorstest

import (
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/testenv"
	"github.com/streamtime/fleet-providers/shared/validate/awsval"
	"github.com/streamtime/fleet-providers/shared/validate/azureval"
	"github.com/streamtime/fleet-providers/shared/validate/gcpval"
	"github.com/streamtime/fleet-providers/shared/validate/ocival"
	"github.com/streamtime/fleet-providers/shared/validators"
)

// Unreachable returns every cloud's validator with all endpoints on a closed loopback port.
func Unreachable(tb testing.TB) fleet.Validators {
	addr := testenv.ClosedAddr
	const timeout = 2 * time.Second
	h, hs := "http://"+addr, "https://"+addr
	return validators.With(validators.Options{
		AWS: awsval.Options{Endpoints: awsval.Endpoints{STS: h, IAM: h, EKS: h, EC2: h}, PerCallTimeout: timeout},
		GCP: gcpval.Options{TokenURL: h + "/token", ResourceManagerEndpoint: h, ContainerEndpoint: h, CertsEndpoint: h + "/certs/", PerCallTimeout: timeout},
		Azure: azureval.Options{PerCallTimeout: timeout, Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: hs + "/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: hs, Audience: "https://management.azure.com"}}}},
		OCI: ocival.Options{Host: h, PerCallTimeout: timeout},
	})
}
