package permissions

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"
)

var ociGrantRE = regexp.MustCompile(`^(inspect|read|use|manage) [a-z]+(-[a-z]+)*$`)

func TestOCIList(t *testing.T) {
	checkCloudList(t, OCI, ociGrantRE.MatchString)
}

func TestOCIPolicyFileMatchesList(t *testing.T) {
	raw, err := os.ReadFile("../../infra/oci/policy-statements.json")
	if err != nil {
		t.Fatal(err)
	}
	var statements []string
	if err := json.Unmarshal(raw, &statements); err != nil {
		t.Fatalf("policy file is not a JSON array of strings: %v", err)
	}
	var want []string
	for _, p := range OCI {
		want = append(want, OCIStatement("<group>", "compartment <compartment>", p))
	}
	sameStrings(t, "policy statements", statements, want)
}

func TestOCIStatement(t *testing.T) {
	got := OCIStatement("fleet", "tenancy", Permission{Name: "manage cluster-family"})
	if want := "Allow group fleet to manage cluster-family in tenancy"; got != want {
		t.Errorf("OCIStatement = %q, want %q", got, want)
	}
}

// checkCloudList asserts what the Azure and OCI lists must satisfy: well-formed, unique names,
// and a reason customers can read.
func checkCloudList(t *testing.T, ps []Permission, wellFormed func(string) bool) {
	t.Helper()
	if len(ps) == 0 {
		t.Fatal("empty permission list")
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if !wellFormed(p.Name) {
			t.Errorf("%q is not a well-formed permission name", p.Name)
		}
		if seen[p.Name] {
			t.Errorf("%q listed twice", p.Name)
		}
		seen[p.Name] = true
		if len(p.Why) < 10 {
			t.Errorf("%q has no real Why", p.Name)
		}
	}
}

// sameStrings asserts that got and want hold the same strings, each once.
func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: %q is not in the permission list", what, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d (duplicates?)", what, len(got), len(want))
	}
}
