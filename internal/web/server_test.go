package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/dashboard"
	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/query"
	"github.com/batchlens/batchlens/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// stubStore answers the widget queries with made-up but deterministic
// figures; the real computation is tested in internal/query against a real
// store. Its other methods are not implemented and panic.
type stubStore struct {
	store.Store
	err   error // returned by every query
	block bool  // queries wait for their context to end
	calls atomic.Int64
}

func (s *stubStore) answer(ctx context.Context) error {
	s.calls.Add(1)
	if s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.err
}

func (s *stubStore) Count(ctx context.Context, m store.Metric, b store.Buckets, _ store.Filter) ([]int64, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	out := make([]int64, b.N())
	for i := range out {
		out[i] = int64(len(m)*(i+1)) % 3
	}
	return out, nil
}

// stubUsage is a minute of a pod using half a core and 1 GiB.
func stubUsage(i int) store.Usage {
	return store.Usage{CPUNanos: 30e9 * int64(i%2), Window: time.Minute, MemorySeconds: 60 << 30,
		NetRx: 6000, NetErrors: int64(i % 3), PeakMemory: 1 << 30, PeakRatio: 0.5, PeakNanoCores: 5e8}
}

var stubCronJob = store.CronJobKey{Cluster: "prod", Namespace: "ml", CronJob: "train"}

func (s *stubStore) UsageTotals(ctx context.Context, b store.Buckets, _ store.Filter) ([]store.CronJobTotal, error) {
	t := store.CronJobTotal{CronJobKey: stubCronJob}
	for i := range b.N() {
		t.Usage.Add(stubUsage(i))
	}
	return []store.CronJobTotal{t}, s.answer(ctx)
}

func (s *stubStore) UsageByCronJob(ctx context.Context, b store.Buckets, keys []store.CronJobKey) ([]store.CronJobUsage, error) {
	var out []store.CronJobUsage
	for _, k := range keys {
		u := store.CronJobUsage{CronJobKey: k, Sums: make([]store.Usage, b.N())}
		for i := range u.Sums {
			u.Sums[i] = stubUsage(i)
		}
		out = append(out, u)
	}
	return out, s.answer(ctx)
}

func (s *stubStore) UsageByPod(ctx context.Context, b store.Buckets, _ store.Filter, _ int) ([]store.PodUsage, error) {
	p := store.PodUsage{Cluster: "prod", Namespace: "ml", UID: "uid-1", Name: "train-1-x", CronJob: "train",
		CPURequest: 500, MemoryRequest: 1 << 30, MemoryLimit: 2 << 30,
		Sums: make([]store.Usage, b.N()), PeakStorage: make([]int64, b.N()), Samples: make([]int64, b.N())}
	for i := range p.Sums {
		p.Sums[i], p.PeakStorage[i], p.Samples[i] = stubUsage(i), 4096, int64(i%2)*4
	}
	return []store.PodUsage{p}, s.answer(ctx)
}

func (s *stubStore) PendingAt(ctx context.Context, at []time.Time, _ store.Filter) ([]int64, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	out := make([]int64, len(at))
	for i := range out {
		out[i] = int64(i)
	}
	return out, nil
}

func (s *stubStore) TopCronJobs(ctx context.Context, _, _ time.Time, _ store.Filter, _ int) ([]store.CronJobCount, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	return []store.CronJobCount{{Cluster: "prod", Namespace: "ds", CronJob: "etl", Count: 7}, {Cluster: "prod", Namespace: "ds", CronJob: "train", Count: 2}}, nil
}

func (s *stubStore) RecentEvents(ctx context.Context, _, _ time.Time, _ store.Filter, _ int) ([]model.Event, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	return []model.Event{{Cluster: "c1", UID: "e1", Namespace: "ds", InvolvedKind: "Pod", InvolvedName: "etl-1-abc",
		Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container", Count: 3,
		LastSeen: testNow.Add(-2 * time.Minute)}}, nil
}

func (s *stubStore) CountBy(ctx context.Context, k store.Breakdown, b store.Buckets, _ store.Filter) ([]store.KeyCounts, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	counts := make([]int64, b.N())
	for i := range counts {
		counts[i] = int64(len(k)+i) % 2
	}
	return []store.KeyCounts{{Key: string(k) + "-key", Counts: counts}}, nil
}

type fixture struct {
	store *stubStore
	h     http.Handler
	log   *bytes.Buffer
}

func newFixture(t *testing.T, s *stubStore, opts ...Option) fixture {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := query.New(s, func() time.Time { return testNow })
	return fixture{store: s, h: New(e, log, opts...), log: &buf}
}

func (f fixture) do(method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// errorBody checks that rec is a JSON {"error": "…"} and returns the message.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body, err)
	}
	msg, ok := body["error"].(string)
	if !ok || msg == "" || len(body) != 1 {
		t.Errorf(`body = %s, want exactly {"error": "…"}`, rec.Body)
	}
	return msg
}

// TestBadParams sends malformed requests through the real handler: each
// must be a 400 with a JSON error, and none may reach the store.
func TestBadParams(t *testing.T) {
	f := newFixture(t, &stubStore{})
	for _, raw := range []string{
		"last=2h",
		"last=15M",
		"last=1h&from=2025-06-01T10:00:00Z",
		"last=1h&to=2025-06-01T10:00:00Z",
		"to=2025-06-01T10:00:00Z",
		"from=yesterday",
		"from=2025-06-01",
		"from=2025-06-01T10:00:00",
		"from=2025-06-01T10:00:00Z&to=2025-06-01T25:00:00Z",
		"from=2025-06-01T11:00:00Z&to=2025-06-01T10:00:00Z",
		"from=2025-06-01T10:00:00Z&to=2025-06-01T10:00:00Z",
		"from=2024-05-26T12:00:00Z&to=2025-07-01T12:00:00Z", // 401 days
		"foo=bar",
		"last=1h&LAST=1h",
		"cluster=a&cluster=b",
		"cluster=a%00b",
		"namespace=%0D%0Ainjected",
		"cronjob=%7F",
		"cluster=%ff",
		"%ff=1",
		"namespace=" + strings.Repeat("n", 254),
		"cronjob=" + strings.Repeat("x", 1<<16),
		"last=" + strings.Repeat("1", 1<<16),
		"from=" + strings.Repeat("2", 1<<16),
		"last=%zz",
		"last=1h%",
		"last=1h;cluster=a",
	} {
		for _, id := range []string{"leadership", "engineering"} {
			rec := f.do(http.MethodGet, "/api/v1/dashboards/"+id+"?"+raw)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s?%.60s: status %d, want 400; body %.200s", id, raw, rec.Code, rec.Body)
				continue
			}
			if msg := errorBody(t, rec); len(msg) > 300 {
				t.Errorf("%s?%.60s: error message of %d bytes echoes too much", id, raw, len(msg))
			}
		}
	}
	if n := f.store.calls.Load(); n != 0 {
		t.Errorf("bad requests made %d store calls", n)
	}
}

func TestStatus(t *testing.T) {
	f := newFixture(t, &stubStore{})
	for _, c := range []struct {
		method, target string
		status         int
		allow          string
	}{
		{"GET", "/api/v1/dashboards", 200, ""},
		{"HEAD", "/api/v1/dashboards", 200, ""},
		{"GET", "/api/v1/dashboards/leadership", 200, ""},
		{"GET", "/api/v1/dashboards/engineering?last=7d&cluster=prod&namespace=ds&cronjob=etl", 200, ""},
		{"GET", "/api/v1/dashboards/leadership?from=2025-06-01T10:00:00Z", 200, ""},
		{"HEAD", "/api/v1/dashboards/leadership", 200, ""},
		{"GET", "/api/v1/dashboards?x=1", 400, ""},
		{"GET", "/api/v1/dashboards/nope", 404, ""},
		{"GET", "/api/v1/dashboards/nope?last=bad", 404, ""},
		{"GET", "/api/v1/dashboards/Leadership", 404, ""},
		{"GET", "/api/v1/dashboards/" + strings.Repeat("x", 1<<16), 404, ""},
		{"GET", "/api/v1/dashboards/", 404, ""},
		{"GET", "/api/v1/dashboards/leadership/extra", 404, ""},
		{"GET", "/api/v1/nope", 404, ""},
		{"POST", "/api/v2/x", 404, ""},
		{"GET", "/index.html", 404, ""},
		{"POST", "/api/v1/dashboards/leadership", 405, "GET, HEAD"},
		{"PUT", "/api/v1/dashboards/leadership", 405, "GET, HEAD"},
		{"DELETE", "/api/v1/dashboards", 405, "GET, HEAD"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"OPTIONS", "/readyz", 405, "GET, HEAD"},
	} {
		rec := f.do(c.method, c.target)
		name := c.method + " " + c.target[:min(len(c.target), 60)]
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d; body %.200s", name, rec.Code, c.status, rec.Body)
			continue
		}
		if got := rec.Header().Get("Allow"); got != c.allow {
			t.Errorf("%s: Allow = %q, want %q", name, got, c.allow)
		}
		if rec.Code >= 400 {
			errorBody(t, rec)
		} else if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type = %q", name, ct)
		}
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": contentSecurityPolicy,
		} {
			if got := rec.Header().Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", name, h, got, want)
			}
		}
	}
}

func TestIndex(t *testing.T) {
	f := newFixture(t, &stubStore{})
	rec := f.do("GET", "/")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" ||
		!strings.Contains(rec.Body.String(), "GET /api/v1/dashboards/leadership?last=24h") {
		t.Errorf("GET / = %d %q %.200q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if rec := f.do("POST", "/"); rec.Code != 405 {
		t.Errorf("POST / = %d, want 405", rec.Code)
	}
}

func TestHealth(t *testing.T) {
	f := newFixture(t, &stubStore{err: errors.New("store down")})
	for range 2 {
		rec := f.do("GET", "/healthz")
		if rec.Code != 200 || rec.Body.String() != "ok\n" {
			t.Errorf("healthz = %d %q, want 200 ok", rec.Code, rec.Body)
		}
	}
}

func TestReady(t *testing.T) {
	var ready atomic.Bool
	f := newFixture(t, &stubStore{}, WithReady(func() error {
		if !ready.Load() {
			return errors.New("caches not synced")
		}
		return nil
	}))
	rec := f.do("GET", "/readyz")
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz before ready = %d, want 503", rec.Code)
	}
	if msg := errorBody(t, rec); !strings.Contains(msg, "caches not synced") {
		t.Errorf("readyz message %q does not say why", msg)
	}
	ready.Store(true)
	if rec := f.do("GET", "/readyz"); rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("readyz when ready = %d %q, want 200 ok", rec.Code, rec.Body)
	}
	if rec := newFixture(t, &stubStore{}).do("GET", "/readyz"); rec.Code != 200 {
		t.Errorf("readyz without WithReady = %d, want 200", rec.Code)
	}
}

func TestStoreFailure(t *testing.T) {
	f := newFixture(t, &stubStore{err: errors.New("disk I/O error: secret detail")})
	rec := f.do("GET", "/api/v1/dashboards/leadership?last=1h")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if msg := errorBody(t, rec); strings.Contains(msg, "secret") {
		t.Errorf("500 body leaks the cause: %q", msg)
	}
	if !strings.Contains(f.log.String(), `"level":"ERROR"`) || !strings.Contains(f.log.String(), "secret detail") {
		t.Errorf("store failure not logged at error level with its cause: %s", f.log)
	}
	// The list does not touch the store.
	if rec := f.do("GET", "/api/v1/dashboards"); rec.Code != 200 {
		t.Errorf("list with a failing store = %d, want 200", rec.Code)
	}
}

func TestQueryTimeout(t *testing.T) {
	f := newFixture(t, &stubStore{block: true}, WithQueryTimeout(20*time.Millisecond))
	rec := f.do("GET", "/api/v1/dashboards/engineering")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	errorBody(t, rec)
	if strings.Contains(f.log.String(), `"level":"ERROR"`) {
		t.Errorf("a timeout is logged as an error: %s", f.log)
	}
}

func TestRequestLog(t *testing.T) {
	f := newFixture(t, &stubStore{})
	f.do("GET", "/api/v1/dashboards/nope?last=1h")
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(f.log.String())), &line); err != nil {
		t.Fatalf("log %q: %v", f.log, err)
	}
	if line["level"] != "DEBUG" || line["path"] != "/api/v1/dashboards/nope" || line["status"] != float64(404) {
		t.Errorf("request log = %v", line)
	}
}

func TestWithHandler(t *testing.T) {
	text := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, s) })
	}
	f := newFixture(t, &stubStore{}, WithHandler("GET /metrics", text("metrics")), WithHandler("GET /", text("ui")))
	for _, c := range []struct {
		target string
		status int
		body   string
	}{
		{"/metrics", 200, "metrics"},
		{"/", 200, "ui"},
		{"/some/page", 200, "ui"},
		{"/api/v1/nope", 404, ""},
		{"/healthz", 200, "ok\n"},
	} {
		rec := f.do("GET", c.target)
		if rec.Code != c.status || (c.body != "" && rec.Body.String() != c.body) {
			t.Errorf("%s = %d %q, want %d %q", c.target, rec.Code, rec.Body, c.status, c.body)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no security headers", c.target)
		}
	}
}

// TestDashboardShape checks the JSON of both dashboards against the
// catalogue: ids, kinds and available flags in order, the fields each kind
// has and no others, numbers that are numbers or null. The engineering
// dashboard is also compared byte for byte with a golden file
// (go test -update rewrites it).
func TestDashboardShape(t *testing.T) {
	f := newFixture(t, &stubStore{})
	base := []string{"available", "description", "id", "kind", "title", "unit"}
	fields := map[dashboard.Kind][]string{
		dashboard.KindValue:      append(slices.Clone(base), "series", "value"),
		dashboard.KindTimeseries: append(slices.Clone(base), "series", "values"),
		dashboard.KindToplist:    append(slices.Clone(base), "rows"),
		dashboard.KindEvents:     append(slices.Clone(base), "events", "total"),
		dashboard.KindTable:      append(slices.Clone(base), "table"),
	}
	for _, def := range dashboard.All() {
		rec := f.do("GET", "/api/v1/dashboards/"+def.ID+"?from=2025-06-01T11:55:00Z&to=2025-06-01T12:00:00Z")
		if rec.Code != 200 {
			t.Fatalf("%s: status %d: %s", def.ID, rec.Code, rec.Body)
		}
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if k := sortedKeys(got); !slices.Equal(k, []string{"filters", "from", "id", "sections", "step_seconds", "title", "to"}) {
			t.Errorf("%s: top-level keys %v", def.ID, k)
		}
		if got["id"] != def.ID || got["title"] != def.Title || got["from"] != "2025-06-01T11:55:00Z" ||
			got["to"] != "2025-06-01T12:00:00Z" || got["step_seconds"] != float64(60) {
			t.Errorf("%s: header %v %v %v %v %v", def.ID, got["id"], got["title"], got["from"], got["to"], got["step_seconds"])
		}
		if k := sortedKeys(got["filters"].(map[string]any)); !slices.Equal(k, []string{"cluster", "cronjob", "namespace"}) {
			t.Errorf("%s: filter keys %v", def.ID, k)
		}
		secs := got["sections"].([]any)
		if len(secs) != len(def.Sections) {
			t.Fatalf("%s: %d sections, want %d", def.ID, len(secs), len(def.Sections))
		}
		for i, sd := range def.Sections {
			sec := secs[i].(map[string]any)
			ws := sec["widgets"].([]any)
			if sec["id"] != sd.ID || len(ws) != len(sd.Widgets) {
				t.Fatalf("%s section %d: id %v with %d widgets, want %s with %d", def.ID, i, sec["id"], len(ws), sd.ID, len(sd.Widgets))
			}
			for j, wd := range sd.Widgets {
				checkWidget(t, def.ID, wd, ws[j].(map[string]any), base, fields[wd.Kind], 5)
			}
		}
		if def.ID == "engineering" {
			golden(t, "testdata/engineering.golden.json", rec.Body.Bytes())
		}
	}
}

func checkWidget(t *testing.T, dash string, def dashboard.Widget, w map[string]any, base, fields []string, buckets int) {
	t.Helper()
	name := dash + "/" + def.ID
	if w["id"] != def.ID || w["kind"] != string(def.Kind) || w["available"] != def.Available ||
		w["title"] != def.Title || w["unit"] != def.Unit || w["description"] != def.Description {
		t.Errorf("%s: %v, want the catalogue's %+v", name, w, def)
	}
	want := base
	if def.Available {
		want = fields
	}
	switch src := def.Query.Source; {
	case src == dashboard.SourceUsageByCronJob || src == dashboard.SourceUsageByPod:
		want = append(slices.Clone(want), "series_info")
	case def.Kind == dashboard.KindTimeseries && def.Available && src != dashboard.SourceBadPhase &&
		src != dashboard.SourceBreakdown:
		want = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "values" })
	}
	want = slices.Sorted(slices.Values(want))
	if got := sortedKeys(w); !slices.Equal(got, want) {
		t.Errorf("%s: keys %v, want %v", name, got, want)
	}
	if v, ok := w["value"]; ok && !isNumberOrNull(v) {
		t.Errorf("%s: value %v is not a number or null", name, v)
	}
	for _, v := range asMap(w["values"]) {
		if !isNumberOrNull(v) {
			t.Errorf("%s: values has %v", name, v)
		}
	}
	for _, s := range asSlice(w["series"]) {
		s := s.(map[string]any)
		if _, ok := s["name"].(string); !ok {
			t.Errorf("%s: series without a name", name)
		}
		pts := asSlice(s["points"])
		if len(pts) != buckets {
			t.Errorf("%s: %d points, want %d", name, len(pts), buckets)
		}
		for _, p := range pts {
			p, ok := p.([]any)
			if !ok || len(p) != 2 {
				t.Errorf("%s: point %v is not a pair", name, p)
				continue
			}
			if _, ok := p[0].(float64); !ok || !isNumberOrNull(p[1]) {
				t.Errorf("%s: point %v is not [number, number|null]", name, p)
			}
		}
	}
	for _, r := range asSlice(w["rows"]) {
		r := r.(map[string]any)
		if k := sortedKeys(r); !slices.Equal(k, []string{"cluster", "cronjob", "namespace", "value"}) {
			t.Errorf("%s: row keys %v", name, k)
		}
		if _, ok := r["value"].(float64); !ok {
			t.Errorf("%s: row value %v", name, r["value"])
		}
	}
	for _, e := range asSlice(w["events"]) {
		k := sortedKeys(e.(map[string]any))
		if !slices.Equal(k, []string{"cluster", "count", "involved_kind", "involved_name", "involved_uid", "message", "namespace", "reason", "time", "type"}) {
			t.Errorf("%s: event keys %v", name, k)
		}
	}
	if v, ok := w["total"]; ok {
		if _, ok := v.(float64); !ok {
			t.Errorf("%s: total %v", name, v)
		}
	}
}

func TestListShape(t *testing.T) {
	f := newFixture(t, &stubStore{})
	rec := f.do("GET", "/api/v1/dashboards")
	var got struct {
		Dashboards []struct {
			ID       string
			Title    string
			Sections []struct {
				ID      string
				Title   string
				Widgets []map[string]any
			}
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	all := dashboard.All()
	if len(got.Dashboards) != len(all) {
		t.Fatalf("%d dashboards, want %d", len(got.Dashboards), len(all))
	}
	for i, d := range all {
		g := got.Dashboards[i]
		if g.ID != d.ID || g.Title != d.Title || len(g.Sections) != len(d.Sections) {
			t.Fatalf("dashboard %d = %s %q with %d sections", i, g.ID, g.Title, len(g.Sections))
		}
		for j, s := range d.Sections {
			gs := g.Sections[j]
			if gs.ID != s.ID || gs.Title != s.Title || len(gs.Widgets) != len(s.Widgets) {
				t.Fatalf("%s section %d = %s with %d widgets", d.ID, j, gs.ID, len(gs.Widgets))
			}
			for k, w := range s.Widgets {
				gw := gs.Widgets[k]
				if gw["id"] != w.ID || gw["title"] != w.Title || gw["kind"] != string(w.Kind) || gw["available"] != w.Available {
					t.Errorf("%s/%s: %v", d.ID, w.ID, gw)
				}
				if _, ok := gw["value"]; ok {
					t.Errorf("%s/%s: the list carries numbers", d.ID, w.ID)
				}
			}
		}
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", rec.Header().Get("Cache-Control"))
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	var indented bytes.Buffer
	if err := json.Indent(&indented, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(indented.Bytes(), want) {
		t.Errorf("%s differs from the response (go test -update rewrites it):\n%s", path, indented.Bytes())
	}
}

func sortedKeys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

func asSlice(v any) []any        { s, _ := v.([]any); return s }
func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func isNumberOrNull(v any) bool {
	if v == nil {
		return true
	}
	_, ok := v.(float64)
	return ok
}
