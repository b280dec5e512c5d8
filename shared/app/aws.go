package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/dynamostore"
	"github.com/streamtime/fleet-providers/shared/smsecrets"
)

// buildAWS wires the DynamoDB and Secrets Manager backends with the service's own identity
// (the Lambda role, or the standard AWS environment and profile locally). Endpoints come from
// the SDK's standard variables (AWS_ENDPOINT_URL_DYNAMODB, ...), which is how the emulators plug in.
func (a *App) buildAWS(ctx context.Context) error {
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		return fmt.Errorf("aws configuration: %w", err)
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	if a.Config.CreateTable {
		if err := dynamostore.CreateTable(ctx, ddb, a.Config.TableName); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
	}
	a.Store = dynamostore.New(ddb, a.Config.TableName)
	secrets, err := smsecrets.New(secretsmanager.NewFromConfig(awsCfg), smsecrets.Options{
		Prefix:             a.Config.SecretPrefix,
		KMSKeyID:           a.Config.SecretKMSKeyID,
		RecoveryWindowDays: a.Config.SecretRecoveryDays,
	})
	if err != nil {
		return err
	}
	a.Secrets = secrets
	return nil
}
