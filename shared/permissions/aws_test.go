package permissions

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite infra/aws/streamtime-fleet-policy.json from AWS")

const (
	policyFile   = "../../infra/aws/streamtime-fleet-policy.json"
	templateFile = "../../infra/aws/streamtime-cross-account-role.yaml"
)

func TestAWSList(t *testing.T) {
	action := regexp.MustCompile(`^(eks|ec2|iam|autoscaling):[A-Z][A-Za-z]+$`)
	seen := map[string]bool{}
	for _, p := range append(slices.Clone(AWS), AWSValidation...) {
		if !action.MatchString(p.Name) {
			t.Errorf("%q is not an IAM action name", p.Name)
		}
		if seen[p.Name] {
			t.Errorf("%s listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.Why == "" {
			t.Errorf("%s has no Why", p.Name)
		}
	}
	for a := range AWSConditions {
		if !seen[a] {
			t.Errorf("condition for %s, which AWS does not list", a)
		}
	}
}

// policyActions returns every action a policy document allows, sorted, failing on anything but plain
// Allow statements so a hand edit cannot slip a broader grant past the comparison.
func policyActions(t *testing.T, doc IAMPolicy) []string {
	t.Helper()
	var out []string
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || s.Resource != "*" {
			t.Errorf("statement %s: want Effect Allow on Resource *, got %s on %s", s.Sid, s.Effect, s.Resource)
		}
		out = append(out, s.Action...)
	}
	slices.Sort(out)
	return out
}

func sortedNames() []string {
	n := AWSPolicyActions()
	slices.Sort(n)
	return n
}

func TestAWSPolicyFile(t *testing.T) {
	want := AWSPolicy(AWSPolicyActions())
	if *update {
		b, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(policyFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	var got IAMPolicy
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%s: %v", filepath.Base(policyFile), err)
	}
	if a, w := policyActions(t, got), sortedNames(); !slices.Equal(a, w) {
		t.Errorf("policy actions differ from permissions.AWS and AWSValidation (run go test -update):\n got %v\nwant %v", a, w)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("policy document differs from AWSPolicy(AWS) (conditions or statements; run go test -update)")
	}
}

// TestAWSRoleTemplate checks that the CloudFormation role carries exactly the policy document.
func TestAWSRoleTemplate(t *testing.T) {
	raw, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				Policies []struct {
					PolicyName     string
					PolicyDocument IAMPolicy
				}
			}
		}
	}
	if err := yaml.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("%s: %v", filepath.Base(templateFile), err)
	}
	role, ok := tpl.Resources["StreamtimeFleetRole"]
	if !ok || role.Type != "AWS::IAM::Role" || len(role.Properties.Policies) != 1 {
		t.Fatalf("template needs a StreamtimeFleetRole AWS::IAM::Role with one inline policy")
	}
	got := role.Properties.Policies[0].PolicyDocument
	if a, w := policyActions(t, got), sortedNames(); !slices.Equal(a, w) {
		t.Errorf("template policy actions differ from permissions.AWS and AWSValidation:\n got %v\nwant %v", a, w)
	}
	if want := AWSPolicy(AWSPolicyActions()); !reflect.DeepEqual(got, want) {
		t.Errorf("template policy differs from streamtime-fleet-policy.json")
	}
}

func TestAWSPolicy(t *testing.T) {
	doc := AWSPolicy([]string{"eks:CreateCluster", "iam:PassRole", "eks:DeleteCluster", "iam:GetRole"})
	var sids []string
	for _, s := range doc.Statement {
		sids = append(sids, s.Sid)
	}
	if want := []string{"EKS", "IAMPassRole", "IAM"}; !slices.Equal(sids, want) {
		t.Fatalf("statements %v, want %v", sids, want)
	}
	if got := doc.Statement[0].Action; !slices.Equal(got, []string{"eks:CreateCluster", "eks:DeleteCluster"}) {
		t.Errorf("EKS actions %v", got)
	}
	if doc.Statement[1].Condition["StringEquals"]["iam:PassedToService"][0] != "eks.amazonaws.com" {
		t.Errorf("PassRole lost its condition: %+v", doc.Statement[1])
	}
}
