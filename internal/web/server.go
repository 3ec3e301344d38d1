// Package web serves batchlens over HTTP: the JSON API (see query.Dashboard
// and query.List for the bodies), health and readiness probes, and, through
// WithHandler, the Prometheus /metrics endpoint and the UI.
//
// Routes:
//
//	GET /api/v1/dashboards        the dashboards' layout (query.List)
//	GET /api/v1/dashboards/{id}   one computed dashboard (query.Dashboard); parameters as query.ParseParams
//	GET /api/v1/dashboards/{id}/widgets/{widget}/items
//	                              the runs, pods or events behind a widget's number (query.Items);
//	                              the dashboard's parameters, and series= for a widget with several
//	GET /api/v1/runs/{cluster}/{uid}                    a run, its pods and evidence (query.RunDetail)
//	GET /api/v1/pods/{cluster}/{uid}                    a pod and its evidence (query.PodDetail)
//	GET /api/v1/cronjobs/{cluster}/{namespace}/{name}   a CronJob over last= or from=/to= (query.CronJobDetail)
//	GET /healthz                  200 "ok" while the process serves
//	GET /readyz                   200 "ok" once WithReady's func returns nil, else 503
//
// Every error is JSON {"error": "…"} with a status that says whose fault it
// is: 400 for bad parameters, 404 for an unknown path, dashboard, widget,
// run or pod, 405 with
// an Allow header for a wrong method, 503 for a timeout or before readiness,
// and 500 only when the store fails (logged, with a generic message).
package web

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/batchlens/batchlens/internal/query"
)

// DefaultQueryTimeout bounds how long one dashboard request may query the store.
const DefaultQueryTimeout = 30 * time.Second

// Option configures New.
type Option func(*server)

// WithReady sets the readiness check behind /readyz: ready while f returns
// nil (for example once the watch caches have synced). Without it the
// server is ready from the start.
func WithReady(f func() error) Option {
	return func(s *server) { s.ready = f }
}

// WithHandler mounts h at pattern (http.ServeMux syntax, for example
// "GET /metrics" or "GET /" for the UI), behind the same security headers
// and request log as the API. Paths under /api/ and the probes always go
// to the server's own routes. Without a handler for "/" or "GET /", paths
// the server does not know get a 404 JSON error. New panics, as
// http.ServeMux does, when two mounted patterns conflict.
func WithHandler(pattern string, h http.Handler) Option {
	return func(s *server) { s.mounts = append(s.mounts, mount{pattern, h}) }
}

// WithQueryTimeout bounds how long one dashboard request may query the
// store (DefaultQueryTimeout when not given); past it the answer is 503.
func WithQueryTimeout(d time.Duration) Option {
	return func(s *server) { s.queryTimeout = d }
}

type mount struct {
	pattern string
	handler http.Handler
}

type server struct {
	engine       *query.Engine
	log          *slog.Logger
	ready        func() error
	mounts       []mount
	queryTimeout time.Duration
}

// New returns the HTTP handler of batchlens, answering from e and logging
// to log (nothing when nil). Requests are logged at debug level.
func New(e *query.Engine, log *slog.Logger, opts ...Option) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{engine: e, log: log, queryTimeout: DefaultQueryTimeout}
	for _, o := range opts {
		o(s)
	}

	// Own routes are registered without a method (methods are checked by
	// allow, for a JSON 405) on a mux of their own, so that mounted
	// patterns such as "GET /" cannot conflict with them.
	own := http.NewServeMux()
	own.Handle("/api/v1/dashboards", s.api(s.listDashboards, http.MethodGet))
	own.Handle("/api/v1/dashboards/{id}", s.api(s.getDashboard, http.MethodGet))
	own.Handle("/api/v1/dashboards/{id}/widgets/{widget}/items", s.api(s.getItems, http.MethodGet))
	own.Handle("/api/v1/runs/{cluster}/{uid}", s.api(s.getRun, http.MethodGet))
	own.Handle("/api/v1/pods/{cluster}/{uid}", s.api(s.getPod, http.MethodGet))
	own.Handle("/api/v1/cronjobs/{cluster}/{namespace}/{name}", s.api(s.getCronJob, http.MethodGet))
	own.Handle("/api/", s.api(notFound)) // any other API path, any method
	own.Handle("/healthz", allow(http.HandlerFunc(s.healthz), http.MethodGet))
	own.Handle("/readyz", allow(http.HandlerFunc(s.readyz), http.MethodGet))

	mounted := http.NewServeMux()
	root := false
	for _, m := range s.mounts {
		mounted.Handle(m.pattern, m.handler)
		path := m.pattern
		if _, p, ok := strings.Cut(path, " "); ok {
			path = p // "GET /" mounts the root too
		}
		root = root || path == "/"
	}
	if !root {
		mounted.Handle("/{$}", allow(http.HandlerFunc(index), http.MethodGet))
		mounted.Handle("/", s.api(notFound))
	}

	route := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" {
			own.ServeHTTP(w, r)
			return
		}
		mounted.ServeHTTP(w, r)
	})
	return s.logRequests(securityHeaders(route))
}

// indexText is the root page until a UI is mounted: where to look instead.
const indexText = `batchlens: the dashboards' JSON API is served here; the browser UI is not part of this build.

  GET /api/v1/dashboards                                    the dashboards and their widgets
  GET /api/v1/dashboards/leadership?last=24h                Leadership (last=15m|1h|24h|7d|30d, or from=&to= RFC 3339)
  GET /api/v1/dashboards/engineering?last=24h&namespace=NS  Engineering (filters: cluster, namespace, cronjob)
  GET /healthz, GET /readyz
`

func index(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, indexText) }

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(); err != nil {
			s.log.DebugContext(r.Context(), "not ready", "err", err)
			writeError(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	writeText(w, http.StatusOK, "ok\n")
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// contentSecurityPolicy lets a page load scripts, styles and data from
// this server only: no inline script, no plugin, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets headers that make every response safe to open in a
// browser, including the UI to come.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// allow answers 405 with an Allow header to methods other than methods
// (GET also allows HEAD).
func allow(next http.Handler, methods ...string) http.Handler {
	allowed := map[string]bool{}
	var list []string
	for _, m := range methods {
		allowed[m] = true
		list = append(list, m)
		if m == http.MethodGet {
			allowed[http.MethodHead] = true
			list = append(list, http.MethodHead)
		}
	}
	allowHeader := strings.Join(list, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[r.Method] {
			w.Header().Set("Allow", allowHeader)
			writeError(w, http.StatusMethodNotAllowed, "method not allowed; use "+allowHeader)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// logRequests logs each request at debug level once it is answered.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.DebugContext(r.Context(), "http request",
			"method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery,
			"status", rec.status, "bytes", rec.bytes, "duration", time.Since(start))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
