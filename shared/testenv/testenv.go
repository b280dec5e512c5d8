// Package testenv starts the local AWS emulators tests run against: moto server (from the
// project's .venv) and DynamoDB Local. An emulator that cannot start fails the test; it is never
// skipped, so CI cannot pass without having exercised the real backends.
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// Root returns the repository root (the directory holding go.mod).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Server is a running emulator process.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
}

// Stop ends the process.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_, _ = s.cmd.Process.Wait()
}

// motoBinary finds moto_server: $MOTO_SERVER, the project's .venv, then PATH.
func motoBinary() (string, error) {
	if p := os.Getenv("MOTO_SERVER"); p != "" {
		return p, nil
	}
	venv := filepath.Join(Root(), ".venv", "bin", "moto_server")
	if _, err := os.Stat(venv); err == nil {
		return venv, nil
	}
	p, err := exec.LookPath("moto_server")
	if err != nil {
		return "", fmt.Errorf("moto_server not found: run `make venv` (installs moto[server] into .venv)")
	}
	return p, nil
}

// StartMoto starts a fresh moto server on a free loopback port with extra environment entries
// (e.g. "INITIAL_NO_AUTH_ACTION_COUNT=5" to enforce SigV4 and IAM policies).
func StartMoto(env ...string) (*Server, error) {
	bin, err := motoBinary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start moto_server: %w", err)
		}
		s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
		if lastErr = waitHTTP(s.Endpoint+"/moto-api/", 30*time.Second); lastErr == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, fmt.Errorf("moto_server did not become ready: %w", lastErr)
}

// Moto starts a moto server for one test and stops it when the test ends.
func Moto(tb testing.TB, env ...string) string {
	tb.Helper()
	s, err := StartMoto(env...)
	if err != nil {
		tb.Fatalf("moto emulator: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s.Endpoint
}

func waitHTTP(url string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var lastErr error
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	return lastErr
}

// ClosedAddr is a loopback address nothing listens on, for "provider unreachable" tests. It is a
// privileged port no test binds: a free port picked and closed could be taken meanwhile by an
// emulator another test package starts on a free port, and answer.
const ClosedAddr = "127.0.0.1:1"
