package provider

import (
	"testing"

	"github.com/oracle/oci-go-sdk/v65/common"
)

// Every region we accept must be one the OCI SDK knows, so the validator can derive its endpoint
// from the SDK and never from the input.
func TestOCIRegionsKnownToSDK(t *testing.T) {
	if len(ociRegions) < 40 {
		t.Fatalf("only %d OCI regions; the generated list looks truncated", len(ociRegions))
	}
	for r := range ociRegions {
		if _, err := common.Region(r).RealmID(); err != nil {
			t.Errorf("region %q is not known to the OCI SDK: %v", r, err)
		}
	}
	for _, r := range []string{"us-ashburn-1", "eu-frankfurt-1", "ap-tokyo-1"} {
		if !ValidOCIRegion(r) {
			t.Errorf("%s rejected", r)
		}
	}
	for _, r := range []string{"", "US-ASHBURN-1", "iad", "localhost", "us-ashburn-1.example.com"} {
		if ValidOCIRegion(r) {
			t.Errorf("%q accepted", r)
		}
	}
}
