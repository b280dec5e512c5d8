package auth

import "testing"

func TestAuthorize(t *testing.T) {
	p := Principal{Org: "acme", Scopes: []string{ScopeRead}}
	if Authorize(p, "acme", ScopeRead) != nil {
		t.Error("own org read refused")
	}
	if Authorize(p, "acme", ScopeWrite) != ErrForbidden || Authorize(p, "globex", ScopeRead) != ErrForbidden || Authorize(Principal{Scopes: []string{ScopeRead}}, "", ScopeRead) != ErrForbidden {
		t.Error("forbidden request allowed")
	}
}

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "": ""} {
		if got, _ := BearerToken(header); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestAuthorizerContextRoundTrip(t *testing.T) {
	c := Principal{Subject: "alice", Org: "acme", Scopes: []string{ScopeRead, ScopeWrite}}.AuthorizerContext()
	if c[ContextOrg] != "acme" || c[ContextScopes] != ScopeRead+" "+ScopeWrite || c[ContextSubject] != "alice" {
		t.Fatalf("context %v", c)
	}
}
