package provider

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
)

// GoogleTokenURL is Google's OAuth token endpoint. A key's token_uri is user input: only
// Google's endpoints are accepted, and validators always use the configured URL, never the key's.
const GoogleTokenURL = "https://oauth2.googleapis.com/token"

var googleTokenURIs = map[string]bool{
	GoogleTokenURL: true,
	"https://accounts.google.com/o/oauth2/token": true,
}

var (
	gcpProjectRE = newPattern(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`, 0)
	gcpEmailRE   = newPattern(`^[a-z0-9][a-z0-9._-]*@[a-z0-9.-]+\.[a-z]{2,}$`, 254)
	hexRE        = newPattern(`^[0-9a-f]{40}$`, 0)
)

// gcpKeyFields are the fields a Google service account key file may carry, and whether each is
// shown to clients. Anything else in a key is rejected rather than stored unseen.
var gcpKeyFields = map[string]bool{
	"type":                        true,
	"project_id":                  true,
	"private_key_id":              true,
	"private_key":                 false,
	"client_email":                true,
	"client_id":                   true,
	"auth_uri":                    true,
	"token_uri":                   true,
	"auth_provider_x509_cert_url": true,
	"client_x509_cert_url":        true,
	"universe_domain":             true,
}

var gcpSchema = schema{
	fields: []field{
		{name: "service_account_key", secret: true, required: true, parse: parseGCPKey},
		{name: "project_id", parse: matching(gcpProjectRE, "a GCP project id: 6-30 lowercase letters, digits and hyphens, starting with a letter")},
	},
	check: func(c *parseCtx, cfg *Configuration) {
		if _, ok := cfg.Public["project_id"]; !ok {
			if key, ok := cfg.Public["service_account_key"].(map[string]any); ok {
				cfg.Public["project_id"] = key["project_id"]
			}
		}
	},
}

// parseGCPKey accepts the key as a JSON object or as a string holding one. It stores the whole key
// (with token_uri pinned to Google's) as the secret and shows its identifying fields, private key masked.
func parseGCPKey(raw json.RawMessage, c *parseCtx) (any, error) {
	var key map[string]any
	trimmed := strings.TrimSpace(string(raw))
	if strings.HasPrefix(trimmed, `"`) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("must be a service account key JSON object or a string holding one")
		}
		if err := json.Unmarshal([]byte(s), &key); err != nil {
			return nil, fmt.Errorf("must be a service account key JSON object or a string holding one")
		}
	} else if err := json.Unmarshal(raw, &key); err != nil || key == nil {
		return nil, fmt.Errorf("must be a service account key JSON object or a string holding one")
	}

	var unknown []string
	for k := range key {
		if _, ok := gcpKeyFields[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("has fields a service account key does not have: %s", strings.Join(unknown, ", "))
	}
	s := func(name string) (string, error) {
		v, ok := key[name].(string)
		if !ok || v == "" {
			return "", fmt.Errorf("must have a non-empty string %q", name)
		}
		return v, nil
	}
	for name := range gcpKeyFields {
		if v, ok := key[name]; ok {
			if _, isStr := v.(string); !isStr {
				return nil, fmt.Errorf("field %q must be a string", name)
			}
		}
	}
	typ, err := s("type")
	if err != nil {
		return nil, err
	}
	if typ != "service_account" {
		return nil, fmt.Errorf("must be a key of type \"service_account\" (other credential types, such as external_account, are not accepted)")
	}
	project, err := s("project_id")
	if err != nil {
		return nil, err
	}
	if !gcpProjectRE.MatchString(project) {
		return nil, fmt.Errorf("has a project_id that is not a GCP project id")
	}
	email, err := s("client_email")
	if err != nil {
		return nil, err
	}
	if !gcpEmailRE.MatchString(email) {
		return nil, fmt.Errorf("has a client_email that is not an email address")
	}
	keyID, err := s("private_key_id")
	if err != nil {
		return nil, err
	}
	if !hexRE.MatchString(keyID) {
		return nil, fmt.Errorf("has a private_key_id that is not 40 hexadecimal characters")
	}
	pk, err := s("private_key")
	if err != nil {
		return nil, err
	}
	if err := checkRSAPrivateKeyPEM(pk); err != nil {
		return nil, fmt.Errorf("has a private_key that %s", err)
	}
	if uri, ok := key["token_uri"].(string); ok && !googleTokenURIs[uri] {
		return nil, fmt.Errorf("has a token_uri that is not Google's token endpoint %s", GoogleTokenURL)
	}
	if ud, ok := key["universe_domain"].(string); ok && ud != "googleapis.com" {
		return nil, fmt.Errorf("has a universe_domain other than googleapis.com, which is not supported")
	}
	key["token_uri"] = GoogleTokenURL

	shown := map[string]any{}
	for k, v := range key {
		if gcpKeyFields[k] {
			shown[k] = v
		}
	}
	shown["private_key"] = Mask
	c.public["service_account_key"] = shown

	canonical, err := json.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("could not be encoded")
	}
	return string(canonical), nil
}

// checkRSAPrivateKeyPEM checks that s is an unencrypted PEM RSA private key (PKCS#8 or PKCS#1).
// Its errors complete the sentence "has a private_key that ..." and never quote the key.
func checkRSAPrivateKeyPEM(s string) error {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return fmt.Errorf("is not PEM encoded")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return fmt.Errorf("cannot be parsed as a PKCS#8 private key")
		}
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return fmt.Errorf("is not an RSA key")
		}
	case "RSA PRIVATE KEY":
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return fmt.Errorf("cannot be parsed as an RSA private key")
		}
	default:
		return fmt.Errorf("is a PEM block of type %q, not a private key", block.Type)
	}
	return nil
}
