// Package httpapi is the Fleet Providers HTTP API on net/http: routing, authentication and the
// org check, request decoding, and RFC 9457 problem responses. The same handlers serve the local
// server and, through aws-lambda-go-api-proxy, each Lambda function.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/fleet"
	"github.com/streamtime/fleet-providers/shared/provider"
)

// Authenticator finds who a request speaks for: by verifying its bearer token, or by reading
// what the API Gateway authorizer already verified.
type Authenticator interface {
	Authenticate(r *http.Request) (auth.Principal, error)
}

// Service is what the handlers need of the fleet service.
type Service interface {
	Create(ctx context.Context, in fleet.CreateInput) (*provider.Provider, error)
	Get(ctx context.Context, org, id string) (*provider.Provider, error)
	List(ctx context.Context, org string, limit int, cursor string) (fleet.Page, error)
	Update(ctx context.Context, org, id string, in fleet.UpdateInput) (*provider.Provider, error)
	Delete(ctx context.Context, org, id string) error
	Validate(ctx context.Context, org, id string) (provider.Report, *provider.Provider, error)
}

var _ Service = (*fleet.Service)(nil)

// Options configure an API.
type Options struct {
	Logger    *slog.Logger
	RequestID RequestIDFunc
}

// API serves the Fleet Providers routes.
type API struct {
	svc  Service
	auth Authenticator
	log  *slog.Logger
	opts Options
}

// New returns an API over svc that authenticates requests with authn.
func New(svc Service, authn Authenticator, opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &API{svc: svc, auth: authn, log: opts.Logger, opts: opts}
}

// Op is one API operation; each Lambda function serves one.
type Op string

const (
	OpCreate   Op = "create"
	OpGet      Op = "get"
	OpList     Op = "list"
	OpUpdate   Op = "update"
	OpDelete   Op = "delete"
	OpValidate Op = "validate"
)

// AllOps are every operation, for the local server.
var AllOps = []Op{OpCreate, OpGet, OpList, OpUpdate, OpDelete, OpValidate}

const (
	collectionPath = "/organizations/{org}/fleet-providers"
	itemPath       = collectionPath + "/{id}"
)

type route struct {
	method, pattern string
	scope           string
	handle          func(a *API, w http.ResponseWriter, r *http.Request, org string) error
}

var routes = map[Op][]route{
	OpCreate: {
		{http.MethodPost, collectionPath, auth.ScopeWrite, (*API).create},
		{http.MethodPost, collectionPath + "/{$}", auth.ScopeWrite, (*API).create},
	},
	OpList: {
		{http.MethodGet, collectionPath, auth.ScopeRead, (*API).list},
		{http.MethodGet, collectionPath + "/{$}", auth.ScopeRead, (*API).list},
	},
	OpGet:      {{http.MethodGet, itemPath, auth.ScopeRead, (*API).get}},
	OpUpdate:   {{http.MethodPatch, itemPath, auth.ScopeWrite, (*API).update}},
	OpDelete:   {{http.MethodDelete, itemPath, auth.ScopeWrite, (*API).delete}},
	OpValidate: {{http.MethodPost, itemPath + "/validate", auth.ScopeWrite, (*API).validate}},
}

// Handler serves ops (all of them if none are named).
func (a *API) Handler(ops ...Op) http.Handler {
	if len(ops) == 0 {
		ops = AllOps
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{} // path pattern -> methods, for 405 answers
	for _, op := range ops {
		for _, rt := range routes[op] {
			mux.Handle(rt.method+" "+rt.pattern, a.guard(op, rt))
			allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
		}
	}
	for pattern, methods := range allowed {
		allow := ""
		for i, m := range methods {
			if i > 0 {
				allow += ", "
			}
			allow += m
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			p := problem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "Allowed: "+allow+".")
			p.allow = allow
			writeProblem(w, r, p)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeProblem(w, r, notFoundRoute(r)) })
	return a.observe(mux)
}

// guard authenticates, applies the org and scope check every operation shares, and turns the
// handler's error into a problem response.
func (a *API) guard(op Op, rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org := r.PathValue("org")
		r = annotate(r, "operation", string(op), "organization", org)
		if id := r.PathValue("id"); id != "" {
			r = annotate(r, "provider_id", id)
		}
		err := a.authorize(r, org, rt.scope)
		if err == nil {
			err = rt.handle(a, w, r, org)
		}
		if err != nil {
			p := problemFor(err)
			if p.Status >= 500 {
				a.logFrom(r).Error("request failed", "error", err)
			}
			writeProblem(w, r, p)
		}
	})
}

func (a *API) authorize(r *http.Request, org, scope string) error {
	principal, err := a.auth.Authenticate(r)
	if err != nil {
		return auth.ErrUnauthenticated
	}
	return auth.Authorize(principal, org, scope)
}
