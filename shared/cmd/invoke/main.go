// Command invoke runs one function's real bootstrap on one event without Docker, behind
// `make invoke FN=<function> EVENT=events/<file>.json`: it builds the bootstrap for this machine
// with the Makefile's rule (the one sam build uses), runs it under a local Lambda Runtime API, and
// prints the response on stdout. The function's logs go to stderr. It exits 1 when the function
// fails (an error, crash or timeout: not an HTTP error status, which is a response like any other).
//
// The function gets this process's environment plus, unless already set, the local defaults:
// STORE=embedded, DATA_DIR=.data, AUTH_MODE=authorizer, and the issuer, audience and keys that
// signed the sample events' tokens (shared/authorizer/example).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"time"

	"github.com/streamtime/fleet-providers/shared/authorizer/example"
	"github.com/streamtime/fleet-providers/shared/runtimeapi"
	"github.com/streamtime/fleet-providers/shared/runtimeapi/lambdafn"
)

func main() {
	name := flag.String("fn", "", "function: a folder under functions/")
	eventFile := flag.String("event", "", "event file, e.g. events/get.json")
	timeout := flag.Duration("timeout", 30*time.Second, "invocation timeout")
	flag.Parse()
	if *name == "" || *eventFile == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: invoke -fn <function> -event events/<file>.json [-timeout 30s]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out, err := run(ctx, *name, *eventFile, *timeout)
	var fe *runtimeapi.FunctionError
	switch {
	case errors.As(err, &fe):
		// The error document, as `sam local invoke` prints it.
		fmt.Printf("{\"errorType\":%q,\"errorMessage\":%q}\n", fe.Type, fe.Message)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(2)
	}
	fmt.Printf("%s\n", out)
}

func run(ctx context.Context, name, eventFile string, timeout time.Duration) ([]byte, error) {
	event, err := os.ReadFile(eventFile)
	if err != nil {
		return nil, err
	}
	root, err := lambdafn.Root()
	if err != nil {
		return nil, err
	}
	names, err := lambdafn.Names(root)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(names, name) {
		return nil, fmt.Errorf("no function %q: one of %v", name, names)
	}
	dir, err := os.MkdirTemp("", "invoke-"+name)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bootstrap, err := lambdafn.Build(ctx, root, name, lambdafn.Host(), dir, os.Stderr)
	if err != nil {
		return nil, err
	}
	env, err := environment(root)
	if err != nil {
		return nil, err
	}
	return runtimeapi.Invoke(ctx, runtimeapi.Function{
		Bootstrap: bootstrap,
		Name:      lambdafn.LogicalID(name),
		Env:       env,
		Timeout:   timeout,
		Region:    os.Getenv("AWS_REGION"),
		Stdout:    os.Stderr,
		Stderr:    os.Stderr,
	}, event)
}

// environment is this process's environment with the local defaults filled in. DATA_DIR is made
// absolute: the function runs in its bootstrap's directory, as in Lambda.
func environment(root string) ([]string, error) {
	env := os.Environ()
	set := func(k, v string) {
		if _, ok := os.LookupEnv(k); !ok {
			env = append(env, k+"="+v)
		}
	}
	set("STORE", "embedded")
	set("AUTH_MODE", "authorizer")
	dataDir := os.Getenv("DATA_DIR")
	if dataDir == "" {
		dataDir = ".data"
	}
	if !filepath.IsAbs(dataDir) {
		dataDir = filepath.Join(root, dataDir)
	}
	env = append(env, "DATA_DIR="+dataDir)
	// The token settings go together: either all the caller's, or the sample events' issuer.
	if os.Getenv("AUTH_ISSUER") == "" && os.Getenv("AUTH_AUDIENCE") == "" && os.Getenv("AUTH_JWKS") == "" {
		env = append(env, "AUTH_ISSUER="+example.Issuer, "AUTH_AUDIENCE="+example.Audience, "AUTH_JWKS="+string(example.JWKS))
	}
	return env, nil
}
