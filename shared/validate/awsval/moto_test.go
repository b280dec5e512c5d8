package awsval

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/testenv"
)

// One moto server for the package, in IAM-enforcing mode: the setup below runs while moto still
// accepts unsigned calls, then /moto-api/reset-auth turns enforcement on for every later call
// (so the setup needs no exact call count).
var moto *motoEnv

const (
	motoAccount = "123456789012"
	externalID  = "st-00112233445566778899aabbccddeeff"
)

type accessKey struct{ id, secret string }

type motoEnv struct {
	endpoint string
	users    map[string]accessKey // by user name
}

func TestMain(m *testing.M) {
	srv, err := testenv.StartMoto("INITIAL_NO_AUTH_ACTION_COUNT=100000")
	if err != nil {
		fmt.Fprintln(os.Stderr, "moto emulator:", err)
		os.Exit(1)
	}
	moto, err = setupMoto(srv.Endpoint)
	if err != nil {
		srv.Stop()
		fmt.Fprintln(os.Stderr, "moto setup:", err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

func policyWithout(missing ...string) string {
	var actions []string
	for _, n := range permissions.Names(permissions.AWS) {
		if !slices.Contains(missing, n) {
			actions = append(actions, n)
		}
	}
	b, _ := json.Marshal(permissions.AWSPolicy(actions))
	return string(b)
}

// trustPolicy trusts the streamtime-service user by its exact ARN: moto matches principals as
// strings, so an account root principal would not cover the user.
func trustPolicy(withExternalID bool) string {
	cond := ""
	if withExternalID {
		cond = fmt.Sprintf(`,"Condition":{"StringEquals":{"sts:ExternalId":%q}}`, externalID)
	}
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Principal":{"AWS":"arn:aws:iam::%s:user/streamtime-service"},"Action":"sts:AssumeRole"%s}]}`, motoAccount, cond)
}

func setupMoto(endpoint string) (*motoEnv, error) {
	ctx := context.Background()
	fleetPolicy, err := os.ReadFile("../../../infra/aws/streamtime-fleet-policy.json")
	if err != nil {
		return nil, err
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: staticCreds("AKIAIOSFODNN7EXAMPLE", "setup-phase-is-not-checked", "")}
	client := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) })
	env := &motoEnv{endpoint: endpoint, users: map[string]accessKey{}}

	users := map[string]string{
		"fleet-full":      string(fleetPolicy),
		"fleet-no-create": policyWithout("eks:CreateCluster"),
		"fleet-no-vpcs":   policyWithout("ec2:DescribeVpcs"),
		// Streamtime's own identity in role mode: it may only assume roles.
		"streamtime-service": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`,
	}
	for name, policy := range users {
		if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			return nil, err
		}
		if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name),
			PolicyName: aws.String("fleet"), PolicyDocument: aws.String(policy)}); err != nil {
			return nil, err
		}
		out, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			return nil, err
		}
		env.users[name] = accessKey{aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)}
	}
	roles := []struct {
		name, path     string
		withExternalID bool
	}{
		{"streamtime-fleet", "/", true},
		{"streamtime-open", "/", false},
		{"streamtime-pathed", "/customers/", true},
	}
	for _, r := range roles {
		if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.name), Path: aws.String(r.path),
			AssumeRolePolicyDocument: aws.String(trustPolicy(r.withExternalID))}); err != nil {
			return nil, err
		}
		if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(r.name),
			PolicyName: aws.String("fleet"), PolicyDocument: aws.String(string(fleetPolicy))}); err != nil {
			return nil, err
		}
	}
	resp, err := http.Post(endpoint+"/moto-api/reset-auth", "text/plain", strings.NewReader("0"))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reset-auth: %s", resp.Status)
	}
	return env, nil
}

func roleARN(name string) string {
	if name == "streamtime-pathed" {
		return "arn:aws:iam::" + motoAccount + ":role/customers/" + name
	}
	return "arn:aws:iam::" + motoAccount + ":role/" + name
}

// assumedSession is an STS session moto handed out.
type assumedSession struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
	ExternalID      string `json:"external_id"`
	RoleARN         string `json:"role_arn"`
	SessionName     string `json:"session_name"`
}

// sessions reads the sessions moto issued from its model dump, so tests can see what AssumeRole
// received and the IAM fake can check signatures made with temporary credentials.
func (m *motoEnv) sessions(t testing.TB) []assumedSession {
	t.Helper()
	resp, err := http.Get(m.endpoint + "/moto-api/data.json")
	if err != nil {
		t.Fatalf("moto data: %v", err)
	}
	defer resp.Body.Close()
	var data struct {
		STS struct {
			AssumedRole []assumedSession
		} `json:"sts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatalf("moto data: %v", err)
	}
	return data.STS.AssumedRole
}
