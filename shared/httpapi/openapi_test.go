package httpapi_test

import (
	"bytes"
	"flag"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/streamtime/fleet-providers/shared/httpapi"
)

// The OpenAPI document is kept true by checking every response any test in this package
// receives against it, and, after a full run, that every documented operation's success
// response was seen.

type openapiSpec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	paths    []specPath
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
	covered  map[string]bool // operationId + " " + status
}

type specPath struct {
	template string
	re       *regexp.Regexp
}

var (
	specOnce sync.Once
	spec     *openapiSpec
	specErr  error
)

func loadSpec() (*openapiSpec, error) {
	specOnce.Do(func() {
		js, err := yaml.YAMLToJSON(httpapi.OpenAPI)
		if err != nil {
			specErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			specErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource("openapi.json", doc); err != nil {
			specErr = err
			return
		}
		s := &openapiSpec{doc: doc.(map[string]any), compiler: c, schemas: map[string]*jsonschema.Schema{}, covered: map[string]bool{}}
		if s.doc["openapi"] != "3.1.0" {
			specErr = fmt.Errorf("openapi version %v, want 3.1.0", s.doc["openapi"])
			return
		}
		for tmpl := range s.doc["paths"].(map[string]any) {
			re := "^" + regexp.MustCompile(`\\\{[a-z]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
			s.paths = append(s.paths, specPath{tmpl, regexp.MustCompile(re)})
		}
		spec = s
	})
	return spec, specErr
}

func (s *openapiSpec) schema(ref string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[ref]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile("openapi.json" + ref)
	if err != nil {
		return nil, err
	}
	s.schemas[ref] = sch
	return sch, nil
}

func (s *openapiSpec) resolve(obj map[string]any) map[string]any {
	for {
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj
		}
		cur := any(s.doc)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[strings.ReplaceAll(part, "~1", "/")]
		}
		obj = cur.(map[string]any)
	}
}

// check validates one response against the document.
func (s *openapiSpec) check(method, path string, status int, header http.Header, body []byte) error {
	var op map[string]any
	for _, p := range s.paths {
		if p.re.MatchString(path) {
			if o, ok := s.doc["paths"].(map[string]any)[p.template].(map[string]any)[strings.ToLower(method)].(map[string]any); ok {
				op = o
			}
		}
	}
	ct, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	var schemaRef string
	if op == nil {
		// No such operation: only a 404/405 problem may answer.
		if status != 404 && status != 405 {
			return fmt.Errorf("%s %s answered %d but is not a documented operation", method, path, status)
		}
		schemaRef = "#/components/schemas/Problem"
		if ct != "application/problem+json" {
			return fmt.Errorf("%s %s: %d with content type %q", method, path, status, ct)
		}
	} else {
		responses := op["responses"].(map[string]any)
		r, ok := responses[strconv.Itoa(status)].(map[string]any)
		if !ok {
			if status < 400 {
				return fmt.Errorf("%s %s: success status %d is not documented", method, path, status)
			}
			r = responses["default"].(map[string]any)
		}
		s.mu.Lock()
		s.covered[op["operationId"].(string)+" "+strconv.Itoa(status)] = true
		s.mu.Unlock()
		r = s.resolve(r)
		content, _ := r["content"].(map[string]any)
		if len(content) == 0 {
			if len(body) != 0 {
				return fmt.Errorf("%s %s: %d documents no body but got %q", method, path, status, body)
			}
			return nil
		}
		media, ok := content[ct].(map[string]any)
		if !ok {
			return fmt.Errorf("%s %s: %d with undocumented content type %q", method, path, status, ct)
		}
		schemaRef = media["schema"].(map[string]any)["$ref"].(string)
	}
	sch, err := s.schema(schemaRef)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s: %d body is not JSON: %v", method, path, status, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s %s: %d body does not match %s: %v\nbody: %s", method, path, status, schemaRef, err, body)
	}
	return nil
}

// conformant wraps h so every response is checked against the document at the end of the test.
func conformant(t *testing.T, h http.Handler) http.Handler {
	s, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := s.check(r.Method, r.URL.Path, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("OpenAPI: %v", err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	// After a full run, every documented success response must have been produced by some test.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && spec != nil {
		var missing []string
		for _, item := range spec.doc["paths"].(map[string]any) {
			for _, o := range item.(map[string]any) {
				op, ok := o.(map[string]any)
				if !ok || op["operationId"] == nil {
					continue
				}
				for status := range op["responses"].(map[string]any) {
					if strings.HasPrefix(status, "2") && !spec.covered[op["operationId"].(string)+" "+status] {
						missing = append(missing, op["operationId"].(string)+" "+status)
					}
				}
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "OpenAPI success responses no test produced: %v\n", missing)
			code = 1
		}
	}
	os.Exit(code)
}
