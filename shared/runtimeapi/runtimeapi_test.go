package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/streamtime/fleet-providers/shared/runtimeapi"
)

// The test binary doubles as the bootstrap: with modeVar set it behaves as the function below,
// through the real aws-lambda-go runtime client.
const modeVar = "RUNTIMEAPI_TEST_FUNCTION"

func TestMain(m *testing.M) {
	if mode := os.Getenv(modeVar); mode != "" {
		function(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type echo struct {
	Event     json.RawMessage   `json:"event"`
	RequestID string            `json:"request_id"`
	ARN       string            `json:"arn"`
	Deadline  int64             `json:"deadline_ms"`
	TraceID   string            `json:"trace_id"`
	Env       map[string]string `json:"env"`
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		return 0, errors.New("stream broke")
	}
	r.n = copy(p, "partial")
	return r.n, nil
}

func function(mode string) {
	switch mode {
	case "echo":
		lambda.Start(func(ctx context.Context, ev json.RawMessage) (echo, error) {
			lc, _ := lambdacontext.FromContext(ctx)
			dl, _ := ctx.Deadline()
			env := map[string]string{}
			for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "_HANDLER", "GREETING", "RUNTIMEAPI_TEST_LEAK"} {
				env[k] = os.Getenv(k)
			}
			return echo{ev, lc.AwsRequestID, lc.InvokedFunctionArn, dl.UnixMilli(), os.Getenv("_X_AMZN_TRACE_ID"), env}, nil
		})
	case "fail":
		lambda.Start(func() error { return errors.New("boom") })
	case "panic":
		lambda.Start(func() error { panic("kaboom") })
	case "crash":
		lambda.Start(func() error { os.Exit(7); return nil })
	case "sleep":
		lambda.Start(func() error { time.Sleep(5 * time.Second); return nil })
	case "big":
		lambda.Start(func() (string, error) { return strings.Repeat("x", runtimeapi.MaxResponseBytes), nil })
	case "stream-error":
		lambda.Start(func() (io.Reader, error) { return &failingReader{}, nil })
	case "exit-at-init":
		os.Exit(3)
	case "init-error":
		// What a runtime does when its own set-up fails: report it, then exit.
		api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
		resp, err := http.Post("http://"+api+"/2018-06-01/runtime/init/error", "application/json",
			strings.NewReader(`{"errorType":"Runtime.ConfigError","errorMessage":"TABLE_NAME is required"}`))
		if err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	}
}

func fn(t *testing.T, mode string) runtimeapi.Function {
	t.Helper()
	var logs bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("function output:\n%s", logs.String())
		}
	})
	return runtimeapi.Function{Bootstrap: os.Args[0], Name: "probe", Env: []string{modeVar + "=" + mode, "GREETING=hi"},
		Timeout: 2 * time.Second, Stdout: &logs, Stderr: &logs}
}

func TestInvokeHandsOverEventAndMetadata(t *testing.T) {
	t.Setenv("RUNTIMEAPI_TEST_LEAK", "from the test process")
	ctx := context.Background()
	p, err := runtimeapi.Start(ctx, fn(t, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if d := p.InitDuration(); d <= 0 || d > 10*time.Second {
		t.Fatalf("init duration %s", d)
	}
	var ids []string
	for i := 0; i < 2; i++ { // the same process serves the next invocation too
		before := time.Now()
		out, err := p.Invoke(ctx, []byte(`{"n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		var got echo
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if string(got.Event) != `{"n":1}` {
			t.Errorf("event %s", got.Event)
		}
		if got.ARN != "arn:aws:lambda:us-east-1:000000000000:function:probe" {
			t.Errorf("invoked function ARN %q", got.ARN)
		}
		if dl := time.UnixMilli(got.Deadline); dl.Before(before.Add(1900*time.Millisecond)) || dl.After(time.Now().Add(2*time.Second)) {
			t.Errorf("deadline %s is not the 2 s timeout from now", dl)
		}
		if !strings.HasPrefix(got.TraceID, "Root=1-") {
			t.Errorf("trace id %q", got.TraceID)
		}
		want := map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "probe", "AWS_REGION": "us-east-1", "_HANDLER": "bootstrap", "GREETING": "hi", "RUNTIMEAPI_TEST_LEAK": ""}
		for k, v := range want {
			if got.Env[k] != v {
				t.Errorf("env %s=%q, want %q", k, got.Env[k], v)
			}
		}
		ids = append(ids, got.RequestID)
	}
	if ids[0] == "" || ids[0] == ids[1] {
		t.Fatalf("request ids %q", ids)
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		mode, errType, message string
		init                   bool
	}{
		{mode: "fail", errType: "errorString", message: "boom"},
		{mode: "panic", errType: "string", message: "kaboom"},
		{mode: "crash", errType: "Runtime.ExitError", message: "exit status 7"},
		{mode: "sleep", errType: "Sandbox.Timedout", message: "Task timed out after 0.50 seconds"},
		{mode: "big", errType: "Function.ResponseSizeTooLarge", message: "exceeded"},
		{mode: "stream-error", errType: "errorString", message: "stream broke"},
		{mode: "exit-at-init", errType: "Runtime.ExitError", message: "exit status 3", init: true},
		{mode: "init-error", errType: "Runtime.ConfigError", message: "TABLE_NAME is required", init: true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			f := fn(t, tc.mode)
			f.Timeout = 500 * time.Millisecond
			_, err := runtimeapi.Invoke(context.Background(), f, []byte(`{}`))
			var fe *runtimeapi.FunctionError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FunctionError, got %v", err)
			}
			if fe.Type != tc.errType || !strings.Contains(fe.Message, tc.message) || fe.Init != tc.init {
				t.Fatalf("got %+v, want type %s, message containing %q, init %v", fe, tc.errType, tc.message, tc.init)
			}
		})
	}
}

// After a panic aws-lambda-go reports the error and exits; after a timeout the process is killed.
// Either way the environment is gone, as in Lambda.
func TestDeadAfterPanicOrTimeout(t *testing.T) {
	for _, mode := range []string{"panic", "sleep"} {
		t.Run(mode, func(t *testing.T) {
			f := fn(t, mode)
			f.Timeout = 300 * time.Millisecond
			p, err := runtimeapi.Start(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if _, err := p.Invoke(context.Background(), []byte(`{}`)); err == nil {
				t.Fatal("first invocation succeeded")
			}
			_, err = p.Invoke(context.Background(), []byte(`{}`))
			var fe *runtimeapi.FunctionError
			if err == nil || errors.As(err, &fe) {
				t.Fatalf("second invocation: want a harness error, got %v", err)
			}
		})
	}
}
