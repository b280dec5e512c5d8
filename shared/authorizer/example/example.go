// Package example is the token issuer behind the sample events: the bearer tokens in
// events/authorizer*.json are signed by the key whose public half is JWKS, so those events verify
// under `make invoke` and in tests. Nothing deployed trusts it.
//
// To change the events' tokens, regenerate key and tokens together:
//
//	go test ./shared/authorizer -run TestExampleEvents -update
package example

import _ "embed"

// Issuer and Audience are the example tokens' iss and aud claims.
const (
	Issuer   = "https://idp.example.com/"
	Audience = "fleet-providers"
)

// JWKS is the public key set that verifies the example tokens.
//
//go:embed jwks.json
var JWKS []byte
