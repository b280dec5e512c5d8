package deploytest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/streamtime/fleet-providers/shared/runtimeapi/lambdafn"
)

// Who may touch secrets. A function joins a list only if its code calls these operations: get and
// list never see a secret, and reading one is for validation alone.
var (
	secretReaders = []string{"validate", "worker"}
	// repair deletes orphan secrets and restores a secret's current version (fleet.Service.Repair).
	secretWriters = []string{"create", "update", "delete", "repair"}
)

var (
	readSecret  = []string{"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"}
	writeSecret = []string{"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret",
		"secretsmanager:DeleteSecret", "secretsmanager:UpdateSecretVersionStage", "secretsmanager:RestoreSecret"}
)

type statement struct {
	Sid       string
	Effect    string
	Action    []string
	Resource  []string
	Condition map[string]any
}

// statements flattens a function's inline policy statements; both branches of an !If count.
func statements(t *testing.T, props map[string]any) []statement {
	var out []statement
	policies, _ := props["Policies"].([]any)
	for _, p := range policies {
		doc, ok := p.(map[string]any)
		if !ok {
			t.Errorf("policy %v: only inline policy documents, no managed or SAM policy templates (their grants are wider)", p)
			continue
		}
		list, _ := doc["Statement"].([]any)
		for _, s := range list {
			for _, m := range branches(s) {
				out = append(out, statement{
					Sid: str(m["Sid"]), Effect: str(m["Effect"]),
					Action: strs(m["Action"]), Resource: strs(m["Resource"]),
					Condition: mapOf(m["Condition"]),
				})
			}
		}
	}
	return out
}

// branches returns the statements in s: s itself, or the map arguments of an !If.
func branches(s any) []map[string]any {
	switch v := s.(type) {
	case map[string]any:
		if args, ok := v["Fn::If"].([]any); ok {
			return branches(args)
		}
		return []map[string]any{v}
	case []any:
		var out []map[string]any
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

func mapOf(v any) map[string]any { m, _ := v.(map[string]any); return m }

func TestLeastPrivilege(t *testing.T) {
	for id, r := range loadTemplate(t).functions() {
		name := lambdafn.Name(id)
		for _, s := range statements(t, r.Properties) {
			where := id + " " + s.Sid
			if s.Effect != "Allow" {
				continue
			}
			for _, a := range s.Action {
				service, action, _ := strings.Cut(a, ":")
				switch {
				case strings.Contains(a, "*"):
					t.Errorf("%s: wildcard action %s", where, a)
				case slices.Contains(readSecret, a) && !slices.Contains(secretReaders, name):
					t.Errorf("%s: %s may not read secrets (%s)", where, name, a)
				case slices.Contains(writeSecret, a) && !slices.Contains(secretWriters, name):
					t.Errorf("%s: %s may not write secrets (%s)", where, name, a)
				case (name == "get" || name == "list") && (service == "secretsmanager" || service == "kms"):
					t.Errorf("%s: %s must not touch secrets or their keys (%s)", where, name, a)
				case a == "dynamodb:Scan":
					t.Errorf("%s: no Scan on request paths", where)
				}
				checkResource(t, where, service, action, s)
			}
		}
	}
}

// checkResource holds each service's grants to the service's own resources.
func checkResource(t *testing.T, where, service, action string, s statement) {
	t.Helper()
	for _, res := range s.Resource {
		ok := true
		switch service {
		case "dynamodb":
			ok = res == "Table.Arn" || strings.HasPrefix(res, "${Table.Arn}/index/")
		case "secretsmanager":
			// ListSecrets has no resource-level permissions; repair filters it to the prefix.
			ok = strings.HasSuffix(res, ":secret:${SecretPrefix}/*") || (action == "ListSecrets" && res == "*")
		case "kms":
			via := mapOf(mapOf(s.Condition)["StringEquals"])["kms:ViaService"]
			ok = res == "SecretKmsKeyId" && strings.HasPrefix(str(via), "secretsmanager.")
		case "sts":
			notOwn := mapOf(mapOf(s.Condition)["StringNotEquals"])["aws:ResourceAccount"]
			ok = action == "AssumeRole" && notOwn == "AWS::AccountId"
		default:
			ok = res != "*"
		}
		if !ok {
			t.Errorf("%s: %s:%s on %q is wider than the service's own resources", where, service, action, res)
		}
	}
}
