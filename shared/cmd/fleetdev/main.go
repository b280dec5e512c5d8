// Command fleetdev runs the Fleet Providers service on a laptop: `serve` starts the whole API on
// loopback with the embedded store, `token` prints a development bearer token the server trusts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/streamtime/fleet-providers/shared/app"
	"github.com/streamtime/fleet-providers/shared/auth"
	"github.com/streamtime/fleet-providers/shared/auth/jwtauth"
	"github.com/streamtime/fleet-providers/shared/config"
	"github.com/streamtime/fleet-providers/shared/httpapi"
	"github.com/streamtime/fleet-providers/shared/provider"
	"github.com/streamtime/fleet-providers/shared/validators"
)

const usage = `usage: fleetdev <command> [flags]

commands:
  serve   run the whole API on 127.0.0.1:$PORT (default 3000) with the store named by $STORE
          (embedded by default, data in $DATA_DIR, default .data)
  token   print a development bearer token: fleetdev token -org acme [-scopes "..."] [-ttl 12h]
  revalidate
          revalidate the providers that are due, once, in process: fleetdev revalidate -h
  repair  delete orphan secrets and restore secret versions interrupted writes left: fleetdev repair -h
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "token":
		err = token(os.Args[2:])
	case "revalidate":
		err = revalidate(os.Args[2:])
	case "repair":
		err = repair(os.Args[2:])
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetdev:", err)
		os.Exit(1)
	}
}

// devConfig is the configuration from the environment with local defaults: the embedded store,
// and - unless a real issuer is configured - the development key from the data dir as the only
// trusted token signer.
func devConfig() (config.Config, error) {
	env := map[string]string{"STORE": config.StoreEmbedded, "DATA_DIR": config.DefaultDataDir}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			env[k] = v
		}
	}
	if env["AUTH_JWKS"] == "" && env["AUTH_JWKS_URL"] == "" {
		key, err := jwtauth.LoadOrCreateDevKey(env["DATA_DIR"])
		if err != nil {
			return config.Config{}, fmt.Errorf("development key: %w", err)
		}
		env["AUTH_ISSUER"], env["AUTH_AUDIENCE"], env["AUTH_JWKS"] = jwtauth.DevIssuer, jwtauth.DevAudience, string(jwtauth.DevJWKS(key))
	}
	return config.FromEnv(func(k string) string { return env[k] })
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	port := fs.String("port", os.Getenv("PORT"), "port on 127.0.0.1 (default 3000)")
	_ = fs.Parse(args)
	if *port == "" {
		*port = "3000"
	}
	cfg, err := devConfig()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	parts, err := validators.Parts(ctx, cfg)
	if err != nil {
		return err
	}
	if cfg.TrustAuthorizer {
		return errors.New("serve verifies tokens itself: AUTH_MODE=authorizer is for functions behind API Gateway")
	}
	verifier, err := jwtauth.NewVerifier(jwtauth.VerifierConfig{Issuer: cfg.AuthIssuer, Audience: cfg.AuthAudience, JWKS: cfg.AuthJWKS, JWKSURL: cfg.AuthJWKSURL})
	if err != nil {
		return err
	}
	a, err := app.Build(ctx, cfg, parts)
	if err != nil {
		return err
	}
	defer a.Close()

	srv := &http.Server{
		Addr:              net.JoinHostPort("127.0.0.1", *port),
		Handler:           httpapi.New(a.Service, verifier, httpapi.Options{Logger: a.Logger}).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	a.Logger.Info("fleet providers API listening", "address", "http://"+ln.Addr().String(), "store", cfg.Store)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	org := fs.String("org", os.Getenv("ORG"), "organization the token is for")
	scopes := fs.String("scopes", os.Getenv("SCOPES"), "space or comma separated scopes (default read and write)")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	_ = fs.Parse(args)
	if *org == "" || !providerOrg(*org) {
		return errors.New("token: -org (or ORG=) must name an organization, e.g. ORG=acme")
	}
	list := strings.FieldsFunc(*scopes, func(r rune) bool { return r == ' ' || r == ',' })
	if len(list) == 0 {
		list = []string{auth.ScopeRead, auth.ScopeWrite}
	}
	dir := os.Getenv("DATA_DIR")
	if dir == "" {
		dir = config.DefaultDataDir
	}
	key, err := jwtauth.LoadOrCreateDevKey(dir)
	if err != nil {
		return err
	}
	t, err := jwtauth.IssueDevToken(key, *org, list, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(t)
	return nil
}

func providerOrg(s string) bool { return provider.ValidOrganization(s) }
