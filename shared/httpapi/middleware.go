package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/streamtime/fleet-providers/shared/logging"
)

type requestIDKey struct{}

// reqInfo collects what routing learns (route, org, provider id) for the request's log line.
type reqInfo struct{ attrs []any }

type reqInfoKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// annotate adds key/value pairs to the request's logger and to its closing log line.
func annotate(r *http.Request, args ...any) *http.Request {
	if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		info.attrs = append(info.attrs, args...)
	}
	return r.WithContext(logging.Attrs(r.Context(), args...))
}

// RequestIDFunc finds the request id the platform assigned (API Gateway's), or "".
type RequestIDFunc func(r *http.Request) string

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// observe gives each request an id and a logger carrying it, recovers panics as 500 problems
// (without their value, which could hold anything), and logs one line per request.
func (a *API) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := ""
		if a.opts.RequestID != nil {
			id = a.opts.RequestID(r)
		}
		if id == "" {
			id = newRequestID()
		}
		info := &reqInfo{}
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		ctx = context.WithValue(ctx, reqInfoKey{}, info)
		ctx = logging.With(ctx, a.log.With("request_id", id))
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if rec := recover(); rec != nil {
				logging.From(ctx).Error("panic serving request", append([]any{"method", r.Method}, info.attrs...)...)
				if sw.status == 0 {
					writeProblem(sw, r, problemFor(nil))
				}
			}
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			attrs := append([]any{"method", r.Method, "status", sw.status, "duration_ms", time.Since(start).Milliseconds()}, info.attrs...)
			logging.From(ctx).Log(ctx, level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}
