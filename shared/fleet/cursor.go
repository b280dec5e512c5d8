package fleet

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/streamtime/fleet-providers/shared/provider"
)

// cursorMAC detects altered cursors. It is integrity, not secrecy: every list query is scoped to the
// organization in the path, so a forged cursor could at most reposition within the caller's own org.
var cursorMAC = []byte("streamtime/fleet-providers/list-cursor/v1")

type cursorBody struct {
	Org   string `json:"o"`
	After string `json:"a"`
}

func encodeCursor(org, after string) string {
	if after == "" {
		return ""
	}
	body, _ := json.Marshal(cursorBody{Org: org, After: after})
	m := hmac.New(sha256.New, cursorMAC)
	m.Write(body)
	return base64.RawURLEncoding.EncodeToString(append(m.Sum(nil)[:16], body...))
}

// decodeCursor returns the store position of a cursor issued for org, or ErrInvalidCursor.
func decodeCursor(org, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) <= 16 {
		return "", provider.ErrInvalidCursor
	}
	sum, body := raw[:16], raw[16:]
	m := hmac.New(sha256.New, cursorMAC)
	m.Write(body)
	if !hmac.Equal(sum, m.Sum(nil)[:16]) {
		return "", provider.ErrInvalidCursor
	}
	var c cursorBody
	if err := json.Unmarshal(body, &c); err != nil || c.Org != org || c.After == "" {
		return "", provider.ErrInvalidCursor
	}
	return c.After, nil
}
