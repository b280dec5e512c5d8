package lambdafn

import "testing"

func TestLogicalIDRoundTrip(t *testing.T) {
	for name, id := range map[string]string{
		"create": "CreateFunction", "authorizer": "AuthorizerFunction",
		"revalidate-worker": "RevalidateWorkerFunction", "v2-sync": "V2SyncFunction",
	} {
		if got := LogicalID(name); got != id {
			t.Errorf("LogicalID(%q) = %q, want %q", name, got, id)
		}
		if got := Name(id); got != name {
			t.Errorf("Name(%q) = %q, want %q", id, got, name)
		}
	}
	for _, id := range []string{"Table", "Function", "HttpApi"} {
		if got := Name(id); got != "" {
			t.Errorf("Name(%q) = %q, want none", id, got)
		}
	}
}
