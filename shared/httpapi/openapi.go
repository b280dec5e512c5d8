package httpapi

import _ "embed"

// OpenAPI is the API's OpenAPI 3.1 document (YAML). Tests check every response against it.
//
//go:embed openapi.yaml
var OpenAPI []byte
