package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// InstallDynamoDBLocal is the command that installs DynamoDB Local where the launcher looks.
const InstallDynamoDBLocal = "bash .ci/dynamodb-local/install.sh"

// dynamoDBLocalDir is where install.sh puts DynamoDB Local: $DYNAMODB_LOCAL_DIR or
// .emulators/dynamodb-local under the repository root.
func dynamoDBLocalDir() string {
	if d := os.Getenv("DYNAMODB_LOCAL_DIR"); d != "" {
		return d
	}
	return filepath.Join(Root(), ".emulators", "dynamodb-local")
}

// StartDynamoDB starts DynamoDB Local in memory on a free loopback port. It runs through
// .ci/dynamodb-local/LoopbackServerRunner, which binds it to 127.0.0.1: DynamoDB Local itself
// has no host option and would listen on every interface.
func StartDynamoDB() (*Server, error) {
	dir := dynamoDBLocalDir()
	if _, err := os.Stat(filepath.Join(dir, "classes", "LoopbackServerRunner.class")); err != nil {
		return nil, fmt.Errorf("DynamoDB Local is not installed in %s: run `%s` from the repository root", dir, InstallDynamoDBLocal)
	}
	java := "java"
	if home := os.Getenv("JAVA_HOME"); home != "" {
		java = filepath.Join(home, "bin", "java")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(java,
			"-Djava.library.path="+dir,
			"-Dsqlite4java.library.path="+dir,
			"-Ddynamodb.local.host=127.0.0.1",
			"-cp", filepath.Join(dir, "*")+string(os.PathListSeparator)+filepath.Join(dir, "classes"),
			"LoopbackServerRunner",
			"-inMemory", "-disableTelemetry", "-port", strconv.Itoa(port))
		out := &capped{max: 16 << 10}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start DynamoDB Local (%s): %w", java, err)
		}
		s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
		// Watching for an early exit (port taken, bad Java) saves waiting out the deadline.
		// Stop's own Wait after this one just returns an error, which it ignores.
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		// Any HTTP answer (DynamoDB Local answers GET / with 400) means it is serving.
		if lastErr = waitServing(s.Endpoint, exited, 60*time.Second); lastErr == nil {
			return s, nil
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%w; output:\n%s", lastErr, out.String())
	}
	return nil, fmt.Errorf("DynamoDB Local did not become ready: %w", lastErr)
}

func waitServing(url string, exited <-chan struct{}, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited")
		case <-ctx.Done():
			return fmt.Errorf("not serving after %s", limit)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// shared holds the emulators started once per test binary, when its TestMain uses Main.
var shared struct {
	sync.Mutex
	inMain bool
	ddb    *Server
	ddbErr error
}

// Main runs a test binary's tests and then stops the emulators they shared. With it, DynamoDB
// starts one DynamoDB Local per test binary instead of one per test (the JVM takes seconds):
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	shared.Lock()
	shared.inMain = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	shared.ddb.Stop()
	shared.ddb = nil
	shared.Unlock()
	return code
}

// DynamoDB returns the endpoint of a running DynamoDB Local: the test binary's shared one when
// its TestMain uses Main, else one started for this test and stopped when it ends. Tests sharing
// one should use their own tables. It fails the test, never skips it, when DynamoDB Local cannot
// run; the failure names the install command.
func DynamoDB(tb testing.TB) string {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.inMain {
		if shared.ddb == nil && shared.ddbErr == nil {
			shared.ddb, shared.ddbErr = StartDynamoDB()
		}
		if shared.ddbErr != nil {
			tb.Fatalf("DynamoDB Local emulator: %v", shared.ddbErr)
		}
		return shared.ddb.Endpoint
	}
	s, err := StartDynamoDB()
	if err != nil {
		tb.Fatalf("DynamoDB Local emulator: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s.Endpoint
}

// AWSConfig is an SDK configuration for an emulator at endpoint: fixed test credentials and
// region, so nothing from the environment (profiles, real keys) can reach a test.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// capped keeps the first max bytes written to it, for error messages.
type capped struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
