package gcpval

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/streamtime/fleet-providers/shared/permissions"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// The same shapes provider.gcpSchema accepts; checked again because they end up in URLs and in the
// remediation's shell commands.
var (
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	emailRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*@[a-z0-9.-]+\.[a-z]{2,}$`)
)

// saKey is the part of a service account key the validator reads.
type saKey struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
}

// parseKey checks that raw is a usable service account key and returns it, with its token_uri
// replaced by tokenURL, as the JSON to give the SDK. The key's own token_uri is never used: it is
// where the SDK would send the signed assertion. Errors are shown to users and never quote the key.
func parseKey(raw, tokenURL string) (saKey, []byte, error) {
	var k saKey
	if strings.TrimSpace(raw) == "" {
		return k, nil, errors.New("no service account key is stored for this provider")
	}
	var all map[string]any
	if err := json.Unmarshal([]byte(raw), &all); err != nil || all == nil {
		return k, nil, errors.New("the stored service account key is not a JSON object")
	}
	if err := json.Unmarshal([]byte(raw), &k); err != nil {
		return k, nil, errors.New("the stored service account key has fields of the wrong type")
	}
	if k.Type != "service_account" {
		return k, nil, fmt.Errorf("the key is of type %.40q; only service_account keys are accepted", k.Type)
	}
	for name, v := range map[string]string{"client_email": k.ClientEmail, "private_key_id": k.PrivateKeyID, "private_key": k.PrivateKey} {
		if v == "" {
			return k, nil, fmt.Errorf("the service account key has no %s", name)
		}
	}
	if !usableRSAKey(k.PrivateKey) {
		return k, nil, errors.New("the service account key's private_key is not an unencrypted RSA private key in PEM form")
	}
	all["token_uri"] = tokenURL
	b, err := json.Marshal(all)
	if err != nil {
		return k, nil, errors.New("the service account key could not be re-encoded")
	}
	return k, b, nil
}

func usableRSAKey(s string) bool {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return false
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		_, ok := k.(*rsa.PrivateKey)
		return ok
	}
	_, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	return err == nil
}

// projectOf is the project to validate: the configured one, else the key's own.
func projectOf(p *provider.Provider, k saKey) string {
	if p != nil {
		if s, ok := p.Config["project_id"].(string); ok && s != "" {
			return s
		}
	}
	return k.ProjectID
}

func (k saKey) identity(project string) map[string]string {
	id := map[string]string{}
	for name, v := range map[string]string{"client_email": k.ClientEmail, "project_id": project, "private_key_id": k.PrivateKeyID} {
		if v != "" {
			id[name] = v
		}
	}
	return id
}

// remediation is the gcloud commands that add the missing permissions to the Streamtime role
// (infra/gcp) and bind it to the service account; empty when nothing is missing.
func remediation(project, email string, missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	if !projectRE.MatchString(project) {
		project = "PROJECT_ID"
	}
	if !emailRE.MatchString(email) {
		email = "SERVICE_ACCOUNT_EMAIL"
	}
	return fmt.Sprintf(`# Add the missing permissions to the Streamtime custom role:
gcloud iam roles update %[1]s --project=%[2]s \
  --add-permissions=%[3]s
# (If the role does not exist yet, create it from Streamtime's streamtime-fleet-role.yaml:
#  gcloud iam roles create %[1]s --project=%[2]s --file=streamtime-fleet-role.yaml)
# Grant the role to the service account on the project, if it does not hold it yet:
gcloud projects add-iam-policy-binding %[2]s \
  --member=serviceAccount:%[4]s \
  --role=projects/%[2]s/roles/%[1]s
`, permissions.GCPRoleID, project, strings.Join(missing, ","), email)
}
