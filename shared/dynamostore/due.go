package dynamostore

// The due index: which providers the scheduled revalidation should check next, without a Scan.
//
//	GSI "due":  due_pk = DUE#<shard>  due_sk = fleet.DueKey(provider)   (keys only, sparse)
//	PK = SCHEDULER  SK = REVALIDATE#CHECKPOINT   where the last dispatcher run stopped
//
// Every provider item carries due_pk/due_sk (marshalProvider derives them), so each validation
// moves the provider to the back of its shard. The shard is a hash of the provider id: one index
// partition key takes about 1,000 writes a second, and each validation costs the index two (the
// entry moves), so a single key would cap the fleet's validation rate; DueShards keys lift the
// cap sixteenfold. Reads merge the shards' pages in key order, so the dispatcher still sees one
// list, never-validated first, then by oldest check.

import (
	"context"
	"fmt"
	"hash/fnv"
	"iter"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

const (
	dueIndex  = "due"
	attrDuePK = "due_pk"
	attrDueSK = "due_sk"
	duePrefix = "DUE#"

	// DueShards is how many due_pk values the index is spread over. Changing it strands
	// providers under shards the dispatcher no longer reads until each is written again.
	DueShards = 16

	// A shard's first page is small, so a run that takes few providers reads few; later pages
	// double up to duePageMax (about 150 KB of keys-only entries).
	duePageFirst = 64
	duePageMax   = 1000

	checkpointPK = "SCHEDULER"
	checkpointSK = "REVALIDATE#CHECKPOINT"
)

var _ fleet.DueStore = (*Store)(nil)

func duePK(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%s%02d", duePrefix, h.Sum32()%DueShards)
}

// DueReads counts the due index reads a Store has made, for logs and the benchmark.
type DueReads struct {
	Pages         int64   // Query calls
	Items         int64   // index entries returned
	CapacityUnits float64 // read capacity units DynamoDB reported consumed
}

type dueCounter struct {
	mu sync.Mutex
	DueReads
}

func (c *dueCounter) add(out *dynamodb.QueryOutput) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Pages++
	c.Items += int64(len(out.Items))
	if cc := out.ConsumedCapacity; cc != nil && cc.CapacityUnits != nil {
		c.CapacityUnits += *cc.CapacityUnits
	}
}

// DueReads returns the due index reads made so far.
func (s *Store) DueReads() DueReads {
	s.due.mu.Lock()
	defer s.due.mu.Unlock()
	return s.due.DueReads
}

// dueShard is one shard's read position: the entries read and not yet yielded, and where its
// next page starts.
type dueShard struct {
	pk    string
	buf   []fleet.Due
	next  map[string]types.AttributeValue // LastEvaluatedKey
	more  bool
	limit int32
	err   error
}

// Due yields due providers in key order by merging the shards' ascending Queries. Each shard
// holds at most one page beyond what was yielded, so reads stay within what the caller takes
// plus a page per shard. The index is eventually consistent: a provider validated a moment ago
// may still be listed, which the worker recognizes and skips.
func (s *Store) Due(ctx context.Context, after string, before time.Time) iter.Seq2[fleet.Due, error] {
	return func(yield func(fleet.Due, error) bool) {
		hi := fleet.DueBefore(before)
		if after >= hi {
			return
		}
		shards := make([]*dueShard, DueShards)
		var wg sync.WaitGroup
		for i := range shards {
			sh := &dueShard{pk: fmt.Sprintf("%s%02d", duePrefix, i), more: true, limit: duePageFirst}
			shards[i] = sh
			wg.Go(func() { sh.err = s.fill(ctx, sh, after, hi) })
		}
		wg.Wait()
		for {
			var head *dueShard
			for _, sh := range shards {
				if sh.err != nil {
					yield(fleet.Due{}, sh.err)
					return
				}
				if len(sh.buf) > 0 && (head == nil || sh.buf[0].Key < head.buf[0].Key) {
					head = sh
				}
			}
			if head == nil {
				return
			}
			d := head.buf[0]
			head.buf = head.buf[1:]
			if !yield(d, nil) {
				return
			}
			if len(head.buf) == 0 {
				// Refill before the next comparison: an empty shard with more pages could hold
				// the next key.
				head.err = s.fill(ctx, head, after, hi)
			}
		}
	}
}

// fill reads sh's next non-empty page, if it has one.
func (s *Store) fill(ctx context.Context, sh *dueShard, after, hi string) error {
	values := map[string]types.AttributeValue{
		":pk": &types.AttributeValueMemberS{Value: sh.pk},
		":hi": &types.AttributeValueMemberS{Value: hi},
	}
	cond := "due_pk = :pk AND due_sk < :hi"
	if after != "" {
		// BETWEEN is inclusive; the entry equal to after (keys are unique) is dropped below.
		cond = "due_pk = :pk AND due_sk BETWEEN :lo AND :hi"
		values[":lo"] = &types.AttributeValueMemberS{Value: after}
	}
	for len(sh.buf) == 0 && sh.more {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(dueIndex),
			KeyConditionExpression:    aws.String(cond),
			ExpressionAttributeValues: values,
			ExclusiveStartKey:         sh.next,
			Limit:                     aws.Int32(sh.limit),
			ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return unavailable("due", err)
		}
		s.due.add(out)
		sh.next, sh.more = out.LastEvaluatedKey, out.LastEvaluatedKey != nil
		sh.limit = min(2*sh.limit, duePageMax)
		for _, av := range out.Items {
			d, err := unmarshalDue(av)
			if err != nil {
				return err
			}
			if d.Key != after {
				sh.buf = append(sh.buf, d)
			}
		}
	}
	return nil
}

func unmarshalDue(av map[string]types.AttributeValue) (fleet.Due, error) {
	str := func(name string) string {
		if v, ok := av[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	org, okOrg := strings.CutPrefix(str("PK"), orgPrefix)
	id, okID := strings.CutPrefix(str("SK"), providerPrefix)
	key := str(attrDueSK)
	if !okOrg || !okID || key == "" {
		return fleet.Due{}, fmt.Errorf("decode due index entry: not a provider")
	}
	return fleet.Due{Org: org, ID: id, Key: key}, nil
}

// DueCheckpoint returns where the last dispatcher run stopped ("" when it finished its pass).
func (s *Store) DueCheckpoint(ctx context.Context) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(checkpointPK, checkpointSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", unavailable("get checkpoint", err)
	}
	if v, ok := out.Item["after"].(*types.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return "", nil
}

// SetDueCheckpoint records where a dispatcher run stopped. Runs do not overlap by design
// (the dispatcher has a concurrency of one); if they did, the later write wins and the worst
// outcome is providers enqueued twice, which the worker skips.
func (s *Store) SetDueCheckpoint(ctx context.Context, after string) error {
	item := key(checkpointPK, checkpointSK)
	item["after"] = &types.AttributeValueMemberS{Value: after}
	item["updated_at"] = &types.AttributeValueMemberS{Value: formatTime(time.Now())}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return unavailable("set checkpoint", err)
	}
	return nil
}

// Load writes providers as they are, with their identifier reservations, in BatchWriteItem calls
// without conditions: for seeding an empty table (fixtures, benchmarks), never for requests,
// which need Create's uniqueness and version checks.
func (s *Store) Load(ctx context.Context, ps []*provider.Provider) error {
	var reqs []types.WriteRequest
	for _, p := range ps {
		item, err := marshalProvider(p)
		if err != nil {
			return err
		}
		ident, err := marshalIdent(p.Organization, p.Identifier, p.ID)
		if err != nil {
			return err
		}
		reqs = append(reqs,
			types.WriteRequest{PutRequest: &types.PutRequest{Item: item}},
			types.WriteRequest{PutRequest: &types.PutRequest{Item: ident}})
	}
	const batch, writers = 25, 8
	work := make(chan []types.WriteRequest)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for b := range work {
				if err := s.batchWrite(ctx, b); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for len(reqs) > 0 {
		n := min(batch, len(reqs))
		select {
		case work <- reqs[:n]:
			reqs = reqs[n:]
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	return err
}

// batchWrite writes one batch, resending what DynamoDB left unprocessed (it does so under load).
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 8 {
				return fmt.Errorf("dynamodb load: %d writes left unprocessed", len(reqs))
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(rand.Int64N(int64(10*time.Millisecond) << attempt))):
			}
		}
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: reqs},
		})
		if err != nil {
			return unavailable("load", err)
		}
		reqs = out.UnprocessedItems[s.table]
	}
	return nil
}
