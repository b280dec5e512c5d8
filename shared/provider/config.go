package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Mask is what a secret field shows instead of its value.
const Mask = "********"

// Configuration is a parsed provider configuration, split into what is stored with the provider
// (Public) and what goes to the secret store (Secret).
type Configuration struct {
	Public map[string]any
	Secret map[string]string
}

// SecretFieldNames returns the names of the secret fields in a stable order.
func (c Configuration) SecretFieldNames() []string {
	names := make([]string, 0, len(c.Secret))
	for k := range c.Secret {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// field describes one configuration field of a provider type.
type field struct {
	name     string
	secret   bool
	required bool
	// parse checks the raw JSON value and returns what to store. For secret fields the
	// returned value must be a string (the secret material); public may add derived public fields.
	parse func(raw json.RawMessage, c *parseCtx) (any, error)
}

// parseCtx lets a field parser see the other fields and add public values (e.g. GCP's project).
type parseCtx struct {
	raw    map[string]json.RawMessage
	public map[string]any
	errs   *ValidationError
}

type schema struct {
	fields []field
	// check runs after all fields parsed, for rules across fields.
	check func(c *parseCtx, cfg *Configuration)
}

var schemas = map[Type]schema{
	AWS:   awsSchema,
	GCP:   gcpSchema,
	Azure: azureSchema,
	OCI:   ociSchema,
}

// FieldNames lists a type's configuration fields, for documentation and error messages.
func FieldNames(t Type) []string {
	s := schemas[t]
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.name
	}
	return out
}

// IsSecretField reports whether name is a secret field of type t.
func IsSecretField(t Type, name string) bool {
	for _, f := range schemas[t].fields {
		if f.name == name {
			return f.secret
		}
	}
	return false
}

// ParseConfiguration checks a configuration object for provider type t and splits it into its
// public and secret parts. Every problem is reported as a field error under "configuration.<name>";
// reasons never contain the submitted values.
func ParseConfiguration(t Type, raw json.RawMessage) (Configuration, error) {
	errs := &ValidationError{}
	s, ok := schemas[t]
	if !ok {
		errs.Add("provider_type", fmt.Sprintf("must be one of %s", typeList()))
		return Configuration{}, errs
	}
	var obj map[string]json.RawMessage
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		errs.Add("configuration", "is required")
		return Configuration{}, errs
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		errs.Add("configuration", "must be a JSON object")
		return Configuration{}, errs
	}
	known := map[string]bool{}
	for _, f := range s.fields {
		known[f.name] = true
	}
	var unknown []string
	for k := range obj {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		errs.Add("configuration."+k, fmt.Sprintf("unknown field for provider_type %q; allowed fields: %s", t, strings.Join(FieldNames(t), ", ")))
	}

	cfg := Configuration{Public: map[string]any{}, Secret: map[string]string{}}
	pc := &parseCtx{raw: obj, public: cfg.Public, errs: errs}
	for _, f := range s.fields {
		v, present := obj[f.name]
		if !present || isNull(v) {
			if f.required {
				errs.Add("configuration."+f.name, "is required")
			}
			continue
		}
		out, err := f.parse(v, pc)
		if err != nil {
			errs.Add("configuration."+f.name, err.Error())
			continue
		}
		if out == nil {
			continue
		}
		if f.secret {
			cfg.Secret[f.name] = out.(string)
		} else {
			cfg.Public[f.name] = out
		}
	}
	if s.check != nil && len(errs.Fields) == 0 {
		s.check(pc, &cfg)
	}
	if err := errs.Err(); err != nil {
		return Configuration{}, err
	}
	return cfg, nil
}

// Masked returns the configuration as clients see it: public fields as stored, every secret
// field replaced by Mask.
func (p *Provider) Masked() map[string]any {
	out := cloneMap(p.Config)
	if out == nil {
		out = map[string]any{}
	}
	for _, name := range p.SecretFields {
		if _, shown := out[name]; !shown {
			out[name] = Mask
		}
	}
	return out
}

func typeList() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// str decodes a JSON string, rejecting other JSON types, empty strings and surrounding blanks.
func str(raw json.RawMessage) (string, error) {
	s, err := text(raw)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(s) != s {
		return "", fmt.Errorf("must not have leading or trailing whitespace")
	}
	return s, nil
}

// text decodes a non-empty JSON string as is (PEM documents end with a newline).
func text(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("must be a string")
	}
	if s == "" {
		return "", fmt.Errorf("must not be empty")
	}
	return s, nil
}

// matching builds a parser for a string field that must match a pattern described in words.
func matching(re interface{ MatchString(string) bool }, rule string) func(json.RawMessage, *parseCtx) (any, error) {
	return func(raw json.RawMessage, _ *parseCtx) (any, error) {
		s, err := str(raw)
		if err != nil {
			return nil, err
		}
		if !re.MatchString(s) {
			return nil, fmt.Errorf("must be %s", rule)
		}
		return s, nil
	}
}

// secretString builds a parser for a secret string with a length bound and an optional shape.
func secretString(maxLen int, re interface{ MatchString(string) bool }, rule string) func(json.RawMessage, *parseCtx) (any, error) {
	return func(raw json.RawMessage, _ *parseCtx) (any, error) {
		s, err := str(raw)
		if err != nil {
			return nil, err
		}
		if len(s) > maxLen {
			return nil, fmt.Errorf("must be at most %d characters", maxLen)
		}
		if re != nil && !re.MatchString(s) {
			return nil, fmt.Errorf("must be %s", rule)
		}
		return s, nil
	}
}
