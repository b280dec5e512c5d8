package dynamostore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Keys. Every item of an organization lives in its partition, so a query built from the org in
// the request path can never reach another organization's data.
const (
	orgPrefix      = "ORG#"
	providerPrefix = "PROVIDER#" // SK of a provider item: PROVIDER#<id>
	identPrefix    = "IDENT#"    // SK of a uniqueness item: IDENT#<identifier>
)

// timeFormat is RFC 3339 in UTC with fixed-width nanoseconds, so that string order is time order:
// an index sorted on last_validated_at (the revalidation scheduler's) stays correct.
// (RFC3339Nano drops trailing zeros, and "05.1Z" sorts after "05.12Z".)
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func pk(org string) string             { return orgPrefix + org }
func providerSK(id string) string      { return providerPrefix + id }
func identSK(identifier string) string { return identPrefix + identifier }
func formatTime(t time.Time) string    { return t.UTC().Format(timeFormat) }

func key(pkv, skv string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pkv},
		"SK": &types.AttributeValueMemberS{Value: skv},
	}
}

// providerItem is a provider as stored. Attributes are written whole on every change (a Put), so
// any attribute a secondary index needs must be derived here from the provider.
type providerItem struct {
	PK            string         `dynamodbav:"PK"`
	SK            string         `dynamodbav:"SK"`
	ID            string         `dynamodbav:"id"`
	Organization  string         `dynamodbav:"organization"`
	Identifier    string         `dynamodbav:"identifier"`
	Type          string         `dynamodbav:"provider_type"`
	Config        map[string]any `dynamodbav:"configuration"`
	SecretFields  []string       `dynamodbav:"secret_fields"`
	SecretVersion string         `dynamodbav:"secret_version"`
	Status        string         `dynamodbav:"status"`
	// Validation is the report as JSON: it is only ever read whole, and JSON keeps it exactly as
	// the API shows it (empty vs absent lists, time zones).
	Validation          string `dynamodbav:"validation,omitempty"`
	CreatedAt           string `dynamodbav:"created_at"`
	UpdatedAt           string `dynamodbav:"updated_at"`
	Version             int64  `dynamodbav:"version"`
	LastValidatedAt     string `dynamodbav:"last_validated_at,omitempty"`
	LastValidAt         string `dynamodbav:"last_valid_at,omitempty"`
	ConsecutiveFailures int    `dynamodbav:"consecutive_failures"`
	// The due index's keys (see due.go). Only provider items have them, which keeps it sparse.
	DuePK string `dynamodbav:"due_pk"`
	DueSK string `dynamodbav:"due_sk"`
}

// identItem reserves an identifier within an organization for one provider.
type identItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	ProviderID string `dynamodbav:"provider_id"`
}

func marshalProvider(p *provider.Provider) (map[string]types.AttributeValue, error) {
	it := providerItem{
		PK:                  pk(p.Organization),
		SK:                  providerSK(p.ID),
		ID:                  p.ID,
		Organization:        p.Organization,
		Identifier:          p.Identifier,
		Type:                string(p.Type),
		Config:              p.Config,
		SecretFields:        p.SecretFields,
		SecretVersion:       p.SecretVersion,
		Status:              string(p.Status),
		CreatedAt:           formatTime(p.CreatedAt),
		UpdatedAt:           formatTime(p.UpdatedAt),
		Version:             p.Version,
		ConsecutiveFailures: p.ConsecutiveFailures,
		DuePK:               duePK(p.ID),
		DueSK:               fleet.DueKey(p),
	}
	if p.Validation != nil {
		r := p.Validation.Clone()
		r.CheckedAt = r.CheckedAt.UTC()
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encode validation report: %w", err)
		}
		it.Validation = string(b)
	}
	if p.LastValidatedAt != nil {
		it.LastValidatedAt = formatTime(*p.LastValidatedAt)
	}
	if p.LastValidAt != nil {
		it.LastValidAt = formatTime(*p.LastValidAt)
	}
	return attributevalue.MarshalMap(it)
}

func marshalIdent(org, identifier, id string) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(identItem{PK: pk(org), SK: identSK(identifier), ProviderID: id})
}

func unmarshalProvider(av map[string]types.AttributeValue) (*provider.Provider, error) {
	var it providerItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("decode provider item: %w", err)
	}
	if !strings.HasPrefix(it.SK, providerPrefix) {
		return nil, fmt.Errorf("decode provider item: not a provider item")
	}
	p := &provider.Provider{
		ID:                  it.ID,
		Organization:        it.Organization,
		Identifier:          it.Identifier,
		Type:                provider.Type(it.Type),
		Config:              it.Config,
		SecretFields:        it.SecretFields,
		SecretVersion:       it.SecretVersion,
		Status:              provider.Status(it.Status),
		Version:             it.Version,
		ConsecutiveFailures: it.ConsecutiveFailures,
	}
	var err error
	if p.CreatedAt, err = parseTime(it.CreatedAt); err != nil {
		return nil, err
	}
	if p.UpdatedAt, err = parseTime(it.UpdatedAt); err != nil {
		return nil, err
	}
	if p.LastValidatedAt, err = parseOptionalTime(it.LastValidatedAt); err != nil {
		return nil, err
	}
	if p.LastValidAt, err = parseOptionalTime(it.LastValidAt); err != nil {
		return nil, err
	}
	if it.Validation != "" {
		var r provider.Report
		if err := json.Unmarshal([]byte(it.Validation), &r); err != nil {
			return nil, fmt.Errorf("decode validation report: %w", err)
		}
		r.CheckedAt = r.CheckedAt.UTC()
		p.Validation = &r
	}
	return p, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("decode provider item: bad time %q", s)
	}
	return t.UTC(), nil
}

func parseOptionalTime(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(s)
	return &t, err
}
