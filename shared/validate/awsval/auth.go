package awsval

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate"
)

const (
	checkAuthentication = validate.CheckAuthentication
	checkExternalID     = "external id required"
)

// useKeys authenticates with a long-term access key (key mode).
func (s *session) useKeys(ctx context.Context, key, secret string) []provider.Check {
	s.identity = map[string]string{}
	s.accessKey = key
	s.addSecrets(secret)
	if key == "" || secret == "" {
		return []provider.Check{{Name: checkAuthentication, Status: provider.CheckFailed,
			Message: "the provider has no access key id or secret access key"}}
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	cfg := s.config(staticCreds(key, secret, ""))
	if c, ok := s.callerIdentity(ctx, cfg); !ok {
		return []provider.Check{c}
	}
	s.cfg = cfg
	c := provider.Check{Name: checkAuthentication, Status: provider.CheckPassed, Message: "authenticated as " + s.callerARN}
	if isRoot(s.callerARN) {
		s.warnings = append(s.warnings, "these are the account root user's access keys: AWS advises against root access keys; register an IAM user's key or a role")
	}
	return []provider.Check{c}
}

// assumeRole authenticates by assuming the customer's role with its external id (role mode) and,
// at the same time, checks that the role cannot be assumed without it.
func (s *session) assumeRole(ctx context.Context, roleARN, externalID string) []provider.Check {
	s.identity = map[string]string{"role_arn": roleARN}
	s.roleARN = roleARN
	if s.v.opts.SourceCredentials == nil {
		// The service's own setup is missing, not the customer's: error, not failed.
		return []provider.Check{{Name: checkAuthentication, Status: provider.CheckError,
			Message: "this service is not configured to assume customer roles (no source credentials)"}}
	}
	if externalID == "" {
		return []provider.Check{{Name: checkAuthentication, Status: provider.CheckError,
			Message: "the provider has no external id; re-register the role to get one"}}
	}
	var cfg aws.Config
	checks := validate.Parallel(ctx, s.v.checkTimeout(),
		func(ctx context.Context) []provider.Check {
			var c provider.Check
			cfg, c = s.assumeWithExternalID(ctx, roleARN, externalID)
			return []provider.Check{c}
		},
		func(ctx context.Context) []provider.Check {
			return []provider.Check{s.externalIDRequired(ctx, roleARN)}
		},
	)
	if checks[0].Status == provider.CheckPassed {
		s.cfg = cfg
	}
	return checks
}

func (s *session) assumeWithExternalID(ctx context.Context, roleARN, externalID string) (aws.Config, provider.Check) {
	fail := func(status provider.CheckStatus, msg string) (aws.Config, provider.Check) {
		return aws.Config{}, provider.Check{Name: checkAuthentication, Status: status, Message: msg}
	}
	cctx, cancel := s.call(ctx)
	out, err := s.sts(s.config(s.v.opts.SourceCredentials)).AssumeRole(cctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleARN),
		RoleSessionName: aws.String(SessionName),
		ExternalId:      aws.String(externalID),
		DurationSeconds: aws.Int32(900), // the shortest session AWS allows
	})
	cancel()
	if err != nil {
		e := s.explain("STS", err)
		// AWS's own text would name the service's identity; the code is enough here.
		switch e.kind {
		case kindDenied:
			return fail(provider.CheckFailed, fmt.Sprintf(
				"cannot assume %s: its trust policy must allow Streamtime's account with sts:ExternalId %q (%s)",
				roleARN, externalID, e.short()))
		case kindCredentials:
			// AWS rejected the service's own credentials, which says nothing about the customer's role.
			return fail(provider.CheckError, "this service's own AWS credentials were rejected ("+e.short()+")")
		default:
			return fail(provider.CheckError, e.msg)
		}
	}
	if out.Credentials == nil || out.Credentials.AccessKeyId == nil {
		return fail(provider.CheckError, "STS AssumeRole returned no credentials")
	}
	cr := out.Credentials
	s.addSecrets(aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	cfg := s.config(staticCreds(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)))
	cctx, cancel = s.call(ctx)
	defer cancel()
	if c, ok := s.callerIdentity(cctx, cfg); !ok {
		return aws.Config{}, c
	}
	return cfg, provider.Check{Name: checkAuthentication, Status: provider.CheckPassed,
		Message: "assumed " + roleARN + " with the external id as " + s.callerARN}
}

// externalIDRequired tries AssumeRole without the external id: a role that allows it can be
// pointed at by any Streamtime customer who learns its ARN (the confused deputy problem).
func (s *session) externalIDRequired(ctx context.Context, roleARN string) provider.Check {
	c := provider.Check{Name: checkExternalID}
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.sts(s.config(s.v.opts.SourceCredentials)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleARN),
		RoleSessionName: aws.String(SessionName),
		DurationSeconds: aws.Int32(900),
	})
	if err == nil {
		c.Status = provider.CheckFailed
		c.Message = "the role can be assumed without the external id: its trust policy must require sts:ExternalId"
		return c
	}
	switch e := s.explain("STS", err); e.kind {
	case kindDenied:
		c.Status = provider.CheckPassed
		c.Message = "AssumeRole without the external id is refused"
	case kindCredentials:
		c.Status = provider.CheckError
		c.Message = "this service's own AWS credentials were rejected (" + e.short() + ")"
	default:
		c.Status = provider.CheckError
		c.Message = e.msg
	}
	return c
}

// callerIdentity asks STS who cfg's credentials belong to and records the answer. It returns the
// failing authentication check and false when they do not authenticate.
func (s *session) callerIdentity(ctx context.Context, cfg aws.Config) (provider.Check, bool) {
	out, err := s.sts(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		c := provider.Check{Name: checkAuthentication}
		switch e := s.explain("STS", err); e.kind {
		case kindCredentials, kindDenied:
			c.Status, c.Message = provider.CheckFailed, "AWS rejected the credentials: "+e.msg
		default:
			c.Status, c.Message = provider.CheckError, e.msg
		}
		return c, false
	}
	s.callerARN = aws.ToString(out.Arn)
	s.identity["account"] = aws.ToString(out.Account)
	s.identity["arn"] = s.callerARN
	s.identity["user_id"] = aws.ToString(out.UserId)
	return provider.Check{}, true
}
