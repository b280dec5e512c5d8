// Package dynamostore keeps provider metadata in one DynamoDB table.
//
// Table design (one partition per organization; see Definition for the key schema):
//
//	PK = ORG#<org>  SK = PROVIDER#<id>          the provider (attributes in item.go)
//	PK = ORG#<org>  SK = IDENT#<identifier>     reserves identifier for provider_id
//
// Create, rename and delete change the provider item and the uniqueness items in one
// TransactWriteItems, so an identifier is never taken twice nor left reserved by a deleted
// provider. Every write is conditional on the version attribute the writer read (optimistic
// concurrency). Reads are strongly consistent (a client reads its own writes; Repair must not
// mistake a just-created provider for a missing one). Nothing scans the table: Get is a GetItem,
// List a Query on the organization's partition, and the scheduled revalidation reads a sparse
// index of due providers (due.go).
package dynamostore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamtime/fleet-providers/shared/awserr"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Store is a fleet.Store on DynamoDB.
type Store struct {
	db    *dynamodb.Client
	table string
	due   dueCounter
}

var _ fleet.Store = (*Store)(nil)

// New returns a Store on table, using client (built once per process).
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: client, table: table}
}

// maxPage bounds a list page; DynamoDB's Limit is an int32 and pages this size are already far
// beyond what the API serves.
const maxPage = 1000

// transactAttempts bounds retries of a transaction canceled by a concurrent one
// (TransactionConflict): which of two racing transactions loses is up to DynamoDB, and the loser's
// retry then meets the winner's result as a definite condition failure.
const transactAttempts = 5

// Create stores p with Version 1 and reserves its identifier, both or neither.
func (s *Store) Create(ctx context.Context, p *provider.Provider) error {
	p.Version = 1
	item, err := marshalProvider(p)
	if err != nil {
		return err
	}
	ident, err := marshalIdent(p.Organization, p.Identifier, p.ID)
	if err != nil {
		return err
	}
	reasons, err := s.transact(ctx, "create", []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: ident, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	})
	switch {
	case err != nil:
		return err
	case reasons == nil:
		return nil
	case code(reasons[1]) == reasonCondition:
		return fmt.Errorf("create provider: identifier %q: %w", p.Identifier, provider.ErrConflict)
	case code(reasons[0]) == reasonCondition:
		// Ids are generated (UUIDv7), so this is a bug rather than a race; either way this
		// create did not happen. (SDK retries of this call reuse its idempotency token and
		// report the first attempt's success, not this.)
		return fmt.Errorf("create provider: id %s exists: %w", p.ID, provider.ErrConflict)
	}
	return unexpected("create", reasons)
}

// Get returns the provider org/id. Another org's id is simply not in org's partition.
func (s *Store) Get(ctx context.Context, org, id string) (*provider.Provider, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(pk(org), providerSK(id)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, unavailable("get", err)
	}
	if out.Item == nil {
		return nil, provider.ErrNotFound
	}
	return unmarshalProvider(out.Item)
}

// List returns a page of org's providers in id order. The token is the last returned id; the
// partition key comes from org, never from the token, so a token cannot open another org's data.
// It asks for one item more than limit to know, in the same Query, whether another page exists:
// the last page never hands out a token that leads to an empty page.
func (s *Store) List(ctx context.Context, org string, limit int, after string) ([]*provider.Provider, string, error) {
	if after != "" && !validToken(after) {
		return nil, "", provider.ErrInvalidCursor
	}
	if limit <= 0 || limit > maxPage {
		limit = maxPage
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk(org)},
			":prefix": &types.AttributeValueMemberS{Value: providerPrefix},
		},
		Limit:          aws.Int32(int32(limit + 1)),
		ConsistentRead: aws.Bool(true),
	}
	if after != "" {
		in.ExclusiveStartKey = key(pk(org), providerSK(after))
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", unavailable("list", err)
	}
	items := make([]*provider.Provider, 0, min(len(out.Items), limit))
	for _, av := range out.Items[:min(len(out.Items), limit)] {
		p, err := unmarshalProvider(av)
		if err != nil {
			return nil, "", err
		}
		items = append(items, p)
	}
	// More pages exist if the extra item came back, or if DynamoDB stopped early at its 1 MB
	// page size (LastEvaluatedKey without the extra item).
	if len(items) > 0 && (len(out.Items) > limit || out.LastEvaluatedKey != nil) {
		return items, items[len(items)-1].ID, nil
	}
	return items, "", nil
}

// validToken accepts what List hands out: a provider id (printable, no key separator).
func validToken(t string) bool {
	if len(t) > 256 || !utf8.ValidString(t) || strings.Contains(t, "#") {
		return false
	}
	for _, r := range t {
		if r < 0x21 || r == 0x7f {
			return false
		}
	}
	return true
}

// Update replaces prev by next if the stored version is still prev.Version. A rename moves the
// identifier reservation in the same transaction. Single-item updates go through
// TransactWriteItems too: its idempotency token (filled in once by the SDK and reused by its
// retries) means a retry after a lost response reports the write that happened instead of
// ErrStale for our own write.
func (s *Store) Update(ctx context.Context, prev, next *provider.Provider) error {
	if next.Organization != prev.Organization || next.ID != prev.ID {
		return fmt.Errorf("update provider: organization and id cannot change")
	}
	n := *next
	n.Version = prev.Version + 1
	item, err := marshalProvider(&n)
	if err != nil {
		return err
	}
	writes := []types.TransactWriteItem{{Put: &types.Put{
		TableName:                           &s.table,
		Item:                                item,
		ConditionExpression:                 aws.String("version = :v"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":v": number(prev.Version)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	renamed := next.Identifier != prev.Identifier
	if renamed {
		ident, err := marshalIdent(next.Organization, next.Identifier, next.ID)
		if err != nil {
			return err
		}
		writes = append(writes,
			types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table, Item: ident, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			types.TransactWriteItem{Delete: &types.Delete{
				TableName:                 &s.table,
				Key:                       key(pk(prev.Organization), identSK(prev.Identifier)),
				ConditionExpression:       aws.String("attribute_not_exists(PK) OR provider_id = :id"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: prev.ID}},
			}})
	}
	reasons, err := s.transact(ctx, "update", writes)
	if err != nil {
		return err
	}
	if reasons == nil {
		next.Version = n.Version
		return nil
	}
	// The provider's own condition decides first: a missing or changed provider makes any
	// identifier conflict moot.
	if code(reasons[0]) == reasonCondition {
		if reasons[0].Item == nil {
			return fmt.Errorf("update provider: %w", provider.ErrNotFound)
		}
		return fmt.Errorf("update provider: %w", provider.ErrStale)
	}
	if renamed && code(reasons[1]) == reasonCondition {
		return fmt.Errorf("update provider: identifier %q: %w", next.Identifier, provider.ErrConflict)
	}
	return unexpected("update", reasons)
}

// Delete removes the provider and its identifier reservation together. The identifier is read
// first; if a rename slips in between, the version condition fails and the delete starts over.
func (s *Store) Delete(ctx context.Context, org, id string) error {
	for attempt := 0; attempt < transactAttempts; attempt++ {
		p, err := s.Get(ctx, org, id)
		if err != nil {
			return err
		}
		reasons, err := s.transact(ctx, "delete", []types.TransactWriteItem{
			{Delete: &types.Delete{
				TableName:                 &s.table,
				Key:                       key(pk(org), providerSK(id)),
				ConditionExpression:       aws.String("version = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": number(p.Version)},
			}},
			{Delete: &types.Delete{
				TableName: &s.table,
				Key:       key(pk(org), identSK(p.Identifier)),
				// Never remove another provider's reservation; tolerate a missing one.
				ConditionExpression:       aws.String("attribute_not_exists(PK) OR provider_id = :id"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
			}},
		})
		if err != nil {
			return err
		}
		if reasons == nil {
			return nil
		}
		if code(reasons[0]) != reasonCondition {
			return unexpected("delete", reasons)
		}
		// Changed or deleted since the read: read again (a deleted one ends as ErrNotFound).
	}
	return &provider.UnavailableError{RetryAfter: awserr.RetryAfterThrottled,
		Cause: fmt.Errorf("dynamodb delete: provider kept changing")}
}

// transact runs a transaction. A transaction canceled by a condition returns its cancellation
// reasons (one per write, in order) and a nil error; one canceled only by a concurrent
// transaction or throttling is tried again with a fresh idempotency token.
func (s *Store) transact(ctx context.Context, op string, writes []types.TransactWriteItem) ([]types.CancellationReason, error) {
	var lastErr error
	for attempt := 0; attempt < transactAttempts; attempt++ {
		if attempt > 0 {
			// Jittered so racing writers do not collide again in lockstep.
			d := time.Duration(rand.Int64N(int64(20*time.Millisecond<<attempt))) + 5*time.Millisecond
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(d):
			}
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
		if err == nil {
			return nil, nil
		}
		reasons := canceled(err)
		if reasons == nil {
			return nil, unavailable(op, err)
		}
		if len(reasons) != len(writes) {
			return nil, fmt.Errorf("dynamodb %s: %d cancellation reasons for %d writes: %w", op, len(reasons), len(writes), err)
		}
		if !retryableCancel(reasons) {
			return reasons, nil
		}
		lastErr = err
	}
	return nil, &provider.UnavailableError{RetryAfter: awserr.RetryAfterThrottled, Cause: fmt.Errorf("dynamodb %s: %w", op, lastErr)}
}

func unexpected(op string, reasons []types.CancellationReason) error {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = code(r)
	}
	return fmt.Errorf("dynamodb %s: transaction canceled: %s", op, strings.Join(codes, ", "))
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}
