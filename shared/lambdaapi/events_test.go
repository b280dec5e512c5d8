package lambdaapi_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/httpapi"
	"github.com/streamtime/fleet-providers/shared/lambdaapi"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// wantStatus is what each API event must produce against a store holding the seeded provider.
// Every API event file must be listed: a new event needs a stated expectation.
var wantStatus = map[string]int{
	"create.json":           201,
	"create-invalid.json":   400,
	"create-wrong-org.json": 403,
	"get.json":              200,
	"get-not-found.json":    404,
	// The authorizer passes a token it rejected with no principal: the handler answers 401.
	"get-unauthenticated.json": 401,
	"list.json":                200,
	"list-page.json":           200,
	"update.json":              200,
	"update-rotate.json":       200,
	"delete.json":              204,
	"validate.json":            200,
}

// apiFunctions are the functions that serve HTTP API events, by folder name under functions/.
var apiFunctions = map[string]httpapi.Op{
	"create": httpapi.OpCreate, "get": httpapi.OpGet, "list": httpapi.OpList,
	"update": httpapi.OpUpdate, "delete": httpapi.OpDelete, "validate": httpapi.OpValidate,
}

// FunctionOf returns the function an event file belongs to: <function>.json or <function>-<case>.json.
func functionOf(file string) string {
	name := strings.TrimSuffix(filepath.Base(file), ".json")
	if i := strings.IndexByte(name, '-'); i > 0 {
		return name[:i]
	}
	return name
}

func TestEveryEventAgainstItsFunction(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Root(), "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	seen := 0
	for _, file := range files {
		fn := functionOf(file)
		if _, err := os.Stat(filepath.Join(testenv.Root(), "functions", fn)); err != nil {
			t.Errorf("%s: no function %q under functions/", filepath.Base(file), fn)
			continue
		}
		op, isAPI := apiFunctions[fn]
		if !isAPI {
			continue // non-HTTP functions (authorizer, scheduler, queue) test their events in their own packages
		}
		want, ok := wantStatus[filepath.Base(file)]
		if !ok {
			t.Errorf("%s: add its expected status to wantStatus", filepath.Base(file))
			continue
		}
		seen++
		t.Run(filepath.Base(file), func(t *testing.T) { runEvent(t, file, op, want) })
	}
	if seen != len(wantStatus) {
		t.Errorf("ran %d API events, expected %d: an event file is missing", seen, len(wantStatus))
	}
}

func runEvent(t *testing.T, file string, op httpapi.Op, want int) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Version != "2.0" || ev.RequestContext.HTTP.Method == "" || ev.RawPath != ev.RequestContext.HTTP.Path || ev.RouteKey != ev.RequestContext.RouteKey {
		t.Fatalf("not an HTTP API payload 2.0 event: %s", file)
	}

	dir := t.TempDir()
	env := map[string]string{"STORE": "embedded", "DATA_DIR": dir, "AUTH_MODE": "authorizer"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(context.Background(), cfg, app.Parts{Validators: eventValidators(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	testenv.SeedEventProvider(t, a.Store, a.Secrets)

	res, err := lambdaapi.NewHandler(a, op)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, want, res.Body)
	}
	if res.StatusCode >= 400 {
		if res.Headers["Content-Type"] != "application/problem+json" {
			t.Fatalf("error without problem+json: %v", res.Headers)
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(res.Body), &p); err != nil || p["request_id"] != ev.RequestContext.RequestID {
			t.Fatalf("problem must quote API Gateway's request id %q: %s", ev.RequestContext.RequestID, res.Body)
		}
	}
	if strings.Contains(res.Body, "EXAMPLEKEY") {
		t.Fatalf("secret in response: %s", res.Body)
	}
}
