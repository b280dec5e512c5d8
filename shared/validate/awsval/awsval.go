// Package awsval validates AWS fleet providers: the customer's credentials authenticate (access
// keys, or a cross-account role assumed with the provider's external id) and the identity holds
// every permission in permissions.AWS.
//
// Everything runs on an aws.Config built from the customer's credentials alone: the SDK's default
// config chain would read the service's own environment, files and instance identity.
package awsval

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate"
)

// SessionName is the RoleSessionName of validation's AssumeRole calls; it shows in the customer's
// CloudTrail.
const SessionName = "streamtime-validate"

// Endpoints overrides the AWS endpoint of a service when set (tests, partitions the SDK does not
// know). They come from the service's configuration, never from a provider's input.
type Endpoints struct {
	STS, IAM, EKS, EC2 string
}

// Options configures a Validator. The zero value works in key mode against AWS itself.
type Options struct {
	// Region is used when a provider names none. Default provider.DefaultAWSRegion.
	Region    string
	Endpoints Endpoints
	// HTTPClient carries every AWS call; nil means the SDK's default client.
	HTTPClient aws.HTTPClient
	// PerCallTimeout bounds each AWS call, its retries included. Default 8s.
	PerCallTimeout time.Duration
	// RetryMaxAttempts is the number of attempts per call, first one included. Default 2: one
	// quick retry for a dropped connection, never a backoff that outlives the deadlines.
	RetryMaxAttempts int
	// SourceCredentials are the service's own credentials, used only to call sts:AssumeRole on
	// a customer's role (role mode). Without them role-mode providers validate as error.
	SourceCredentials aws.CredentialsProvider
	// MaxKeyAge is the access key age after which a warning suggests rotation. Default 90 days.
	MaxKeyAge time.Duration
	// Now is the clock for key age. Default time.Now.
	Now func() time.Time
}

// Validator validates AWS providers. It is safe for concurrent use.
type Validator struct {
	opts Options
}

// New returns a Validator with opts' zero fields set to their defaults.
func New(opts Options) *Validator {
	if opts.Region == "" {
		opts.Region = provider.DefaultAWSRegion
	}
	if opts.PerCallTimeout <= 0 {
		opts.PerCallTimeout = 8 * time.Second
	}
	if opts.RetryMaxAttempts <= 0 {
		opts.RetryMaxAttempts = 2
	}
	if opts.MaxKeyAge <= 0 {
		opts.MaxKeyAge = 90 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Validator{opts: opts}
}

// Validate runs the checks and returns the report; it never outlives ctx.
func (v *Validator) Validate(ctx context.Context, p *provider.Provider, secret map[string]string) provider.Report {
	start := time.Now()
	s := &session{v: v, region: p.ConfigString("region")}
	if s.region == "" {
		s.region = v.opts.Region
	}
	report := provider.Report{CheckedAt: start.UTC()}

	if roleARN := p.ConfigString("role_arn"); roleARN != "" {
		report.Checks = s.assumeRole(ctx, roleARN, p.ConfigString("external_id"))
	} else {
		report.Checks = s.useKeys(ctx, p.ConfigString("aws_access_key"), secret["aws_access_secret"])
	}
	report.Identity = s.identity
	if s.cfg.Credentials == nil {
		report.Checks = append(report.Checks, validate.NotChecked(permissions.Names(permissions.AWS), "not checked: authentication did not pass")...)
		validate.Finish(&report, start)
		return report
	}

	report.Checks = append(report.Checks, validate.Parallel(ctx, v.checkTimeout(),
		s.permissionChecks,
		s.probeEKS,
		s.probeEC2,
		s.keyAge,
	)...)
	foldProbes(report.Checks)
	report.Warnings = s.warnings
	report.MissingPermissions = validate.Missing(report.Checks)
	if len(report.MissingPermissions) > 0 {
		b, _ := json.MarshalIndent(permissions.AWSPolicy(report.MissingPermissions), "", "  ")
		report.Remediation = string(b)
	}
	validate.Finish(&report, start)
	return report
}

// checkTimeout bounds one check function: at most two calls in a row (AssumeRole then
// GetCallerIdentity), each under its own PerCallTimeout.
func (v *Validator) checkTimeout() time.Duration { return 2 * v.opts.PerCallTimeout }

// session is one validation: the customer's config once authenticated and what was learnt.
type session struct {
	v      *Validator
	region string
	// cfg carries the customer's credentials; cfg.Credentials is nil until authentication passed.
	cfg       aws.Config
	identity  map[string]string
	callerARN string
	roleARN   string // role mode
	accessKey string // key mode
	warnings  []string

	mu sync.Mutex
	// secrets are values no message may contain.
	secrets []string
}

func (s *session) config(creds aws.CredentialsProvider) aws.Config {
	o := s.v.opts
	return aws.Config{
		Region:      s.region,
		Credentials: creds,
		HTTPClient:  o.HTTPClient,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.RetryMaxAttempts
				so.MaxBackoff = 300 * time.Millisecond
				// The default token bucket is shared per client and only matters for long-lived ones.
				so.RateLimiter = ratelimit.None
			})
		},
	}
}

func staticCreds(id, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, secret, token)
}

func endpoint(url string) *string {
	if url == "" {
		return nil
	}
	return aws.String(url)
}

func (s *session) sts(cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpoint(s.v.opts.Endpoints.STS) })
}

func (s *session) iam() *iam.Client {
	return iam.NewFromConfig(s.cfg, func(o *iam.Options) { o.BaseEndpoint = endpoint(s.v.opts.Endpoints.IAM) })
}

func (s *session) eks() *eks.Client {
	return eks.NewFromConfig(s.cfg, func(o *eks.Options) { o.BaseEndpoint = endpoint(s.v.opts.Endpoints.EKS) })
}

func (s *session) ec2() *ec2.Client {
	return ec2.NewFromConfig(s.cfg, func(o *ec2.Options) { o.BaseEndpoint = endpoint(s.v.opts.Endpoints.EC2) })
}

// call bounds one AWS call (its retries included) by PerCallTimeout.
func (s *session) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.v.opts.PerCallTimeout)
}

func (s *session) addSecrets(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = append(s.secrets, secrets...)
}

// redact removes the session's secret values from a message that quotes AWS or the network.
func (s *session) redact(msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range s.secrets {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, "[redacted]")
		}
	}
	return msg
}
