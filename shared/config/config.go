// Package config reads the service's settings from the environment once, at start-up, and
// validates them. Nothing else in the code reads the environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Store backends.
const (
	StoreAWS      = "aws"      // DynamoDB + Secrets Manager
	StoreEmbedded = "embedded" // local bbolt data directory
)

// Config is every setting the functions and the local server use.
type Config struct {
	Store   string // STORE: aws | embedded
	DataDir string // DATA_DIR: embedded store directory

	TableName string // TABLE_NAME
	// CreateTable creates TABLE_NAME if it is missing (CREATE_TABLE=true): for emulators only;
	// deployed tables come from template.yaml.
	CreateTable        bool
	SecretPrefix       string // SECRET_PREFIX
	SecretKMSKeyID     string // SECRET_KMS_KEY_ID (optional customer-managed key)
	SecretRecoveryDays int    // SECRET_RECOVERY_DAYS: 0 (immediate, dev only) or 7-30

	AuthIssuer   string // AUTH_ISSUER
	AuthAudience string // AUTH_AUDIENCE
	AuthJWKS     []byte // AUTH_JWKS: JSON Web Key Set (inline JSON)
	AuthJWKSURL  string // AUTH_JWKS_URL: the issuer's jwks_uri (https), fetched and refreshed
	// TrustAuthorizer makes handlers take the principal from the API Gateway Lambda authorizer's
	// context instead of verifying the token again (AUTH_MODE=authorizer).
	TrustAuthorizer bool

	ValidateTimeout time.Duration // VALIDATE_TIMEOUT (default 20s)
	ErrorThreshold  int           // REVALIDATE_ERROR_THRESHOLD (default 3)
	RepairGrace     time.Duration // REPAIR_GRACE (default 15m)

	// Scheduled revalidation (functions/dispatcher and functions/worker, make revalidate).
	RevalidateQueueURL    string        // REVALIDATE_QUEUE_URL: the SQS queue the dispatcher fills
	RevalidateInterval    time.Duration // REVALIDATE_INTERVAL (default 24h): a provider is due once its last check is this old
	RevalidateBudget      time.Duration // REVALIDATE_BUDGET (default 2m): how long one dispatcher run enqueues
	RevalidateMaxPerRun   int           // REVALIDATE_MAX_PER_RUN (default 200000): most providers one run enqueues
	RevalidateConcurrency int           // REVALIDATE_CONCURRENCY (default 10): validations at once per worker invocation
	// EventBusName is the EventBridge bus status changes go to (EVENT_BUS_NAME); empty: not published.
	EventBusName string

	LogLevel slog.Level // LOG_LEVEL: debug | info | warn | error
}

// Default values.
const (
	DefaultSecretPrefix    = "streamtime/fleet-providers"
	DefaultDataDir         = ".data"
	DefaultValidateTimeout = 20 * time.Second
)

// FromEnv reads the configuration through getenv (os.Getenv in mains, a map in tests).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Store:          strings.ToLower(or(getenv("STORE"), StoreAWS)),
		DataDir:        or(getenv("DATA_DIR"), DefaultDataDir),
		TableName:      getenv("TABLE_NAME"),
		SecretPrefix:   strings.TrimSuffix(or(getenv("SECRET_PREFIX"), DefaultSecretPrefix), "/"),
		SecretKMSKeyID: getenv("SECRET_KMS_KEY_ID"),
		AuthIssuer:     getenv("AUTH_ISSUER"),
		AuthAudience:   getenv("AUTH_AUDIENCE"),
		AuthJWKS:       []byte(getenv("AUTH_JWKS")),
		AuthJWKSURL:    getenv("AUTH_JWKS_URL"),
	}
	var errs []error
	num := func(name string, def int) int {
		s := getenv(name)
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s must be a whole number", name))
		}
		return n
	}
	dur := func(name string, def time.Duration) time.Duration {
		s := getenv(name)
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive duration such as 20s", name))
		}
		return d
	}
	c.SecretRecoveryDays = num("SECRET_RECOVERY_DAYS", 7)
	c.CreateTable = getenv("CREATE_TABLE") == "true"
	c.ErrorThreshold = num("REVALIDATE_ERROR_THRESHOLD", 3)
	c.ValidateTimeout = dur("VALIDATE_TIMEOUT", DefaultValidateTimeout)
	c.RepairGrace = dur("REPAIR_GRACE", 15*time.Minute)
	c.RevalidateQueueURL = getenv("REVALIDATE_QUEUE_URL")
	c.RevalidateInterval = dur("REVALIDATE_INTERVAL", 24*time.Hour)
	c.RevalidateBudget = dur("REVALIDATE_BUDGET", 2*time.Minute)
	c.RevalidateMaxPerRun = num("REVALIDATE_MAX_PER_RUN", 200_000)
	c.RevalidateConcurrency = num("REVALIDATE_CONCURRENCY", 10)
	c.EventBusName = getenv("EVENT_BUS_NAME")
	if c.RevalidateMaxPerRun <= 0 || c.RevalidateConcurrency <= 0 {
		errs = append(errs, errors.New("REVALIDATE_MAX_PER_RUN and REVALIDATE_CONCURRENCY must be positive"))
	}

	switch mode := strings.ToLower(or(getenv("AUTH_MODE"), "token")); mode {
	case "token":
	case "authorizer":
		c.TrustAuthorizer = true
	default:
		errs = append(errs, fmt.Errorf("AUTH_MODE must be token or authorizer"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error"))
	}

	switch c.Store {
	case StoreAWS:
		if c.TableName == "" {
			errs = append(errs, errors.New("TABLE_NAME is required with STORE=aws"))
		}
	case StoreEmbedded:
	default:
		errs = append(errs, fmt.Errorf("STORE must be aws or embedded"))
	}
	if c.SecretRecoveryDays != 0 && (c.SecretRecoveryDays < 7 || c.SecretRecoveryDays > 30) {
		errs = append(errs, errors.New("SECRET_RECOVERY_DAYS must be 0 or 7-30"))
	}
	if c.ValidateTimeout >= 29*time.Second {
		errs = append(errs, errors.New("VALIDATE_TIMEOUT must stay under API Gateway's 29 s limit"))
	}
	if !c.TrustAuthorizer && (c.AuthIssuer == "" || c.AuthAudience == "" || (len(c.AuthJWKS) == 0 && c.AuthJWKSURL == "")) {
		errs = append(errs, errors.New("AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS or AUTH_JWKS_URL are required unless AUTH_MODE=authorizer"))
	}
	return c, errors.Join(errs...)
}

// MustFromEnv is FromEnv(os.Getenv) for mains: a misconfigured function stops at start-up with
// the list of problems (names of settings only, never their values).
func MustFromEnv() Config {
	c, err := FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration error:", err)
		os.Exit(2)
	}
	return c
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
