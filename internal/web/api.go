package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/batchlens/batchlens/internal/dashboard"
	"github.com/batchlens/batchlens/internal/query"
)

// apiFunc answers an API request with a body to send as JSON, or an error
// that fail turns into a status and an {"error"} body.
type apiFunc func(r *http.Request) (any, error)

// httpError is an error whose status and message are fit for the client.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// api wraps f: it writes f's answer as JSON, or its error. With methods, it
// also answers other methods with 405.
func (s *server) api(f apiFunc, methods ...string) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		body, err := json.Marshal(v)
		if err != nil {
			s.fail(w, r, fmt.Errorf("encode response: %w", err))
			return
		}
		writeJSON(w, http.StatusOK, append(body, '\n'))
	})
	if len(methods) == 0 {
		return h
	}
	return allow(h, methods...)
}

// fail answers err with the status it calls for. Only failures of the
// server itself are 500; they are logged and their detail stays in the log.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		he *httpError
		pe *query.ParamError
	)
	switch {
	case errors.As(err, &he):
		writeError(w, he.status, he.msg)
	case errors.As(err, &pe):
		writeError(w, http.StatusBadRequest, pe.Error())
	case errors.Is(err, query.ErrUnknownDashboard), errors.Is(err, query.ErrUnknownWidget), errors.Is(err, query.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		s.log.DebugContext(r.Context(), "request canceled", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusServiceUnavailable, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(r.Context(), "query timed out", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
		writeError(w, http.StatusServiceUnavailable, "query timed out")
	default:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
			"query", r.URL.RawQuery, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg}) // a struct of one string always encodes
	writeJSON(w, status, append(body, '\n'))
}

func notFound(r *http.Request) (any, error) {
	return nil, &httpError{http.StatusNotFound, "not found"}
}

// params parses r's query string, refusing malformed encodings that
// r.URL.Query would silently drop.
func params(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &query.ParamError{Msg: "malformed query string: " + err.Error()}
	}
	return v, nil
}

func (s *server) listDashboards(r *http.Request) (any, error) {
	v, err := params(r)
	if err != nil {
		return nil, err
	}
	if len(v) > 0 {
		var keys []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			keys = append(keys, quote(k))
		}
		return nil, &query.ParamError{Msg: "unknown parameter " + strings.Join(keys, ", ") + " (this endpoint takes none)"}
	}
	return s.engine.List(), nil
}

func (s *server) getDashboard(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if _, ok := dashboard.Get(id); !ok {
		return nil, fmt.Errorf("%w %s", query.ErrUnknownDashboard, quote(id))
	}
	v, err := params(r)
	if err != nil {
		return nil, err
	}
	p, err := query.ParseParams(v, s.engine.Now())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.queryTimeout)
	defer cancel()
	return s.engine.Dashboard(ctx, id, p)
}

// quote quotes client input for an error message, cut to a readable length.
func quote(s string) string {
	const max = 64
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}
