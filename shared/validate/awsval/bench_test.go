package awsval

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// latencyAWS answers every call after a fixed delay: STS, EC2 and role sessions here, IAM and
// EKS through an iamFake (which still checks every signature).
type latencyAWS struct {
	latency time.Duration
	iam     *iamFake
}

const (
	benchKey    = "AKIABENCHBENCHBENCH0"
	benchSecret = "benchbenchbenchbenchbenchbenchbenchbench"
	benchTemp   = "ASIABENCHBENCHBENCH0"
	benchToken  = "bench-session-token"
)

func (l *latencyAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	switch form.Get("Action") {
	case "GetCallerIdentity":
		time.Sleep(l.latency)
		arn := "arn:aws:iam::" + motoAccount + ":user/bench"
		if r.Header.Get("X-Amz-Security-Token") != "" {
			arn = "arn:aws:sts::" + motoAccount + ":assumed-role/bench/" + SessionName
		}
		writeXML(w, http.StatusOK, struct {
			XMLName xml.Name `xml:"GetCallerIdentityResponse"`
			Arn     string   `xml:"GetCallerIdentityResult>Arn"`
			Account string   `xml:"GetCallerIdentityResult>Account"`
			UserID  string   `xml:"GetCallerIdentityResult>UserId"`
		}{Arn: arn, Account: motoAccount, UserID: "AIDABENCH"})
	case "AssumeRole":
		time.Sleep(l.latency)
		if !form.Has("ExternalId") {
			queryError(w, http.StatusForbidden, "AccessDenied", "external id required")
			return
		}
		writeXML(w, http.StatusOK, struct {
			XMLName xml.Name `xml:"AssumeRoleResponse"`
			ID      string   `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
			Secret  string   `xml:"AssumeRoleResult>Credentials>SecretAccessKey"`
			Token   string   `xml:"AssumeRoleResult>Credentials>SessionToken"`
			Expiry  string   `xml:"AssumeRoleResult>Credentials>Expiration"`
		}{ID: benchTemp, Secret: benchSecret, Token: benchToken, Expiry: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case "DescribeVpcs":
		time.Sleep(l.latency)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusPreconditionFailed)
		io.WriteString(w, `<Response><Errors><Error><Code>DryRunOperation</Code><Message>Request would have succeeded, but DryRun flag is set.</Message></Error></Errors><RequestID>bench</RequestID></Response>`)
	default:
		l.iam.ServeHTTP(w, r)
	}
}

// BenchmarkValidate measures a validation against endpoints that each take the same fixed time:
// with independent checks concurrent, the wall time is a few calls deep (key mode: identity, then
// everything else; role mode: AssumeRole, identity, then everything else), not the 7 or 8 calls
// made. calls-deep is validate-ms over the latency of one call.
func BenchmarkValidate(b *testing.B) {
	const latency = 25 * time.Millisecond
	for _, mode := range []string{"key", "role"} {
		b.Run(mode, func(b *testing.B) {
			fake := &iamFake{latency: latency, wantSource: "arn:aws:iam::" + motoAccount + ":user/bench",
				keyCreated: map[string]time.Time{benchKey: time.Now()}}
			fake.secretFor = func(id string) (string, string, bool) {
				switch id {
				case benchKey:
					return benchSecret, "", true
				case benchTemp:
					return benchSecret, benchToken, true
				}
				return "", "", false
			}
			fake.t = b
			srv := httptest.NewServer(&latencyAWS{latency: latency, iam: fake})
			defer srv.Close()
			opts := Options{Endpoints: Endpoints{STS: srv.URL, IAM: srv.URL, EKS: srv.URL, EC2: srv.URL}}
			p := keyProvider(benchKey)
			secret := map[string]string{"aws_access_secret": benchSecret}
			if mode == "role" {
				role := "arn:aws:iam::" + motoAccount + ":role/bench"
				fake.wantSource = role
				opts.SourceCredentials = staticCreds(benchKey, benchSecret, "")
				p, secret = roleProvider(role), map[string]string{}
			}
			v := New(opts)
			b.ResetTimer()
			for b.Loop() {
				if r := v.Validate(context.Background(), p, secret); r.Status != provider.StatusValid {
					b.Fatalf("status %s: %+v", r.Status, r.Checks)
				}
			}
			wall := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(wall, "validate-ms")
			b.ReportMetric(float64(latency.Milliseconds()), "slowest-call-ms")
			b.ReportMetric(wall/float64(latency.Milliseconds()), "calls-deep")
			// The slowest single check is one call after authentication: STS, then IAM (key
			// mode); AssumeRole and GetCallerIdentity, then IAM (role mode).
			depth := 2.0
			if mode == "role" {
				depth = 3
			}
			b.ReportMetric(wall/(depth*float64(latency.Milliseconds())), "x-slowest-check")
		})
	}
}
