// Package smsecrets keeps provider secrets in AWS Secrets Manager: one secret per provider, named
// <prefix>/<org>/<provider-id>, whose value is a JSON object of the secret configuration fields.
// Versions of the fleet.SecretStore are Secrets Manager version ids: every write passes the
// version as ClientRequestToken, so retrying a write is idempotent, and AWSCURRENT marks the
// current version.
//
// Deleted secrets wait out a recovery window (configurable) before they are gone, and their name
// stays taken meanwhile. That never blocks the service: a provider id is never reused, and
// re-creating a provider (same identifier) gives it a new id, so a new name.
package smsecrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/streamtime/fleet-providers/shared/awserr"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Tags every secret carries. List only takes secrets tagged managed-by=ManagedBy as the service's,
// so Repair can never delete a secret someone else put under the prefix.
const (
	TagOrganization = "organization"
	TagProviderID   = "provider-id"
	TagManagedBy    = "managed-by"
	ManagedBy       = "streamtime-fleet-providers"
)

const currentStage = "AWSCURRENT"

// Options configure a Store.
type Options struct {
	// Prefix starts every secret name (e.g. "streamtime/fleet-providers"); required.
	Prefix string
	// KMSKeyID is a customer-managed KMS key (id, ARN or alias) to encrypt new secrets with;
	// empty uses the account's aws/secretsmanager key.
	KMSKeyID string
	// RecoveryWindowDays is how long a deleted secret can be restored: 7 to 30 days, or 0 to
	// delete at once without recovery (tests and development only).
	RecoveryWindowDays int
}

// Store is a fleet.SecretStore on Secrets Manager.
type Store struct {
	sm   *secretsmanager.Client
	opts Options
}

var _ fleet.SecretStore = (*Store)(nil)

// New returns a Store using client (built once per process).
func New(client *secretsmanager.Client, opts Options) (*Store, error) {
	opts.Prefix = strings.TrimSuffix(opts.Prefix, "/")
	if opts.Prefix == "" || strings.ContainsFunc(opts.Prefix, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+=.@-", r))
	}) {
		return nil, fmt.Errorf("smsecrets: prefix %q must be non-empty letters, digits and /_+=.@-", opts.Prefix)
	}
	if w := opts.RecoveryWindowDays; w != 0 && (w < 7 || w > 30) {
		return nil, fmt.Errorf("smsecrets: recovery window %d days: must be 0 or 7 to 30", w)
	}
	return &Store{sm: client, opts: opts}, nil
}

func (s *Store) name(ref fleet.SecretRef) string {
	return s.opts.Prefix + "/" + ref.Org + "/" + ref.ProviderID
}

// parseName returns the ref a secret name stands for, if it is one of ours.
func (s *Store) parseName(name string) (fleet.SecretRef, bool) {
	rest, ok := strings.CutPrefix(name, s.opts.Prefix+"/")
	if !ok {
		return fleet.SecretRef{}, false
	}
	org, id, ok := strings.Cut(rest, "/")
	if !ok || org == "" || id == "" || strings.Contains(id, "/") {
		return fleet.SecretRef{}, false
	}
	return fleet.SecretRef{Org: org, ProviderID: id}, true
}

// Put stores data as version and makes it current.
//
// It tries CreateSecret first: a provider's first version is written by every create, a later
// one only by a credential rotation, so the common case is one call. When the secret exists
// (ResourceExists), PutSecretValue adds the version; with the version as ClientRequestToken,
// repeating it with the same data does nothing, which makes retries safe. (PutSecretValue first
// would cost every create two calls: ResourceNotFound, then CreateSecret.)
func (s *Store) Put(ctx context.Context, ref fleet.SecretRef, version string, data map[string]string) error {
	value, _ := json.Marshal(data) // a map of strings always encodes
	name := s.name(ref)
	in := &secretsmanager.CreateSecretInput{
		Name:               aws.String(name),
		ClientRequestToken: aws.String(version),
		SecretString:       aws.String(string(value)),
		Description:        aws.String("Fleet provider credentials (" + ref.Org + "/" + ref.ProviderID + ")"),
		Tags: []types.Tag{
			{Key: aws.String(TagOrganization), Value: aws.String(ref.Org)},
			{Key: aws.String(TagProviderID), Value: aws.String(ref.ProviderID)},
			{Key: aws.String(TagManagedBy), Value: aws.String(ManagedBy)},
		},
	}
	if s.opts.KMSKeyID != "" {
		in.KmsKeyId = aws.String(s.opts.KMSKeyID)
	}
	_, err := s.sm.CreateSecret(ctx, in)
	var exists *types.ResourceExistsException
	if !errors.As(err, &exists) {
		return s.mapErr(ctx, "create", ref, err)
	}
	_, err = s.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(name),
		ClientRequestToken: aws.String(version),
		SecretString:       aws.String(string(value)),
	})
	if errors.As(err, &exists) {
		// The version exists with other data: a version is written once, so this is a bug.
		return fmt.Errorf("secretsmanager put %s: version %s exists with different data", name, version)
	}
	return s.mapErr(ctx, "put", ref, err)
}

// Get returns the data of one version. A secret scheduled for deletion is not found.
func (s *Store) Get(ctx context.Context, ref fleet.SecretRef, version string) (map[string]string, error) {
	out, err := s.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:  aws.String(s.name(ref)),
		VersionId: aws.String(version),
	})
	if err != nil {
		return nil, s.mapErr(ctx, "get", ref, err)
	}
	var data map[string]string
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &data) != nil {
		// Never echo the value: it is the secret.
		return nil, fmt.Errorf("secretsmanager get %s: value is not a JSON object of strings", s.name(ref))
	}
	return data, nil
}

// Delete schedules the secret's deletion after the recovery window (or deletes it at once).
// An absent secret, or one already scheduled for deletion, is not an error.
func (s *Store) Delete(ctx context.Context, ref fleet.SecretRef) error {
	in := &secretsmanager.DeleteSecretInput{SecretId: aws.String(s.name(ref))}
	if s.opts.RecoveryWindowDays == 0 {
		in.ForceDeleteWithoutRecovery = aws.Bool(true)
	} else {
		in.RecoveryWindowInDays = aws.Int64(int64(s.opts.RecoveryWindowDays))
	}
	_, err := s.sm.DeleteSecret(ctx, in)
	if err = s.mapErr(ctx, "delete", ref, err); errors.Is(err, provider.ErrNotFound) {
		return nil
	}
	return err
}

// SetCurrent moves AWSCURRENT to version (Secrets Manager moves AWSPREVIOUS along). It reads the
// secret's stages first: the move must name the version that holds AWSCURRENT now.
func (s *Store) SetCurrent(ctx context.Context, ref fleet.SecretRef, version string) error {
	desc, err := s.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.name(ref))})
	if err != nil {
		return s.mapErr(ctx, "describe", ref, err)
	}
	if desc.DeletedDate != nil {
		return fmt.Errorf("secretsmanager set current %s: secret is scheduled for deletion: %w", s.name(ref), provider.ErrNotFound)
	}
	stages, ok := desc.VersionIdsToStages[version]
	if !ok {
		return fmt.Errorf("secretsmanager set current %s: no version %s: %w", s.name(ref), version, provider.ErrNotFound)
	}
	if hasStage(stages, currentStage) {
		return nil
	}
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:        aws.String(s.name(ref)),
		VersionStage:    aws.String(currentStage),
		MoveToVersionId: aws.String(version),
	}
	if cur := currentVersion(desc.VersionIdsToStages); cur != "" {
		in.RemoveFromVersionId = aws.String(cur)
	}
	_, err = s.sm.UpdateSecretVersionStage(ctx, in)
	return s.mapErr(ctx, "set current", ref, err)
}

// List calls fn for each of the service's secrets (not those scheduled for deletion), with the
// current version and timestamps that ListSecrets returns: one call per 100 secrets.
func (s *Store) List(ctx context.Context, fn func(fleet.SecretInfo) error) error {
	pages := secretsmanager.NewListSecretsPaginator(s.sm, &secretsmanager.ListSecretsInput{
		// The name filter matches by prefix; parseName and the tag check below are the exact test.
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{s.opts.Prefix + "/"}}},
		MaxResults: aws.Int32(100),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.mapErr(ctx, "list", fleet.SecretRef{}, err)
		}
		for _, e := range page.SecretList {
			ref, ok := s.parseName(aws.ToString(e.Name))
			if !ok || e.DeletedDate != nil || !managed(e.Tags) {
				continue
			}
			info := fleet.SecretInfo{
				Ref:            ref,
				CurrentVersion: currentVersion(e.SecretVersionsToStages),
				CreatedAt:      aws.ToTime(e.CreatedDate).UTC(),
				UpdatedAt:      aws.ToTime(e.LastChangedDate).UTC(),
			}
			if e.LastChangedDate == nil || info.UpdatedAt.Before(info.CreatedAt) {
				info.UpdatedAt = info.CreatedAt
			}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

func managed(tags []types.Tag) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == TagManagedBy && aws.ToString(t.Value) == ManagedBy {
			return true
		}
	}
	return false
}

func hasStage(stages []string, stage string) bool {
	for _, s := range stages {
		if s == stage {
			return true
		}
	}
	return false
}

func currentVersion(versions map[string][]string) string {
	for v, stages := range versions {
		if hasStage(stages, currentStage) {
			return v
		}
	}
	return ""
}

// mapErr maps a Secrets Manager error to the domain: a missing secret or version, or one scheduled
// for deletion, is ErrNotFound; throttling, 5xx and an unreachable endpoint are a retryable
// *provider.UnavailableError. Other errors are wrapped with the operation and secret name. AWS
// errors never carry the secret value, and nothing here adds it.
func (s *Store) mapErr(ctx context.Context, op string, ref fleet.SecretRef, err error) error {
	if err == nil {
		return nil
	}
	cause := fmt.Errorf("secretsmanager %s %s: %w", op, s.name(ref), err)
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return fmt.Errorf("secretsmanager %s %s: %w", op, s.name(ref), provider.ErrNotFound)
	}
	var invalid *types.InvalidRequestException
	if errors.As(err, &invalid) && ref != (fleet.SecretRef{}) && s.scheduledForDeletion(ctx, ref) {
		return fmt.Errorf("secretsmanager %s %s: scheduled for deletion: %w", op, s.name(ref), provider.ErrNotFound)
	}
	if u := awserr.Unavailable(err, cause); u != nil {
		return u
	}
	return cause
}

// scheduledForDeletion tells an InvalidRequestException caused by a pending deletion (the only
// one our calls can meet in practice) from others, without matching AWS's message text.
func (s *Store) scheduledForDeletion(ctx context.Context, ref fleet.SecretRef) bool {
	desc, err := s.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.name(ref))})
	return err == nil && desc.DeletedDate != nil
}
