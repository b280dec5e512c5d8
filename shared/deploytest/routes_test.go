package deploytest

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/dynamostore"
	"github.com/streamtime/fleet-providers/shared/httpapi"
	"github.com/streamtime/fleet-providers/shared/runtimeapi/lambdafn"
)

func makeDryRun(root string, args ...string) (string, error) {
	out, err := exec.Command("make", append([]string{"--no-print-directory", "-n", "-C", root}, args...)...).CombinedOutput()
	return string(out), err
}

// nobody fails every authentication: a route a handler serves answers 401, one it does not
// serve 404 or 405.
type nobody struct{}

func (nobody) Authenticate(*http.Request) (auth.Principal, error) {
	return auth.Principal{}, auth.ErrUnauthenticated
}

// concretePath fills a route's {params} in.
func concretePath(path string) string {
	r := strings.NewReplacer("{org}", "acme", "{id}", "01936f4e-6a1b-7c2d-9e3f-4a5b6c7d8e9f")
	return r.Replace(path)
}

// Each function's template routes are served by its handler (the function serves the operation
// named like its folder), and by the right one only.
func TestTemplateRoutesAreServed(t *testing.T) {
	api := httpapi.New(nil, nobody{}, httpapi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	all := loadTemplate(t).routes()
	for id, routes := range all {
		op := httpapi.Op(lambdafn.Name(id))
		if !slices.Contains(httpapi.AllOps, op) {
			t.Errorf("%s has HTTP routes but httpapi has no operation %q", id, op)
			continue
		}
		for _, rt := range routes {
			method, path, _ := strings.Cut(rt, " ")
			for _, other := range httpapi.AllOps {
				rec := httptest.NewRecorder()
				api.Handler(other).ServeHTTP(rec, httptest.NewRequest(method, concretePath(path), nil))
				served := rec.Code == http.StatusUnauthorized
				if served != (other == op) {
					t.Errorf("%s (%s): operation %s answers %d", rt, id, other, rec.Code)
				}
			}
		}
	}
}

// The template deploys exactly the operations the OpenAPI document describes.
func TestTemplateRoutesMatchOpenAPI(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any
	}
	if err := yaml.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "patch", "delete", "head", "options":
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	var deployed []string
	for _, routes := range loadTemplate(t).routes() {
		deployed = append(deployed, routes...)
	}
	sort.Strings(documented)
	sort.Strings(deployed)
	if !slices.Equal(documented, deployed) {
		t.Errorf("template routes differ from openapi.yaml:\ntemplate: %q\nopenapi:  %q", deployed, documented)
	}
}

// Each event's routeKey is a template route: of its own function for HTTP events, of any function
// for the authorizer's (it runs before every route). Its path must fit the route.
func TestEventRoutesAreTemplateRoutes(t *testing.T) {
	byFunction := loadTemplate(t).routes()
	var all []string
	for _, routes := range byFunction {
		all = append(all, routes...)
	}
	for _, file := range eventFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Version, Type, RouteKey, RawPath string
			RequestContext                   struct {
				RouteKey string
				HTTP     struct{ Method, Path string }
			}
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		name, fn := filepath.Base(file), functionOf(file)
		routes := byFunction[lambdafn.LogicalID(fn)]
		if ev.Type == "REQUEST" { // an authorizer event
			routes = all
		}
		if ev.RouteKey == "" {
			if len(byFunction[lambdafn.LogicalID(fn)]) > 0 {
				t.Errorf("%s: %s serves HTTP routes but the event has no routeKey", name, fn)
			}
			continue // an event of another source (schedule, queue)
		}
		if ev.Version != "2.0" || ev.RequestContext.RouteKey != ev.RouteKey {
			t.Errorf("%s: not a payload 2.0 event with requestContext.routeKey = routeKey", name)
		}
		if !slices.Contains(routes, ev.RouteKey) {
			t.Errorf("%s: routeKey %q is not a template route of %s: %q", name, ev.RouteKey, fn, routes)
		}
		method, path, _ := strings.Cut(ev.RouteKey, " ")
		if ev.RequestContext.HTTP.Method != method || !pathFits(path, ev.RawPath) || ev.RawPath != ev.RequestContext.HTTP.Path {
			t.Errorf("%s: %s %s does not fit route %q", name, ev.RequestContext.HTTP.Method, ev.RawPath, ev.RouteKey)
		}
	}
}

// pathFits reports whether path is an instance of the route pattern (one segment per {param}).
func pathFits(pattern, path string) bool {
	ps, ss := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(ss) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") && strings.HasSuffix(ps[i], "}") {
			if ss[i] == "" {
				return false
			}
		} else if ps[i] != ss[i] {
			return false
		}
	}
	return true
}

// The API authenticates every route with the Lambda authorizer, configured as the handlers expect.
func TestAuthorizerGuardsEveryRoute(t *testing.T) {
	tpl := loadTemplate(t)
	var apis int
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::HttpApi" {
			continue
		}
		apis++
		authCfg, _ := r.Properties["Auth"].(map[string]any)
		def := str(authCfg["DefaultAuthorizer"])
		authorizers, _ := authCfg["Authorizers"].(map[string]any)
		a, _ := authorizers[def].(map[string]any)
		if a == nil {
			t.Fatalf("%s: no DefaultAuthorizer", id)
		}
		identity, _ := a["Identity"].(map[string]any)
		headers, _ := identity["Headers"].([]any)
		if str(a["FunctionArn"]) != "AuthorizerFunction.Arn" || a["AuthorizerPayloadFormatVersion"] != "2.0" ||
			a["EnableSimpleResponses"] != true || a["EnableFunctionDefaultPermissions"] != true ||
			len(headers) != 1 || headers[0] != "Authorization" {
			t.Errorf("%s: authorizer %s is not AuthorizerFunction, payload 2.0, simple responses, default permissions, keyed on the Authorization header: %v", id, def, a)
		}
	}
	if apis != 1 {
		t.Fatalf("%d HTTP APIs in the template, want 1", apis)
	}
	for id, r := range tpl.functions() {
		evs, _ := r.Properties["Events"].(map[string]any)
		for name, e := range evs {
			ev, _ := e.(map[string]any)
			p, _ := ev["Properties"].(map[string]any)
			if ev["Type"] == "HttpApi" && p["Auth"] != nil {
				t.Errorf("%s.%s overrides the API's authorizer", id, name)
			}
		}
	}
}

// The table is the one shared/dynamostore expects, kept and protected.
func TestTable(t *testing.T) {
	var tables int
	for id, r := range loadTemplate(t).Resources {
		if r.Type != "AWS::DynamoDB::Table" {
			continue
		}
		tables++
		if err := dynamostore.CheckCloudFormation(r.Properties); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		pitr, _ := r.Properties["PointInTimeRecoverySpecification"].(map[string]any)
		sse, _ := r.Properties["SSESpecification"].(map[string]any)
		if pitr["PointInTimeRecoveryEnabled"] != true || r.Properties["DeletionProtectionEnabled"] != true || sse["SSEEnabled"] != true {
			t.Errorf("%s: want point-in-time recovery, deletion protection and SSE", id)
		}
		if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
			t.Errorf("%s: want DeletionPolicy and UpdateReplacePolicy Retain", id)
		}
	}
	if tables != 1 {
		t.Fatalf("%d tables, want 1", tables)
	}
}
