package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// KeyElement is one entry of a table's KeySchema, as CloudFormation writes it.
type KeyElement struct {
	AttributeName string
	KeyType       string // HASH or RANGE
}

// AttributeDefinition is one entry of a table's AttributeDefinitions, as CloudFormation writes it.
type AttributeDefinition struct {
	AttributeName string
	AttributeType string // S, N or B
}

// GlobalSecondaryIndex is one entry of a table's GlobalSecondaryIndexes, as CloudFormation
// writes it (on-demand tables need no throughput).
type GlobalSecondaryIndex struct {
	IndexName      string
	KeySchema      []KeyElement
	ProjectionType string // KEYS_ONLY, INCLUDE or ALL
}

// TableDefinition is the part of the table's definition that the code depends on. It is the one
// definition of the table: CreateTable builds tables from it, and template.yaml's table must
// match it (see CheckCloudFormation).
type TableDefinition struct {
	KeySchema              []KeyElement
	AttributeDefinitions   []AttributeDefinition
	GlobalSecondaryIndexes []GlobalSecondaryIndex
	BillingMode            string
}

// Definition returns the table definition. A secondary index is added here first, then to
// template.yaml, and CheckCloudFormation keeps the two in step.
func Definition() TableDefinition {
	return TableDefinition{
		KeySchema: []KeyElement{
			{AttributeName: "PK", KeyType: "HASH"},
			{AttributeName: "SK", KeyType: "RANGE"},
		},
		AttributeDefinitions: []AttributeDefinition{
			{AttributeName: "PK", AttributeType: "S"},
			{AttributeName: "SK", AttributeType: "S"},
			{AttributeName: attrDuePK, AttributeType: "S"},
			{AttributeName: attrDueSK, AttributeType: "S"},
		},
		GlobalSecondaryIndexes: []GlobalSecondaryIndex{{
			// Sparse: only provider items carry due_pk/due_sk. Keys only: the dispatcher needs
			// no more than the org and id, which PK and SK give, and small entries make a
			// page of due providers cheap (about 150 bytes each).
			IndexName: dueIndex,
			KeySchema: []KeyElement{
				{AttributeName: attrDuePK, KeyType: "HASH"},
				{AttributeName: attrDueSK, KeyType: "RANGE"},
			},
			ProjectionType: "KEYS_ONLY",
		}},
		BillingMode: "PAY_PER_REQUEST",
	}
}

// CloudFormationProperties returns the definition as AWS::DynamoDB::Table properties in
// JSON-decoded form (map[string]any, []any, string), ready to compare with a parsed template.
func (d TableDefinition) CloudFormationProperties() map[string]any {
	keys := keySchema(d.KeySchema)
	attrs := make([]any, len(d.AttributeDefinitions))
	for i, a := range d.AttributeDefinitions {
		attrs[i] = map[string]any{"AttributeName": a.AttributeName, "AttributeType": a.AttributeType}
	}
	props := map[string]any{"KeySchema": keys, "AttributeDefinitions": attrs, "BillingMode": d.BillingMode}
	if len(d.GlobalSecondaryIndexes) > 0 {
		gsis := make([]any, len(d.GlobalSecondaryIndexes))
		for i, g := range d.GlobalSecondaryIndexes {
			gsis[i] = map[string]any{
				"IndexName":  g.IndexName,
				"KeySchema":  keySchema(g.KeySchema),
				"Projection": map[string]any{"ProjectionType": g.ProjectionType},
			}
		}
		props["GlobalSecondaryIndexes"] = gsis
	}
	return props
}

func keySchema(ks []KeyElement) []any {
	out := make([]any, len(ks))
	for i, k := range ks {
		out[i] = map[string]any{"AttributeName": k.AttributeName, "KeyType": k.KeyType}
	}
	return out
}

// CheckCloudFormation reports how props, the Properties of an AWS::DynamoDB::Table resource
// decoded from template.yaml (JSON-like values), differ from Definition(): KeySchema must be
// equal in order, AttributeDefinitions equal in any order, BillingMode equal, and the same
// GlobalSecondaryIndexes (in any order) with equal IndexName, KeySchema and Projection.
// Properties the code does not depend on (TableName, encryption, point-in-time recovery, tags,
// an index's contributor insights) are not compared.
func CheckCloudFormation(props map[string]any) error {
	want := Definition().CloudFormationProperties()
	var diffs []string
	if !reflect.DeepEqual(props["KeySchema"], want["KeySchema"]) {
		diffs = append(diffs, fmt.Sprintf("KeySchema is %v, want %v", props["KeySchema"], want["KeySchema"]))
	}
	got, ok := attributeSet(props["AttributeDefinitions"])
	if exp, _ := attributeSet(want["AttributeDefinitions"]); !ok || !slices.Equal(got, exp) {
		diffs = append(diffs, fmt.Sprintf("AttributeDefinitions are %v, want %v", props["AttributeDefinitions"], want["AttributeDefinitions"]))
	}
	if !reflect.DeepEqual(indexSet(props["GlobalSecondaryIndexes"]), indexSet(want["GlobalSecondaryIndexes"])) {
		diffs = append(diffs, fmt.Sprintf("GlobalSecondaryIndexes are %v, want %v", props["GlobalSecondaryIndexes"], want["GlobalSecondaryIndexes"]))
	}
	if props["BillingMode"] != want["BillingMode"] {
		diffs = append(diffs, fmt.Sprintf("BillingMode is %v, want %v", props["BillingMode"], want["BillingMode"]))
	}
	if len(diffs) > 0 {
		return errors.New("table definition differs from dynamostore.Definition(): " + strings.Join(diffs, "; "))
	}
	return nil
}

// attributeSet turns AttributeDefinitions into sorted "name:type" strings; ok is false when v
// does not have the expected shape.
func attributeSet(v any) (set []string, ok bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		set = append(set, fmt.Sprintf("%v:%v", m["AttributeName"], m["AttributeType"]))
	}
	slices.Sort(set)
	return set, true
}

// indexSet keys GlobalSecondaryIndexes by name, keeping only what the code depends on.
func indexSet(v any) map[any]any {
	set := map[any]any{}
	list, _ := v.([]any)
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			set[fmt.Sprint(e)] = e
			continue
		}
		set[m["IndexName"]] = map[string]any{"KeySchema": m["KeySchema"], "Projection": m["Projection"]}
	}
	return set
}

// CreateTable creates the table from Definition() unless it exists, and waits until it is
// active. For local runs and tests; deployed tables come from template.yaml.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	d := Definition()
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingMode(d.BillingMode),
	}
	for _, k := range d.KeySchema {
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{
			AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	for _, a := range d.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType)})
	}
	for _, g := range d.GlobalSecondaryIndexes {
		gsi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.IndexName),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(g.ProjectionType)},
		}
		for _, k := range g.KeySchema {
			gsi.KeySchema = append(gsi.KeySchema, types.KeySchemaElement{
				AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if _, err := client.CreateTable(ctx, in); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", table, err)
		}
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", table, err)
	}
	return nil
}
