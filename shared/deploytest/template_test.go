// Package deploytest holds the deployment's tests: template.yaml, the folders under functions/,
// the Makefile's build rule and the events in events/ must describe the same functions and
// routes, and every event must run through its function's real bootstrap.
package deploytest

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/streamtime/fleet-providers/shared/runtimeapi/lambdafn"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// template is template.yaml as JSON-like values. CloudFormation's short-form tags (!Ref, !Sub,
// !If, ...) are dropped by the YAML decoder and leave their argument: enough for these checks.
type template struct {
	Globals   map[string]map[string]any
	Resources map[string]resource
}

type resource struct {
	Type                                string
	Metadata                            map[string]any
	Properties                          map[string]any
	DeletionPolicy, UpdateReplacePolicy string
}

func loadTemplate(t *testing.T) template {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.Root(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl template
	if err := yaml.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tpl
}

// functions returns the AWS::Serverless::Function resources by logical id, with Globals applied.
func (tpl template) functions() map[string]resource {
	out := map[string]resource{}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		props := map[string]any{}
		for k, v := range tpl.Globals["Function"] {
			props[k] = v
		}
		for k, v := range r.Properties {
			props[k] = v
		}
		r.Properties = props
		out[id] = r
	}
	return out
}

// route is an HTTP API route: "METHOD /path/{param}".
type route = string

// routes returns each function's HttpApi routes by logical id.
func (tpl template) routes() map[string][]route {
	out := map[string][]route{}
	for id, r := range tpl.functions() {
		evs, _ := r.Properties["Events"].(map[string]any)
		for _, e := range evs {
			ev, _ := e.(map[string]any)
			if ev["Type"] != "HttpApi" {
				continue
			}
			p, _ := ev["Properties"].(map[string]any)
			out[id] = append(out[id], strings.ToUpper(str(p["Method"]))+" "+str(p["Path"]))
		}
		sort.Strings(out[id])
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

// functionOf is the function an event file belongs to: <function>.json or <function>-<case>.json.
func functionOf(file string) string {
	name := strings.TrimSuffix(filepath.Base(file), ".json")
	if i := strings.IndexByte(name, '-'); i > 0 {
		return name[:i]
	}
	return name
}

func eventFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.Root(), "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	return files
}

func functionNames(t *testing.T) []string {
	t.Helper()
	names, err := lambdafn.Names(testenv.Root())
	if err != nil || len(names) == 0 {
		t.Fatalf("no functions: %v", err)
	}
	return names
}

// Every function folder has its template resource, and every template function its folder.
func TestTemplateFunctionsAreFolders(t *testing.T) {
	fns := loadTemplate(t).functions()
	names := functionNames(t)
	for _, name := range names {
		if _, ok := fns[lambdafn.LogicalID(name)]; !ok {
			t.Errorf("functions/%s has no resource %s in template.yaml", name, lambdafn.LogicalID(name))
		}
	}
	for id := range fns {
		name := lambdafn.Name(id)
		if name == "" {
			t.Errorf("%s: function resources are named <Name>Function after their folder", id)
		} else if !slices.Contains(names, name) {
			t.Errorf("%s has no functions/%s/main.go", id, name)
		}
	}
}

// Every function is deployed the same way: the conventions sam build and the Makefile rely on.
func TestFunctionConventions(t *testing.T) {
	for id, r := range loadTemplate(t).functions() {
		p := r.Properties
		if p["CodeUri"] != "." || r.Metadata["BuildMethod"] != "makefile" {
			t.Errorf("%s: want CodeUri . and Metadata BuildMethod makefile (the Makefile's build-%s)", id, id)
		}
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
			t.Errorf("%s: want Runtime provided.al2023 and Handler bootstrap", id)
		}
		if archs, _ := p["Architectures"].([]any); len(archs) != 1 || archs[0] != "arm64" {
			t.Errorf("%s: want Architectures [arm64], the Makefile's default ARCH", id)
		}
		if p["Tracing"] != "Active" {
			t.Errorf("%s: want Tracing Active", id)
		}
		// Behind the HTTP API the integration limit is 30 s; otherwise Lambda's 900 s.
		limit, why := 900.0, "Lambda's limit is 900 s"
		events, _ := p["Events"].(map[string]any)
		for _, e := range events {
			if ev, _ := e.(map[string]any); ev["Type"] == "HttpApi" {
				limit, why = 28, "HTTP API's integration limit is 30 s"
			}
		}
		if timeout, _ := p["Timeout"].(float64); timeout <= 0 || timeout > limit {
			t.Errorf("%s: Timeout %v: %s", id, p["Timeout"], why)
		}
		if lc, _ := p["LoggingConfig"].(map[string]any); lc == nil || lc["LogGroup"] == nil {
			t.Errorf("%s: want LoggingConfig.LogGroup, a log group with retention", id)
		}
	}
}

// Every function has its build-<LogicalId> rule with the one set of flags, and nothing else builds.
func TestMakefileBuildsEveryFunction(t *testing.T) {
	root := testenv.Root()
	for _, name := range functionNames(t) {
		id := lambdafn.LogicalID(name)
		out, err := makeDryRun(root, "build-"+id, "ARTIFACTS_DIR=/artifacts")
		if err != nil {
			t.Errorf("make build-%s: %v\n%s", id, err, out)
			continue
		}
		want := "CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o /artifacts/bootstrap ./functions/" + name
		if !strings.Contains(out, want) {
			t.Errorf("make build-%s runs:\n%s\nwant:\n%s", id, out, want)
		}
	}
	if out, err := makeDryRun(root, "build-NoSuchThingFunction", "ARTIFACTS_DIR=/artifacts"); err == nil {
		t.Errorf("make build-NoSuchThingFunction builds something:\n%s", out)
	}
	if _, err := makeDryRun(root, "build-GetFunction"); err == nil {
		t.Error("make build-GetFunction without ARTIFACTS_DIR does not fail")
	}
	// An explicit rule for one function would bypass the shared one; it must at least be deployed.
	raw, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	fns := loadTemplate(t).functions()
	for _, line := range strings.Split(string(raw), "\n") {
		if target, ok := strings.CutPrefix(line, "build-"); ok {
			target, _, _ = strings.Cut(target, ":")
			if target != "%Function" {
				if _, ok := fns[target]; !ok {
					t.Errorf("Makefile rule build-%s builds no template function", target)
				}
			}
		}
	}
}

// Every function has at least one event, and every event a function in the template.
func TestEveryFunctionHasEvents(t *testing.T) {
	fns := loadTemplate(t).functions()
	has := map[string]bool{}
	for _, file := range eventFiles(t) {
		fn := functionOf(file)
		if _, ok := fns[lambdafn.LogicalID(fn)]; !ok {
			t.Errorf("events/%s: no function %s in template.yaml", filepath.Base(file), lambdafn.LogicalID(fn))
		}
		has[fn] = true
	}
	for _, name := range functionNames(t) {
		if !has[name] {
			t.Errorf("functions/%s has no event: add events/%s.json", name, name)
		}
	}
}
