package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"

	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/logging"
	"github.com/streamtime/fleet-providers/shared/provider"
)

const (
	jsonType       = "application/json"
	mergePatchType = "application/merge-patch+json"
	defaultLimit   = 20
	maxLimit       = 100
)

func (a *API) logFrom(r *http.Request) *slog.Logger { return logging.From(r.Context()) }

// providerID returns the path id if it is a UUID; any other id cannot name a provider.
func providerID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return "", badRequest("id", "must be a fleet provider id (a lowercase UUID)")
	}
	return id, nil
}

func (a *API) create(w http.ResponseWriter, r *http.Request, org string) error {
	body, err := readBody(w, r, jsonType)
	if err != nil {
		return err
	}
	obj, err := decodeObject(body, "organization", "identifier", "provider_type", "configuration")
	if err != nil {
		return err
	}
	errs := &provider.ValidationError{}
	if bodyOrg, ok := stringField(obj, "organization", errs); ok && bodyOrg != org {
		errs.Add("organization", "must match the organization in the path")
	}
	identifier, ok := stringField(obj, "identifier", errs)
	if !ok && obj["identifier"] == nil {
		errs.Add("identifier", "is required")
	}
	typ, ok := stringField(obj, "provider_type", errs)
	if !ok && obj["provider_type"] == nil {
		errs.Add("provider_type", "is required")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	p, err := a.svc.Create(r.Context(), fleet.CreateInput{
		Org: org, Identifier: identifier, Type: provider.Type(typ), Config: obj["configuration"],
	})
	if err != nil {
		return err
	}
	a.logFrom(r).Info("fleet provider created", "provider_id", p.ID, "provider_type", string(p.Type))
	w.Header().Set("Location", "/organizations/"+url.PathEscape(org)+"/fleet-providers/"+p.ID)
	writeJSON(w, http.StatusCreated, viewOf(p))
	return nil
}

func (a *API) get(w http.ResponseWriter, r *http.Request, org string) error {
	id, err := providerID(r)
	if err != nil {
		return err
	}
	p, err := a.svc.Get(r.Context(), org, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(p))
	return nil
}

func (a *API) list(w http.ResponseWriter, r *http.Request, org string) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return badRequest("query", "is not a well-formed query string")
	}
	limit := defaultLimit
	if s := q.Get("limit"); s != "" || q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return badRequest("limit", "must be a whole number from 1 to 100")
		}
		limit = n
	}
	page, err := a.svc.List(r.Context(), org, limit, q.Get("cursor"))
	if err != nil {
		return err
	}
	out := listView{Items: make([]providerView, 0, len(page.Items))}
	for _, p := range page.Items {
		out.Items = append(out.Items, viewOf(p))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) update(w http.ResponseWriter, r *http.Request, org string) error {
	id, err := providerID(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, jsonType, mergePatchType)
	if err != nil {
		return err
	}
	obj, err := decodeObject(body, "identifier", "configuration", "organization", "provider_type", "id")
	if err != nil {
		return err
	}
	errs := &provider.ValidationError{}
	for _, fixed := range []string{"organization", "provider_type", "id"} {
		if _, ok := obj[fixed]; ok {
			errs.Add(fixed, "cannot be changed")
		}
	}
	var in fleet.UpdateInput
	if raw, ok := obj["identifier"]; ok {
		if isNull(raw) {
			errs.Add("identifier", "cannot be removed")
		} else if s, ok := stringField(obj, "identifier", errs); ok {
			in.Identifier = &s
		}
	}
	if raw, ok := obj["configuration"]; ok {
		if isNull(raw) {
			errs.Add("configuration", "cannot be removed")
		} else {
			in.Config = raw
		}
	}
	if len(obj) == 0 {
		errs.Add("body", "must change identifier and/or configuration")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	p, err := a.svc.Update(r.Context(), org, id, in)
	if err != nil {
		return err
	}
	a.logFrom(r).Info("fleet provider updated", "credentials_replaced", in.Config != nil)
	writeJSON(w, http.StatusOK, viewOf(p))
	return nil
}

func (a *API) delete(w http.ResponseWriter, r *http.Request, org string) error {
	id, err := providerID(r)
	if err != nil {
		return err
	}
	if err := a.svc.Delete(r.Context(), org, id); err != nil {
		return err
	}
	a.logFrom(r).Info("fleet provider deleted")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) validate(w http.ResponseWriter, r *http.Request, org string) error {
	id, err := providerID(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, jsonType)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if _, err := decodeObject(body); err != nil {
			return err
		}
	}
	report, _, err := a.svc.Validate(r.Context(), org, id)
	if err != nil {
		return err
	}
	a.logFrom(r).Info("fleet provider validated", "status", string(report.Status), "duration_ms", report.DurationMS)
	writeJSON(w, http.StatusOK, report)
	return nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }
