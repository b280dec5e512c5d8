package permissions

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// gcpPermissionRE is the shape of a GCP permission: service.resource.verb.
var gcpPermissionRE = regexp.MustCompile(`^[a-z]+\.[a-zA-Z]+\.[a-zA-Z]+$`)

func TestGCPPermissionsWellFormed(t *testing.T) {
	if len(GCP) == 0 {
		t.Fatal("permissions.GCP is empty")
	}
	seen := map[string]bool{}
	for _, p := range GCP {
		if !gcpPermissionRE.MatchString(p.Name) {
			t.Errorf("%q is not a GCP permission name", p.Name)
		}
		// These do not exist; one unknown name makes testIamPermissions reject the whole call.
		if strings.HasPrefix(p.Name, "container.nodePools.") {
			t.Errorf("%q does not exist: node pools are authorised by container.clusters.*", p.Name)
		}
		if strings.TrimSpace(p.Why) == "" {
			t.Errorf("%s has no Why", p.Name)
		}
		if seen[p.Name] {
			t.Errorf("%s is listed twice", p.Name)
		}
		seen[p.Name] = true
	}
}

// The customer-facing role must grant exactly what the validator checks.
func TestGCPRoleFileMatchesPermissions(t *testing.T) {
	b, err := os.ReadFile("../../infra/gcp/streamtime-fleet-role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var role struct {
		Title               string   `json:"title"`
		Description         string   `json:"description"`
		Stage               string   `json:"stage"`
		IncludedPermissions []string `json:"includedPermissions"`
	}
	if err := yaml.UnmarshalStrict(b, &role); err != nil {
		t.Fatalf("role file: %v", err)
	}
	if role.Title == "" || role.Stage != "GA" {
		t.Errorf("role file: title %q stage %q, want a title and stage GA", role.Title, role.Stage)
	}
	got := slices.Clone(role.IncludedPermissions)
	want := Names(GCP)
	slices.Sort(got)
	slices.Sort(want)
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("role file lists a permission twice: %v", got)
	}
	if !slices.Equal(got, want) {
		t.Errorf("role file permissions differ from permissions.GCP\n file: %v\n code: %v", got, want)
	}
	// The README tells customers to create the role under this id.
	readme, err := os.ReadFile("../../infra/gcp/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "roles create "+GCPRoleID+" ") {
		t.Errorf("infra/gcp/README.md does not create the role as %s", GCPRoleID)
	}
}
