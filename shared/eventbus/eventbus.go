// Package eventbus publishes provider status changes: to Amazon EventBridge when deployed, to the
// log locally. Consumers (the cluster platform, alerting) subscribe with a rule on Source and
// DetailType; the detail is fleet.StatusChange as JSON, which holds no secret.
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/fleet"
)

// The event's envelope fields, part of the service's public contract.
const (
	Source     = "streamtime.fleet-providers"
	DetailType = "FleetProviderStatusChanged"
)

// Publisher is a fleet.ChangeNotifier on an EventBridge bus.
type Publisher struct {
	client *eventbridge.Client
	bus    string
}

var _ fleet.ChangeNotifier = (*Publisher)(nil)

// New returns a Publisher to the bus named bus ("default" for the account's default bus).
func New(client *eventbridge.Client, bus string) *Publisher {
	return &Publisher{client: client, bus: bus}
}

// attempts bounds how often an entry EventBridge failed inside a successful call is put again
// (the SDK retries whole failed calls itself).
const attempts = 3

// StatusChanged puts one FleetProviderStatusChanged event, timed at the check that caused it.
func (p *Publisher) StatusChanged(ctx context.Context, c fleet.StatusChange) error {
	detail, err := json.Marshal(c)
	if err != nil {
		return err
	}
	entry := types.PutEventsRequestEntry{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(Source),
		DetailType:   aws.String(DetailType),
		Detail:       aws.String(string(detail)),
		Time:         aws.Time(c.CheckedAt),
	}
	for attempt := 1; ; attempt++ {
		out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
		if err != nil {
			return fmt.Errorf("eventbridge put: %w", err)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		code := ""
		if len(out.Entries) > 0 {
			code = aws.ToString(out.Entries[0].ErrorCode)
		}
		if attempt == attempts {
			return fmt.Errorf("eventbridge put: event refused (%s)", code)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
}

// Log is a fleet.ChangeNotifier that logs the change, for local runs without EventBridge.
type Log struct{ Logger *slog.Logger }

// StatusChanged logs c as the event it would publish.
func (l Log) StatusChanged(_ context.Context, c fleet.StatusChange) error {
	l.Logger.Info("provider status changed", "source", Source, "detail_type", DetailType,
		"organization", c.Organization, "provider_id", c.ProviderID, "identifier", c.Identifier,
		"from", string(c.From), "to", string(c.To), "reason", c.Reason, "missing_permissions", c.MissingPermissions)
	return nil
}

// ForConfig returns the notifier cfg asks for: the EventBridge bus cfg.EventBusName (through the
// standard AWS configuration, as the stores are), or, without one, the log.
func ForConfig(ctx context.Context, cfg config.Config, logger *slog.Logger) (fleet.ChangeNotifier, error) {
	if cfg.EventBusName == "" {
		return Log{Logger: logger}, nil
	}
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	return New(eventbridge.NewFromConfig(awsCfg), cfg.EventBusName), nil
}
