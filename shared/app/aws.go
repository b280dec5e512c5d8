package app

import (
	"context"
	"errors"
)

// buildAWS wires the DynamoDB and Secrets Manager backends.
func (a *App) buildAWS(ctx context.Context) error {
	return errors.New("STORE=aws: backends not wired yet")
}
