package permissions

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

var azureActionRE = regexp.MustCompile(`^Microsoft\.[A-Za-z]+(/[A-Za-z]+)+/(read|write|delete|action)$`)

func TestAzureList(t *testing.T) {
	checkCloudList(t, Azure, func(name string) bool { return azureActionRE.MatchString(name) })
}

// The role customers create must grant exactly what the validator checks: a missing action makes
// validation fail for customers who followed our instructions, an extra one asks for more than we use.
func TestAzureRoleDefinitionMatchesList(t *testing.T) {
	raw, err := os.ReadFile("../../infra/azure/role-definition.json")
	if err != nil {
		t.Fatal(err)
	}
	var role struct {
		Name             string
		IsCustom         bool
		Actions          []string
		NotActions       []string
		DataActions      []string
		AssignableScopes []string
	}
	if err := json.Unmarshal(raw, &role); err != nil {
		t.Fatalf("role definition is not valid JSON: %v", err)
	}
	if role.Name != AzureRoleName || !role.IsCustom {
		t.Errorf("role Name = %q, IsCustom = %v; want %q, true", role.Name, role.IsCustom, AzureRoleName)
	}
	if len(role.NotActions) != 0 || len(role.DataActions) != 0 {
		t.Errorf("role has NotActions %v, DataActions %v; the validator does not model them", role.NotActions, role.DataActions)
	}
	if len(role.AssignableScopes) == 0 {
		t.Error("role has no AssignableScopes")
	}
	sameStrings(t, "role Actions", role.Actions, Names(Azure))
}
