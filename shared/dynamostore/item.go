package dynamostore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// Attribute names of a provider item. Items are written whole on every change (a Put), so any
// attribute a secondary index needs is derived in marshalProvider.
const (
	attrID                  = "id"
	attrOrganization        = "organization"
	attrIdentifier          = "identifier"
	attrType                = "provider_type"
	attrConfig              = "configuration"
	attrSecretFields        = "secret_fields"
	attrSecretVersion       = "secret_version"
	attrStatus              = "status"
	attrValidation          = "validation" // the report as JSON: read whole, kept exactly as the API shows it
	attrCreatedAt           = "created_at"
	attrUpdatedAt           = "updated_at"
	attrVersion             = "version"
	attrLastValidatedAt     = "last_validated_at"
	attrLastValidAt         = "last_valid_at"
	attrConsecutiveFailures = "consecutive_failures"
	attrProviderID          = "provider_id"
)

// Items are mapped by hand rather than with the SDK's reflection-based attributevalue package:
// the mapping is explicit, and every function binary is a quarter megabyte smaller.

func sAttr(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func nAttr(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func marshalProvider(p *provider.Provider) (map[string]types.AttributeValue, error) {
	config, err := toAttr(p.Config)
	if err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	fields := make([]types.AttributeValue, len(p.SecretFields))
	for i, f := range p.SecretFields {
		fields[i] = sAttr(f)
	}
	item := map[string]types.AttributeValue{
		"PK":                    sAttr(pk(p.Organization)),
		"SK":                    sAttr(providerSK(p.ID)),
		attrID:                  sAttr(p.ID),
		attrOrganization:        sAttr(p.Organization),
		attrIdentifier:          sAttr(p.Identifier),
		attrType:                sAttr(string(p.Type)),
		attrConfig:              config,
		attrSecretFields:        &types.AttributeValueMemberL{Value: fields},
		attrSecretVersion:       sAttr(p.SecretVersion),
		attrStatus:              sAttr(string(p.Status)),
		attrCreatedAt:           sAttr(formatTime(p.CreatedAt)),
		attrUpdatedAt:           sAttr(formatTime(p.UpdatedAt)),
		attrVersion:             nAttr(p.Version),
		attrConsecutiveFailures: nAttr(int64(p.ConsecutiveFailures)),
		attrDuePK:               sAttr(duePK(p.ID)),
		attrDueSK:               sAttr(fleet.DueKey(p)),
	}
	if p.Validation != nil {
		r := p.Validation.Clone()
		r.CheckedAt = r.CheckedAt.UTC()
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encode validation report: %w", err)
		}
		item[attrValidation] = sAttr(string(b))
	}
	if p.LastValidatedAt != nil {
		item[attrLastValidatedAt] = sAttr(formatTime(*p.LastValidatedAt))
	}
	if p.LastValidAt != nil {
		item[attrLastValidAt] = sAttr(formatTime(*p.LastValidAt))
	}
	return item, nil
}

// marshalIdent is the item that reserves an identifier within an organization for one provider.
func marshalIdent(org, identifier, id string) (map[string]types.AttributeValue, error) {
	return map[string]types.AttributeValue{
		"PK": sAttr(pk(org)), "SK": sAttr(identSK(identifier)), attrProviderID: sAttr(id),
	}, nil
}

func unmarshalProvider(av map[string]types.AttributeValue) (*provider.Provider, error) {
	d := decoder{av: av}
	if !strings.HasPrefix(d.str("SK"), providerPrefix) {
		return nil, fmt.Errorf("decode provider item: not a provider item")
	}
	p := &provider.Provider{
		ID:                  d.str(attrID),
		Organization:        d.str(attrOrganization),
		Identifier:          d.str(attrIdentifier),
		Type:                provider.Type(d.str(attrType)),
		SecretVersion:       d.str(attrSecretVersion),
		Status:              provider.Status(d.str(attrStatus)),
		Version:             d.num(attrVersion),
		ConsecutiveFailures: int(d.num(attrConsecutiveFailures)),
	}
	if m, ok := av[attrConfig]; ok {
		v, err := fromAttr(m)
		if err != nil {
			return nil, fmt.Errorf("decode provider item: configuration: %w", err)
		}
		p.Config, _ = v.(map[string]any)
	}
	if l, ok := av[attrSecretFields].(*types.AttributeValueMemberL); ok {
		for _, f := range l.Value {
			if fs, ok := f.(*types.AttributeValueMemberS); ok {
				p.SecretFields = append(p.SecretFields, fs.Value)
			}
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	var err error
	if p.CreatedAt, err = parseTime(d.str(attrCreatedAt)); err != nil {
		return nil, err
	}
	if p.UpdatedAt, err = parseTime(d.str(attrUpdatedAt)); err != nil {
		return nil, err
	}
	if p.LastValidatedAt, err = parseOptionalTime(d.str(attrLastValidatedAt)); err != nil {
		return nil, err
	}
	if p.LastValidAt, err = parseOptionalTime(d.str(attrLastValidAt)); err != nil {
		return nil, err
	}
	if v := d.str(attrValidation); v != "" {
		var r provider.Report
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("decode validation report: %w", err)
		}
		r.CheckedAt = r.CheckedAt.UTC()
		p.Validation = &r
	}
	return p, nil
}

// decoder reads typed attributes, remembering the first malformed one.
type decoder struct {
	av  map[string]types.AttributeValue
	err error
}

func (d *decoder) str(name string) string {
	switch v := d.av[name].(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		d.fail(name)
		return ""
	}
}

func (d *decoder) num(name string) int64 {
	switch v := d.av[name].(type) {
	case nil:
		return 0
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			d.fail(name)
		}
		return n
	default:
		d.fail(name)
		return 0
	}
}

func (d *decoder) fail(name string) {
	if d.err == nil {
		d.err = fmt.Errorf("decode provider item: attribute %q has the wrong type", name)
	}
}

// toAttr encodes a configuration value: the JSON types a configuration can hold.
func toAttr(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case string:
		return sAttr(x), nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case float64:
		return &types.AttributeValueMemberN{Value: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case int:
		return nAttr(int64(x)), nil
	case map[string]any:
		m := make(map[string]types.AttributeValue, len(x))
		for k, e := range x {
			av, err := toAttr(e)
			if err != nil {
				return nil, err
			}
			m[k] = av
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			av, err := toAttr(e)
			if err != nil {
				return nil, err
			}
			l[i] = av
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	default:
		return nil, fmt.Errorf("unsupported value of type %T", v)
	}
}

// fromAttr is toAttr's inverse; numbers come back as float64, as from encoding/json.
func fromAttr(av types.AttributeValue) (any, error) {
	switch x := av.(type) {
	case *types.AttributeValueMemberNULL:
		return nil, nil
	case *types.AttributeValueMemberS:
		return x.Value, nil
	case *types.AttributeValueMemberBOOL:
		return x.Value, nil
	case *types.AttributeValueMemberN:
		return strconv.ParseFloat(x.Value, 64)
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(x.Value))
		for k, e := range x.Value {
			v, err := fromAttr(e)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			v, err := fromAttr(e)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	default:
		return nil, fmt.Errorf("unsupported attribute type %T", av)
	}
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
