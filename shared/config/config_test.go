package config

import (
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestDefaultsAndParsing(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"TABLE_NAME": "t", "AUTH_ISSUER": "i", "AUTH_AUDIENCE": "a", "AUTH_JWKS": "{}",
		"VALIDATE_TIMEOUT": "15s", "SECRET_PREFIX": "custom/prefix/", "LOG_LEVEL": "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != StoreAWS || c.SecretPrefix != "custom/prefix" || c.ValidateTimeout != 15*time.Second ||
		c.SecretRecoveryDays != 7 || c.ErrorThreshold != 3 || c.TrustAuthorizer || c.CreateTable {
		t.Fatalf("unexpected config: %+v", c)
	}
	c, err = FromEnv(env(map[string]string{"STORE": "embedded", "AUTH_MODE": "authorizer"}))
	if err != nil || !c.TrustAuthorizer || c.DataDir != DefaultDataDir || c.SecretPrefix != DefaultSecretPrefix {
		t.Fatalf("authorizer mode: %+v %v", c, err)
	}
}

func TestInvalidSettingsAreAllReportedByName(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"STORE": "aws", "AUTH_MODE": "magic", "VALIDATE_TIMEOUT": "45s", "SECRET_RECOVERY_DAYS": "3",
		"LOG_LEVEL": "loud", "REVALIDATE_ERROR_THRESHOLD": "x", "AUTH_JWKS": "secret-looking-value",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{"TABLE_NAME", "AUTH_MODE", "VALIDATE_TIMEOUT", "SECRET_RECOVERY_DAYS", "LOG_LEVEL", "REVALIDATE_ERROR_THRESHOLD"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "secret-looking-value") {
		t.Error("error quotes a setting's value")
	}
}
