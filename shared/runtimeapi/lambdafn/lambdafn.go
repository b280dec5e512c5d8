// Package lambdafn ties the folders under functions/ to their SAM resources and builds their
// bootstraps the way `sam build` does: with the Makefile's build-<LogicalId> rule. The local
// invoke command, the benchmark and the deployment tests share it, so all of them run the binary
// that would be deployed (built for the host instead of arm64).
package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"unicode"
)

// LogicalID is the template resource of functions/<name>: create → CreateFunction,
// revalidate-worker → RevalidateWorkerFunction. The Makefile's function_of is its inverse.
func LogicalID(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			continue
		}
		r := []rune(part)
		b.WriteString(string(unicode.ToUpper(r[0])) + string(r[1:]))
	}
	return b.String() + "Function"
}

var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// Name is the folder under functions/ of a template resource, or "" if id does not follow the
// <Name>Function convention.
func Name(id string) string {
	base, ok := strings.CutSuffix(id, "Function")
	if !ok || base == "" {
		return ""
	}
	return strings.ToLower(camel.ReplaceAllString(base, "${1}-${2}"))
}

// Root finds the repository root (the directory holding go.mod) from the working directory up.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the repository: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Names lists the functions: folders under root/functions with a main.go.
func Names(root string) ([]string, error) {
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(mains))
	for i, m := range mains {
		names[i] = filepath.Base(filepath.Dir(m))
	}
	sort.Strings(names)
	return names, nil
}

// Target is the platform to build for.
type Target struct {
	OS, Arch string
	// Local adds what only local runs need (the embedded store, tag fleet_embedded); deployed
	// builds leave it out.
	Local bool
}

// Host is this process's platform, for bootstraps it runs itself on a local store.
func Host() Target { return Target{OS: runtime.GOOS, Arch: runtime.GOARCH, Local: true} }

// Build builds functions/<name> with `make build-<LogicalId>` into dir and returns the bootstrap's
// path. make's output goes to log.
func Build(ctx context.Context, root, name string, t Target, dir string, log io.Writer) (string, error) {
	return makeBootstrap(ctx, root, dir, t, log, "build-"+LogicalID(name))
}

// BuildPackage builds any main package (import path or ./relative to root) with the same flags,
// through `make lambda-bootstrap`.
func BuildPackage(ctx context.Context, root, pkg string, t Target, dir string, log io.Writer) (string, error) {
	return makeBootstrap(ctx, root, dir, t, log, "lambda-bootstrap", "PKG="+pkg)
}

func makeBootstrap(ctx context.Context, root, dir string, t Target, log io.Writer, args ...string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	args = append([]string{"--no-print-directory", "-C", root}, args...)
	args = append(args, "ARTIFACTS_DIR="+dir, "ARCH="+t.Arch, "LAMBDA_OS="+t.OS)
	if t.Local {
		args = append(args, "LOCAL_TAGS=fleet_embedded")
	}
	cmd := exec.CommandContext(ctx, "make", args...)
	var out strings.Builder
	w := io.Writer(&out)
	if log != nil {
		w = io.MultiWriter(&out, log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("make %s: %w\n%s", strings.Join(args[3:], " "), err, out.String())
	}
	return filepath.Join(dir, "bootstrap"), nil
}
