//go:build lambda.norpc

package config

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWS returns the function's own AWS configuration from the variables Lambda sets (region and the
// execution role's credentials). Lambda builds (tag lambda.norpc) use this instead of the SDK's
// default chain, which links SSO, OIDC and instance-metadata clients a function never uses and
// costs megabytes and milliseconds of every cold start.
func AWS(context.Context) (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		return aws.Config{}, errors.New("AWS_REGION is not set")
	}
	cfg := aws.Config{Region: region}
	if id := os.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			id, os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")))
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep) // local emulators under make invoke
	}
	return cfg, nil
}
