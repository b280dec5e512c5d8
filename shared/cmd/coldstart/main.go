// Command coldstart is the cold-start benchmark behind `make bench`. It builds every function and
// a hello-world aws-lambda-go function with the Makefile's flags for linux/amd64, starts each many
// times under the local Runtime API with the environment it is deployed with, and prints a table
// of binary size and the time from process start to the first request for an event (the init
// phase Lambda bills and callers wait for), with its ratio to hello-world in the same run.
//
// It is a report, not a test: it exits 0 whatever the numbers, and marks misses of the goals.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/streamtime/fleet-providers/shared/authorizer/example"
	"github.com/streamtime/fleet-providers/shared/runtimeapi"
	"github.com/streamtime/fleet-providers/shared/runtimeapi/lambdafn"
)

const baseline = "hello-world"

// goal is a function's cold-start budget: at most ratio × hello-world and, if set, maxBytes.
type goal struct {
	ratio    float64
	maxBytes int64
}

// Goals per function. The authorizer precedes every request's first call, so it gets the CRUD bar;
// scheduled functions (dispatcher) have no caller waiting and no goal.
var goals = map[string]goal{
	"create": {2.5, 9_500_000}, "get": {2.5, 9_500_000}, "list": {2.5, 9_500_000},
	"update": {2.5, 9_500_000}, "delete": {2.5, 9_500_000}, "authorizer": {2.5, 9_500_000},
	"validate": {4.5, 0}, "worker": {4.5, 0},
}

// env is what every function is started with: the template's settings with STORE=aws, and
// credentials in the environment as Lambda provides them. Nothing here reaches AWS at init.
var env = []string{
	"STORE=aws", "TABLE_NAME=coldstart", "SECRET_PREFIX=streamtime/fleet-providers", "SECRET_RECOVERY_DAYS=7",
	"AUTH_MODE=authorizer", "LOG_LEVEL=info", "VALIDATE_TIMEOUT=24s",
	"AUTH_ISSUER=" + example.Issuer, "AUTH_AUDIENCE=" + example.Audience, "AUTH_JWKS=" + string(example.JWKS),
	"REVALIDATE_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/000000000000/coldstart",
	"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"AWS_SESSION_TOKEN=coldstart",
}

type subject struct {
	name     string
	run      string // bootstrap started for timing (host build)
	size     int64  // of the linux/amd64 build
	samples  []time.Duration
	startErr error
}

func main() {
	n := flag.Int("n", 20, "starts per binary")
	only := flag.String("functions", "", "comma-separated functions (default: all)")
	flag.Parse()
	if err := run(*n, *only, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(n int, only string, out io.Writer) error {
	ctx := context.Background()
	root, err := lambdafn.Root()
	if err != nil {
		return err
	}
	names, err := lambdafn.Names(root)
	if err != nil {
		return err
	}
	if only != "" {
		names = strings.Split(only, ",")
	}
	tmp, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Sizes are of linux/amd64 builds, for comparability; timing runs the host's build, the same
	// binary when the host is linux/amd64.
	sized := lambdafn.Target{OS: "linux", Arch: "amd64"}
	host := lambdafn.Host()
	host.Local = false // measure what is deployed
	build := func(name string, t lambdafn.Target) (string, error) {
		dir := filepath.Join(tmp, t.OS+"-"+t.Arch, name)
		if name == baseline {
			return lambdafn.BuildPackage(ctx, root, "./shared/cmd/coldstart/hello", t, dir, nil)
		}
		return lambdafn.Build(ctx, root, name, t, dir, nil)
	}
	var subjects []*subject
	for _, name := range append([]string{baseline}, names...) {
		fmt.Fprintf(os.Stderr, "building %s\n", name)
		s := &subject{name: name}
		p, err := build(name, sized)
		if err != nil {
			return err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		s.size, s.run = fi.Size(), p
		if host != sized {
			if s.run, err = build(name, host); err != nil {
				return err
			}
		}
		subjects = append(subjects, s)
	}

	// One unmeasured start each warms the page cache; then rounds in a fresh random order, so
	// drift in the machine's load falls on every binary alike.
	for round := -1; round < n; round++ {
		fmt.Fprintf(os.Stderr, "\rround %d/%d", round+1, n)
		order := slices.Clone(subjects)
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, s := range order {
			if s.startErr != nil {
				continue
			}
			d, err := coldStart(ctx, s)
			if err != nil {
				s.startErr = err
				continue
			}
			if round >= 0 {
				s.samples = append(s.samples, d)
			}
		}
	}
	fmt.Fprintln(os.Stderr)
	report(out, subjects, n)
	return nil
}

func coldStart(ctx context.Context, s *subject) (time.Duration, error) {
	p, err := runtimeapi.Start(ctx, runtimeapi.Function{Bootstrap: s.run, Name: s.name, Env: env, MemoryMB: 256})
	if err != nil {
		return 0, err
	}
	d := p.InitDuration()
	return d, p.Close()
}

func report(w io.Writer, subjects []*subject, n int) {
	fmt.Fprintf(w, "Cold start: process start → first /next, %d starts each, %s, %d CPUs, %s/%s; sizes of linux/amd64 builds\n\n",
		n, runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\tsize MB\tmedian ms\tp10–p90 ms\t× hello\tgoal\t\t")
	base := median(subjects[0].samples)
	for _, s := range subjects {
		if s.startErr != nil {
			fmt.Fprintf(tw, "%s\t%.2f\t\t\t\t\tinit failed: %v\t\n", s.name, mb(s.size), s.startErr)
			continue
		}
		med := median(s.samples)
		ratio := float64(med) / float64(base)
		g, hasGoal := goals[s.name]
		goalText, verdict := "", ""
		if hasGoal {
			goalText = fmt.Sprintf("≤%.1f×", g.ratio)
			if g.maxBytes > 0 {
				goalText += fmt.Sprintf(", ≤%.1f MB", mb(g.maxBytes))
			}
			var missed []string
			if ratio > g.ratio {
				missed = append(missed, "time")
			}
			if g.maxBytes > 0 && s.size > g.maxBytes {
				missed = append(missed, "size")
			}
			verdict = "ok"
			if len(missed) > 0 {
				verdict = "MISS " + strings.Join(missed, "+")
			}
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f–%.2f\t%.2f\t%s\t%s\t\n", s.name, mb(s.size), ms(med),
			ms(percentile(s.samples, 10)), ms(percentile(s.samples, 90)), ratio, goalText, verdict)
	}
	tw.Flush()
}

func median(d []time.Duration) time.Duration { return percentile(d, 50) }

// percentile is the nearest-rank percentile.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(b int64) float64         { return float64(b) / 1e6 }
