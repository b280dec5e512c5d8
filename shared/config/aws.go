//go:build !lambda.norpc

package config

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// AWS returns the service's own AWS configuration through the SDK's full default chain
// (environment, shared config and profiles, SSO, instance metadata): for the local server and tools.
func AWS(ctx context.Context) (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(ctx)
}
