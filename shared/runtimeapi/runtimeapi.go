// Package runtimeapi runs a real Lambda bootstrap locally: it serves the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) on loopback, starts the
// bootstrap with AWS_LAMBDA_RUNTIME_API pointing at it, and hands it events one at a time, the way
// the Lambda service does. No Docker and no emulator image: the bootstrap is the binary SAM deploys,
// built for the host.
package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Lambda's limits that the local API enforces too.
const (
	DefaultTimeout     = 3 * time.Second  // a function's default timeout
	DefaultInitTimeout = 10 * time.Second // init phase limit
	MaxResponseBytes   = 6 << 20          // synchronous response payload limit
)

// Function is a bootstrap to run and the settings Lambda would give it.
type Function struct {
	// Bootstrap is the executable (a provided.* runtime's bootstrap).
	Bootstrap string
	// Name is the function name in AWS_LAMBDA_FUNCTION_NAME and the invoked ARN (default "local").
	Name string
	// Env is the function's environment ("KEY=value"). Nothing of this process's environment is
	// passed on; the variables Lambda sets itself (AWS_LAMBDA_*, _HANDLER, ...) are added and win.
	Env []string
	// Dir is the working directory (default: the bootstrap's directory, as LAMBDA_TASK_ROOT).
	Dir string
	// Timeout limits each invocation (default DefaultTimeout), InitTimeout the start-up
	// (default DefaultInitTimeout).
	Timeout, InitTimeout time.Duration
	// MemoryMB is reported in AWS_LAMBDA_FUNCTION_MEMORY_SIZE (default 128); nothing enforces it.
	MemoryMB int
	// Region is AWS_REGION (default us-east-1).
	Region string
	// Stdout and Stderr receive the function's output, its logs (default: discarded).
	Stdout, Stderr io.Writer
}

// FunctionError is an invocation or init that failed the way Lambda reports it: the error the
// function posted (errorType, errorMessage, stackTrace), or Lambda's own for a runtime that exited
// (Runtime.ExitError) or ran out of time (Sandbox.Timedout).
type FunctionError struct {
	Type       string          `json:"errorType"`
	Message    string          `json:"errorMessage"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
	// Init is true for a failure before the function asked for its first event.
	Init bool `json:"-"`
}

func (e *FunctionError) Error() string {
	if e.Init {
		return "init: " + e.Type + ": " + e.Message
	}
	return e.Type + ": " + e.Message
}

// Process is a running bootstrap and the Runtime API it talks to. It serves one invocation at a
// time; after a timeout or a crash it is dead, as a Lambda execution environment would be.
type Process struct {
	fn      Function
	cmd     *exec.Cmd
	srv     *http.Server
	started time.Time

	ready     chan struct{} // closed at the first /next
	readyOnce sync.Once
	readyAt   time.Time
	exited    chan struct{} // closed when the bootstrap has exited
	exitErr   error

	queue chan *invocation // an invocation waiting for /next

	mu       sync.Mutex
	current  *invocation    // handed out by /next, not answered yet
	initErr  *FunctionError // posted to /init/error
	initFail chan struct{}  // closed when initErr is set
	closed   bool
}

type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	done     chan result // buffered: the handler never blocks on it
}

type result struct {
	payload []byte
	err     *FunctionError
}

// Start serves the Runtime API, starts the bootstrap and waits for the end of its init phase: its
// first request for an event. An init failure is a *FunctionError with Init set.
func Start(ctx context.Context, fn Function) (*Process, error) {
	if fn.Name == "" {
		fn.Name = "local"
	}
	if fn.Timeout <= 0 {
		fn.Timeout = DefaultTimeout
	}
	if fn.InitTimeout <= 0 {
		fn.InitTimeout = DefaultInitTimeout
	}
	if fn.MemoryMB <= 0 {
		fn.MemoryMB = 128
	}
	if fn.Region == "" {
		fn.Region = "us-east-1"
	}
	bootstrap, err := filepath.Abs(fn.Bootstrap)
	if err != nil {
		return nil, err
	}
	if fn.Dir == "" {
		fn.Dir = filepath.Dir(bootstrap)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Process{
		fn:       fn,
		ready:    make(chan struct{}),
		exited:   make(chan struct{}),
		queue:    make(chan *invocation),
		initFail: make(chan struct{}),
	}
	p.srv = &http.Server{Handler: p.routes(), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(l) //nolint:errcheck // returns when Close shuts the server down

	p.cmd = exec.Command(bootstrap)
	p.cmd.Dir = fn.Dir
	p.cmd.Env = append(append([]string{}, fn.Env...), lambdaEnv(fn, l.Addr().String(), filepath.Dir(bootstrap))...)
	p.cmd.Stdout, p.cmd.Stderr = orDiscard(fn.Stdout), orDiscard(fn.Stderr)
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		p.srv.Close()
		return nil, err
	}
	go func() {
		p.exitErr = p.cmd.Wait()
		close(p.exited)
	}()

	timer := time.NewTimer(fn.InitTimeout)
	defer timer.Stop()
	var ierr *FunctionError
	select {
	case <-p.ready:
		return p, nil
	case <-p.initFail:
		p.mu.Lock()
		ierr = p.initErr
		p.mu.Unlock()
	case <-p.exited:
		ierr = &FunctionError{Type: "Runtime.ExitError", Message: "Runtime exited before init completed: " + exitStatus(p.exitErr)}
	case <-timer.C:
		ierr = &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("Init phase did not complete within %s", fn.InitTimeout)}
	case <-ctx.Done():
		p.Close()
		return nil, ctx.Err()
	}
	p.Close()
	ierr.Init = true
	return nil, ierr
}

// InitDuration is the time from starting the bootstrap to its first request for an event.
func (p *Process) InitDuration() time.Duration { return p.readyAt.Sub(p.started) }

// Invoke hands event to the function and returns its response payload. A function error, crash
// or timeout is a *FunctionError; other errors are the harness's own.
func (p *Process) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	inv := &invocation{id: newRequestID(), event: event, deadline: time.Now().Add(p.fn.Timeout), done: make(chan result, 1)}
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	timedOut := func() error {
		p.kill()
		return &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("Task timed out after %.2f seconds", p.fn.Timeout.Seconds())}
	}
	select {
	case p.queue <- inv:
	case <-p.exited:
		return nil, errors.New("runtimeapi: the function's process has exited")
	case <-timer.C:
		return nil, timedOut() // still busy with something else, or never asked again
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-inv.done:
		return r.payload, errOrNil(r.err)
	case <-p.exited:
		// A runtime may post its error and then exit (aws-lambda-go after a panic): the answer
		// it gave wins over the exit.
		select {
		case r := <-inv.done:
			return r.payload, errOrNil(r.err)
		default:
		}
		return nil, &FunctionError{Type: "Runtime.ExitError", Message: "Runtime exited with error: " + exitStatus(p.exitErr)}
	case <-timer.C:
		return nil, timedOut()
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// Close stops the bootstrap and the Runtime API.
func (p *Process) Close() error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if already {
		return nil
	}
	p.kill()
	<-p.exited
	return p.srv.Close()
}

func (p *Process) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// Invoke runs one event through a fresh process of fn: Start, Invoke, Close.
func Invoke(ctx context.Context, fn Function, event []byte) ([]byte, error) {
	p, err := Start(ctx, fn)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Invoke(ctx, event)
}

// ---- the Runtime API -------------------------------------------------------------------------

const (
	prefix = "/2018-06-01/runtime"

	hdrRequestID  = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline   = "Lambda-Runtime-Deadline-Ms"
	hdrFunction   = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID    = "Lambda-Runtime-Trace-Id"
	hdrErrorType  = "Lambda-Runtime-Function-Error-Type"
	trlErrorType  = "Lambda-Runtime-Function-Error-Type" // trailer of a response that failed mid-stream
	trlErrorBody  = "Lambda-Runtime-Function-Error-Body" // its base64 error document
	accountID     = "000000000000"
	accepted      = `{"status":"OK"}`
	invalidID     = `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`
	tooLarge      = `{"errorMessage":"Exceeded maximum allowed payload size (6291456 bytes).","errorType":"RequestEntityTooLarge"}`
	errorTypeSize = "Function.ResponseSizeTooLarge"
)

func (p *Process) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", p.next)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", p.response)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", p.invocationError)
	mux.HandleFunc("POST "+prefix+"/init/error", p.initError)
	return mux
}

// next blocks until there is an event, then hands it out with the invocation's metadata headers.
func (p *Process) next(w http.ResponseWriter, r *http.Request) {
	p.readyOnce.Do(func() {
		p.readyAt = time.Now()
		close(p.ready)
	})
	var inv *invocation
	select {
	case inv = <-p.queue:
	case <-r.Context().Done():
		return
	}
	p.mu.Lock()
	p.current = inv
	p.mu.Unlock()
	h := w.Header()
	h.Set(hdrRequestID, inv.id)
	h.Set(hdrDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(hdrFunction, fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", p.fn.Region, accountID, p.fn.Name))
	h.Set(hdrTraceID, newTraceID())
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.event)
}

// take returns the in-flight invocation id names, and forgets it: it is answered once.
func (p *Process) take(id string) *invocation {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current == nil || p.current.id != id {
		return nil
	}
	inv := p.current
	p.current = nil
	return inv
}

func (p *Process) response(w http.ResponseWriter, r *http.Request) {
	inv := p.take(r.PathValue("id"))
	if inv == nil {
		reply(w, http.StatusBadRequest, invalidID)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	switch {
	case err != nil:
		inv.done <- result{err: &FunctionError{Type: "Runtime.InvalidResponse", Message: "reading the response: " + err.Error()}}
	case len(body) > MaxResponseBytes:
		inv.done <- result{err: &FunctionError{Type: errorTypeSize, Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes)}}
		reply(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	case r.Trailer.Get(trlErrorType) != "":
		// The runtime failed while streaming the body and said so in trailers.
		inv.done <- result{err: decodeError(r.Trailer.Get(trlErrorType), base64Decode(r.Trailer.Get(trlErrorBody)))}
	default:
		inv.done <- result{payload: body}
	}
	reply(w, http.StatusAccepted, accepted)
}

func (p *Process) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := p.take(r.PathValue("id"))
	if inv == nil {
		reply(w, http.StatusBadRequest, invalidID)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes))
	inv.done <- result{err: decodeError(r.Header.Get(hdrErrorType), body)}
	reply(w, http.StatusAccepted, accepted)
}

func (p *Process) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes))
	p.mu.Lock()
	if p.initErr == nil {
		select {
		case <-p.ready:
			p.mu.Unlock()
			reply(w, http.StatusForbidden, `{"errorMessage":"init is over","errorType":"InvalidStateTransition"}`)
			return
		default:
		}
		p.initErr = decodeError(r.Header.Get(hdrErrorType), body)
		close(p.initFail)
	}
	p.mu.Unlock()
	reply(w, http.StatusAccepted, accepted)
}

// decodeError reads an error document ({"errorMessage", "errorType", "stackTrace"}); a body that
// is not one is the message, and the header names the type.
func decodeError(headerType string, body []byte) *FunctionError {
	var e FunctionError
	if json.Unmarshal(body, &e) != nil || (e.Type == "" && e.Message == "") {
		e = FunctionError{Message: string(body)}
	}
	if e.Type == "" {
		e.Type = headerType
	}
	if e.Type == "" {
		e.Type = "Unhandled"
	}
	return &e
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// lambdaEnv is what Lambda sets in every execution environment of a provided.* runtime.
func lambdaEnv(fn Function, api, taskRoot string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=local/[$LATEST]" + newRequestID(),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + fn.Region,
		"AWS_DEFAULT_REGION=" + fn.Region,
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"LAMBDA_RUNTIME_DIR=" + taskRoot,
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin",
	}
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // UUID version 4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID is an X-Ray trace header in the form Lambda passes, not sampled.
func newTraceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:]))
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func base64Decode(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return []byte(s)
	}
	return b
}

func errOrNil(e *FunctionError) error {
	if e == nil {
		return nil
	}
	return e
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
