package awsval

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validate"
)

// maxBatch caps the actions of one SimulatePrincipalPolicy call, which keeps each answer on one page.
const maxBatch = 25

// permissionChecks simulates every permission in permissions.AWS for the caller's principal.
func (s *session) permissionChecks(ctx context.Context) []provider.Check {
	checks := make([]provider.Check, len(permissions.AWS))
	for i, p := range permissions.AWS {
		checks[i] = provider.Check{Name: validate.PermissionCheck(p.Name), Permission: p.Name}
	}
	source, err := principalARN(s.callerARN, s.roleARN)
	if err != nil {
		for i := range checks {
			checks[i].Status, checks[i].Message = provider.CheckUnknown, "cannot simulate policies: "+err.Error()
		}
		return checks
	}
	results, failures := s.simulate(ctx, source)
	for i, p := range permissions.AWS {
		if r, ok := results[p.Name]; ok {
			checks[i].Status, checks[i].Message = decide(r, p.Why)
		} else if err := failures[p.Name]; err != nil {
			checks[i].Status, checks[i].Message = s.simulationFailure(source, err)
		} else {
			checks[i].Status, checks[i].Message = provider.CheckUnknown, "the policy simulation returned no result for it"
		}
	}
	return checks
}

// simulate runs SimulatePrincipalPolicy in concurrent batches, one service per batch so each gets
// the context its conditions need. It returns results by action, and the error of each action
// whose batch failed.
func (s *session) simulate(ctx context.Context, source string) (map[string]iamtypes.EvaluationResult, map[string]error) {
	var batches [][]string
	byService := map[string]int{}
	for _, p := range permissions.AWS {
		service, _, _ := strings.Cut(p.Name, ":")
		i, ok := byService[service]
		if !ok || len(batches[i]) == maxBatch {
			i = len(batches)
			byService[service] = i
			batches = append(batches, nil)
		}
		batches[i] = append(batches[i], p.Name)
	}

	client := s.iam()
	var mu sync.Mutex
	results := map[string]iamtypes.EvaluationResult{}
	failures := map[string]error{}
	var wg sync.WaitGroup
	for _, actions := range batches {
		wg.Go(func() {
			service, _, _ := strings.Cut(actions[0], ":")
			pages := iam.NewSimulatePrincipalPolicyPaginator(client, &iam.SimulatePrincipalPolicyInput{
				PolicySourceArn: aws.String(source),
				ActionNames:     actions,
				ContextEntries:  simulationContext(service, s.region),
			})
			for pages.HasMorePages() {
				cctx, cancel := s.call(ctx)
				out, err := pages.NextPage(cctx)
				cancel()
				mu.Lock()
				if err != nil {
					for _, a := range actions {
						if _, ok := results[a]; !ok {
							failures[a] = err
						}
					}
					mu.Unlock()
					return
				}
				for _, r := range out.EvaluationResults {
					results[aws.ToString(r.EvalActionName)] = r
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return results, failures
}

// simulationContext supplies the condition keys the customer-facing policy uses, with the values
// Streamtime's real calls carry; a key left out would make the simulation deny the action.
func simulationContext(service, region string) []iamtypes.ContextEntry {
	entry := func(k, v string) iamtypes.ContextEntry {
		return iamtypes.ContextEntry{ContextKeyName: aws.String(k), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{v}}
	}
	var out []iamtypes.ContextEntry
	if service != "iam" { // IAM is global: its calls carry no customer region
		out = append(out, entry("aws:RequestedRegion", region))
	}
	values := map[string]string{}
	for _, ops := range permissions.AWSConditions {
		for _, keys := range ops {
			for k, vs := range keys {
				values[k] = vs[0]
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		out = append(out, entry(k, values[k]))
	}
	return out
}

func decide(r iamtypes.EvaluationResult, why string) (provider.CheckStatus, string) {
	need := "; needed to " + why
	var by string
	switch {
	case r.OrganizationsDecisionDetail != nil && !r.OrganizationsDecisionDetail.AllowedByOrganizations:
		by = " by the organization's service control policies"
	case r.PermissionsBoundaryDecisionDetail != nil && !r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary:
		by = " by the permissions boundary"
	}
	switch r.EvalDecision {
	case iamtypes.PolicyEvaluationDecisionTypeAllowed:
		return provider.CheckPassed, "allowed"
	case iamtypes.PolicyEvaluationDecisionTypeExplicitDeny:
		if by == "" {
			by = " by a policy"
		}
		return provider.CheckFailed, "explicitly denied" + by + need
	case iamtypes.PolicyEvaluationDecisionTypeImplicitDeny:
		if len(r.MissingContextValues) > 0 && by == "" {
			return provider.CheckUnknown, "allowed only under conditions the simulation cannot evaluate (" +
				strings.Join(r.MissingContextValues, ", ") + ")"
		}
		if by == "" {
			return provider.CheckFailed, "not allowed by any policy" + need
		}
		return provider.CheckFailed, "not allowed" + by + need
	default:
		return provider.CheckUnknown, fmt.Sprintf("unexpected simulation decision %q", r.EvalDecision)
	}
}

// simulationFailure is the status of every permission whose simulation failed: unknown when the
// simulation itself cannot run (the probes still decide what they can), error when IAM was not reachable.
func (s *session) simulationFailure(source string, err error) (provider.CheckStatus, string) {
	e := s.explain("IAM", err)
	switch {
	case e.kind == kindUnreachable:
		return provider.CheckError, e.msg
	case e.kind == kindDenied || e.kind == kindCredentials:
		return provider.CheckUnknown, "cannot simulate policies: iam:SimulatePrincipalPolicy was refused (" + e.msg +
			"); grant it so Streamtime can verify every permission"
	case e.code == "NoSuchEntity":
		return provider.CheckUnknown, "cannot simulate policies: IAM does not know " + source +
			" (a role with a path cannot be derived from its session ARN)"
	default:
		return provider.CheckUnknown, "cannot simulate policies: " + e.msg
	}
}

const (
	probeEKS = "probe:eks:ListClusters"
	probeEC2 = "probe:ec2:DescribeVpcs"
)

// probeEKS lists at most one cluster: allowed, side-effect free, and through EKS's own
// authorization rather than a simulation.
func (s *session) probeEKS(ctx context.Context) []provider.Check {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.eks().ListClusters(ctx, &eks.ListClustersInput{MaxResults: aws.Int32(1)})
	return []provider.Check{s.probe(probeEKS, "eks:ListClusters", "ListClusters", "EKS", err)}
}

// probeEC2 asks EC2 whether DescribeVpcs would be allowed without running it (DryRun).
func (s *session) probeEC2(ctx context.Context) []provider.Check {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.ec2().DescribeVpcs(ctx, &ec2.DescribeVpcsInput{DryRun: aws.Bool(true)})
	if e := s.explain("EC2", err); err != nil && e.code == "DryRunOperation" {
		err = nil
	}
	return []provider.Check{s.probe(probeEC2, "ec2:DescribeVpcs", "DescribeVpcs (dry run)", "EC2", err)}
}

func (s *session) probe(name, permission, op, service string, err error) provider.Check {
	c := provider.Check{Name: name, Permission: permission}
	if err == nil {
		c.Status, c.Message = provider.CheckPassed, op+" is allowed in "+s.region
		return c
	}
	switch e := s.explain(service, err); e.kind {
	case kindDenied, kindCredentials:
		c.Status, c.Message = provider.CheckFailed, op+" was refused in "+s.region+": "+e.msg
	case kindUnreachable:
		c.Status, c.Message = provider.CheckError, e.msg
	default:
		c.Status, c.Message = provider.CheckUnknown, e.msg
	}
	return c
}

// foldProbes lets a probe's definite answer stand for the permission it exercised when the
// simulation could not decide it.
func foldProbes(checks []provider.Check) {
	perm := map[string]int{}
	for i, c := range checks {
		if validate.IsPermissionCheck(c.Name) {
			perm[c.Permission] = i
		}
	}
	for _, c := range checks {
		i, ok := perm[c.Permission]
		if !validate.IsProbeCheck(c.Name) || !ok {
			continue
		}
		p := &checks[i]
		if (p.Status == provider.CheckUnknown || p.Status == provider.CheckError) &&
			(c.Status == provider.CheckPassed || c.Status == provider.CheckFailed) {
			p.Message = fmt.Sprintf("%s; decided by %s: %s", p.Message, c.Name, c.Message)
			p.Status = c.Status
		}
	}
}

// keyAge warns about an old access key (key mode). It needs iam:ListAccessKeys, which the policy
// does not grant, so any failure skips the warning silently.
func (s *session) keyAge(ctx context.Context) []provider.Check {
	user, ok := userName(s.callerARN)
	if s.accessKey == "" || !ok {
		return nil
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	out, err := s.iam().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil
	}
	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) != s.accessKey || k.CreateDate == nil {
			continue
		}
		if age := s.v.opts.Now().Sub(*k.CreateDate); age > s.v.opts.MaxKeyAge {
			s.warnings = append(s.warnings, fmt.Sprintf(
				"access key %s is %d days old; rotate it (AWS recommends at least every %d days)",
				s.accessKey, int(age.Hours()/24), int(s.v.opts.MaxKeyAge.Hours()/24)))
		}
	}
	return nil
}

// principalARN is the PolicySourceArn that SimulatePrincipalPolicy accepts for a caller: a user's
// ARN as is; for an assumed-role session, its role's ARN. A session ARN
// (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION) drops the role's path, and reading it back
// needs iam:GetRole on the role, so the configured role ARN (which has the path) is used when it
// names the same role; otherwise the derived ARN assumes the path "/".
func principalARN(caller, configuredRole string) (string, error) {
	a, err := arn.Parse(caller)
	if err != nil {
		return "", fmt.Errorf("unexpected caller ARN %q", caller)
	}
	switch {
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		return caller, nil
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		parts := strings.Split(a.Resource, "/")
		if len(parts) != 3 || parts[1] == "" {
			return "", fmt.Errorf("unexpected assumed-role ARN %q", caller)
		}
		name := parts[1]
		if r, err := arn.Parse(configuredRole); err == nil && r.Service == "iam" &&
			r.Partition == a.Partition && r.AccountID == a.AccountID && lastSegment(r.Resource) == name {
			return configuredRole, nil
		}
		return arn.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "role/" + name}.String(), nil
	case a.Service == "iam" && a.Resource == "root":
		return "", errors.New("the root user's policies cannot be simulated; register an IAM user or a role")
	default:
		return "", fmt.Errorf("policies of %q cannot be simulated", a.Resource)
	}
}

func userName(callerARN string) (string, bool) {
	a, err := arn.Parse(callerARN)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "user/") {
		return "", false
	}
	return lastSegment(a.Resource), true
}

func isRoot(callerARN string) bool {
	a, err := arn.Parse(callerARN)
	return err == nil && a.Service == "iam" && a.Resource == "root"
}

func lastSegment(resource string) string {
	return resource[strings.LastIndex(resource, "/")+1:]
}
