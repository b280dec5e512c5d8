// Package provider holds the Fleet Provider domain: provider types, their configuration rules,
// masking of secret fields, statuses, validation reports and the domain errors every backend maps to.
package provider

import (
	"time"
)

// Type is a cloud a fleet provider lives in.
type Type string

const (
	AWS   Type = "aws"
	GCP   Type = "gcp"
	Azure Type = "azure"
	OCI   Type = "oci"
)

// Types lists every supported provider type in a stable order.
var Types = []Type{AWS, GCP, Azure, OCI}

// Valid reports whether t is a supported provider type.
func (t Type) Valid() bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

// Status is where a provider stands with respect to its last validation.
type Status string

const (
	StatusPending    Status = "pending_validation"
	StatusValid      Status = "valid"
	StatusInvalid    Status = "invalid"
	StatusUnverified Status = "unverified"
	StatusError      Status = "error"
)

// Provider is one registered cloud account. Config holds only the non-secret part of the
// configuration; the secret part lives in the secret store under SecretVersion.
type Provider struct {
	ID           string         `json:"id"`
	Organization string         `json:"organization"`
	Identifier   string         `json:"identifier"`
	Type         Type           `json:"provider_type"`
	Config       map[string]any `json:"configuration"`
	// SecretFields names the secret configuration fields the provider has, so they can be shown masked.
	SecretFields  []string  `json:"secret_fields,omitempty"`
	SecretVersion string    `json:"secret_version,omitempty"`
	Status        Status    `json:"status"`
	Validation    *Report   `json:"validation,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Version increases on every write; writers pass the version they read (optimistic concurrency).
	Version int64 `json:"version"`

	// Revalidation history.
	LastValidatedAt     *time.Time `json:"last_validated_at,omitempty"`
	LastValidAt         *time.Time `json:"last_valid_at,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures,omitempty"`
}

// Clone returns a deep copy, so callers can change a provider without touching a stored one.
func (p *Provider) Clone() *Provider {
	if p == nil {
		return nil
	}
	c := *p
	c.Config = cloneMap(p.Config)
	c.SecretFields = append([]string(nil), p.SecretFields...)
	if p.Validation != nil {
		v := p.Validation.Clone()
		c.Validation = &v
	}
	if p.LastValidatedAt != nil {
		t := *p.LastValidatedAt
		c.LastValidatedAt = &t
	}
	if p.LastValidAt != nil {
		t := *p.LastValidAt
		c.LastValidAt = &t
	}
	return &c
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}

var (
	identifierRE = newPattern(`^[a-z0-9][a-z0-9-]+[a-z0-9]$`, 63)
	orgRE        = newPattern(`^[A-Za-z0-9][A-Za-z0-9_-]*$`, 128)
)

// IdentifierRule is the identifier rule in words, for error messages and documentation.
const IdentifierRule = "3-63 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit"

// ValidIdentifier reports whether s is a well-formed provider identifier.
func ValidIdentifier(s string) bool { return identifierRE.MatchString(s) }

// ValidOrganization reports whether s is a well-formed organization id.
func ValidOrganization(s string) bool { return orgRE.MatchString(s) }

// ConfigString returns a public configuration field as a string, "" if absent.
func (p *Provider) ConfigString(key string) string {
	if p == nil {
		return ""
	}
	s, _ := p.Config[key].(string)
	return s
}
