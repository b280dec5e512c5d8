package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// MaxBodyBytes bounds request bodies; the largest legitimate one (a GCP key) is a few KiB.
const MaxBodyBytes = 64 << 10

// readBody enforces the content type and size limit and returns the raw body.
func readBody(w http.ResponseWriter, r *http.Request, types ...string) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, &requestError{problem(http.StatusRequestEntityTooLarge, "body-too-large", "Body too large",
			fmt.Sprintf("The request body must be at most %d bytes.", MaxBodyBytes))}
	}
	if err != nil {
		return nil, badRequest("body", "could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 && r.Header.Get("Content-Type") == "" {
		return body, nil
	}
	if err := checkContentType(r.Header.Get("Content-Type"), types); err != nil {
		return nil, err
	}
	return body, nil
}

func checkContentType(header string, allowed []string) error {
	mt, params, err := mime.ParseMediaType(header)
	if err == nil {
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			err = errors.New("charset")
		}
	}
	if err == nil {
		for _, a := range allowed {
			if mt == a {
				return nil
			}
		}
	}
	return &requestError{problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
		fmt.Sprintf("Send the body as %s (charset utf-8 if given).", strings.Join(allowed, " or ")))}
}

// decodeObject parses body as one JSON object into its raw fields, rejecting fields not in allowed.
func decodeObject(body []byte, allowed ...string) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("body", "must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, badRequest("body", fmt.Sprintf("is not valid JSON (syntax error at byte %d)", se.Offset))
		}
		return nil, badRequest("body", "must be a JSON object")
	}
	if obj == nil {
		return nil, badRequest("body", "must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("body", "must hold exactly one JSON object")
	}
	errs := &provider.ValidationError{}
	var unknown []string
	for k := range obj {
		known := false
		for _, a := range allowed {
			if k == a {
				known = true
			}
		}
		if !known {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		errs.Add(k, "is not a known field; allowed: "+strings.Join(allowed, ", "))
	}
	return obj, errs.Err()
}

// stringField decodes an optional string field; present reports whether it was given (and not null).
func stringField(obj map[string]json.RawMessage, name string, errs *provider.ValidationError) (value string, present bool) {
	raw, ok := obj[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", false
	}
	if err := json.Unmarshal(raw, &value); err != nil {
		errs.Add(name, "must be a string")
		return "", false
	}
	return value, true
}
