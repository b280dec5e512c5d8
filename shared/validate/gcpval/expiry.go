package gcpval

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// expiryWarning is how long before a key expires the report starts warning.
const expiryWarning = 30 * 24 * time.Hour

// expiryWarnings reads when the key expires from the public certificate Google publishes for each
// key of a service account (its validity is the key's; keys without an expiry run to year 9999).
// One unauthenticated GET, run alongside the other checks; any failure just means no warning.
func (v *Validator) expiryWarnings(ctx context.Context, k saKey) []string {
	ctx, cancel := context.WithTimeout(ctx, v.opts.PerCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.opts.CertsEndpoint+url.PathEscape(k.ClientEmail), nil)
	if err != nil {
		return nil
	}
	resp, err := v.plain.Do(req)
	if err != nil {
		return nil
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	var certs map[string]string
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&certs) != nil {
		return nil
	}
	block, _ := pem.Decode([]byte(certs[k.PrivateKeyID]))
	if block == nil {
		return nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	left := time.Until(cert.NotAfter)
	day := cert.NotAfter.UTC().Format(time.DateOnly)
	switch {
	case left <= 0:
		return []string{fmt.Sprintf("the service account key %s expired on %s; create a new key and update the provider", k.PrivateKeyID, day)}
	case left < expiryWarning:
		return []string{fmt.Sprintf("the service account key %s expires on %s (in %d days); create a new key and update the provider before then",
			k.PrivateKeyID, day, int(left.Hours()/24)+1)}
	}
	return nil
}
