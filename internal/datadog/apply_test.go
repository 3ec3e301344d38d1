package datadog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
)

const (
	apiKey = "test-api-key-0123456789"
	appKey = "test-app-key-9876543210"
)

// fakeDatadog is the published contract of the v1 Dashboards and Monitors
// endpoints that Apply uses: paths, methods, auth headers and body shapes
// (checked by decoding into the client's models), with ids, authors and
// widget ids added by the server as Datadog does.
type fakeDatadog struct {
	t          *testing.T
	mu         sync.Mutex
	dashboards map[string]map[string]any
	monitors   map[int64]map[string]any
	calls      []string
	fail       func(r *http.Request) int // status to answer instead, 0 for none
	next       int
}

func newFake(t *testing.T) (*fakeDatadog, Target) {
	f := &fakeDatadog{t: t, dashboards: map[string]map[string]any{}, monitors: map[int64]map[string]any{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, Target{APIKey: apiKey, AppKey: appKey, Site: srv.URL, MaxRetries: 1}
}

func (f *fakeDatadog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("DD-API-KEY") != apiKey || r.Header.Get("DD-APPLICATION-KEY") != appKey {
		f.t.Errorf("%s %s: auth headers missing or wrong", r.Method, r.URL.Path)
		http.Error(w, `{"errors":["Forbidden"]}`, http.StatusForbidden)
		return
	}
	if f.fail != nil {
		if code := f.fail(r); code != 0 {
			w.Header().Set("X-RateLimit-Reset", "0")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"errors":["%s"]}`, http.StatusText(code))
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	switch {
	case r.Method == http.MethodGet && path == "dashboard":
		var list []map[string]any
		for id, d := range f.dashboards {
			list = append(list, map[string]any{"id": id, "title": d["title"], "description": d["description"], "layout_type": d["layout_type"]})
		}
		reply(map[string]any{"dashboards": list})
	case r.Method == http.MethodPost && path == "dashboard":
		d := f.decodeDashboard(body)
		f.next++
		id := fmt.Sprintf("abc-%03d-xyz", f.next)
		f.dashboards[id] = served(d, id)
		reply(f.dashboards[id])
	case strings.HasPrefix(path, "dashboard/") && (r.Method == http.MethodGet || r.Method == http.MethodPut):
		id := strings.TrimPrefix(path, "dashboard/")
		if _, ok := f.dashboards[id]; !ok {
			http.Error(w, `{"errors":["Not found"]}`, http.StatusNotFound)
			return
		}
		if r.Method == http.MethodPut {
			f.dashboards[id] = served(f.decodeDashboard(body), id)
		}
		reply(f.dashboards[id])
	case r.Method == http.MethodGet && path == "monitor":
		tag := r.URL.Query().Get("monitor_tags")
		list := []map[string]any{}
		for _, m := range f.monitors {
			if slices.Contains(m["tags"].([]any), any(tag)) {
				list = append(list, m)
			}
		}
		reply(list)
	case r.Method == http.MethodPost && path == "monitor":
		m := f.decodeMonitor(body, true)
		f.next++
		m["id"], m["overall_state"], m["created"] = f.next, "OK", "2026-11-27T00:00:00Z"
		f.monitors[int64(f.next)] = m
		reply(m)
	case r.Method == http.MethodPut && strings.HasPrefix(path, "monitor/"):
		var id int64
		fmt.Sscan(strings.TrimPrefix(path, "monitor/"), &id)
		old, ok := f.monitors[id]
		if !ok {
			http.Error(w, `{"errors":["Not found"]}`, http.StatusNotFound)
			return
		}
		m := f.decodeMonitor(body, false)
		for k, v := range m {
			old[k] = v
		}
		reply(old)
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL)
		http.Error(w, `{"errors":["Not found"]}`, http.StatusNotFound)
	}
}

// decodeDashboard checks a body against the client's Dashboard model.
func (f *fakeDatadog) decodeDashboard(body []byte) map[string]any {
	var d datadogV1.Dashboard
	if err := json.Unmarshal(body, &d); err != nil {
		f.t.Errorf("dashboard body: %v", err)
	}
	if p := unparsed(reflect.ValueOf(&d), ""); len(p) > 0 || d.Title == "" || d.LayoutType != datadogV1.DASHBOARDLAYOUTTYPE_ORDERED || len(d.Widgets) == 0 {
		f.t.Errorf("dashboard body: unparsed %v, title %q, layout %q, %d widgets", p, d.Title, d.LayoutType, len(d.Widgets))
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return m
}

// decodeMonitor checks a body against Monitor (create) or
// MonitorUpdateRequest (update).
func (f *fakeDatadog) decodeMonitor(body []byte, create bool) map[string]any {
	var v any = &datadogV1.MonitorUpdateRequest{}
	if create {
		v = &datadogV1.Monitor{}
	}
	if err := json.Unmarshal(body, v); err != nil {
		f.t.Errorf("monitor body: %v", err)
	}
	if p := unparsed(reflect.ValueOf(v), ""); len(p) > 0 {
		f.t.Errorf("monitor body: unparsed %v", p)
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	if m["query"] == "" || m["type"] != "query alert" {
		f.t.Errorf("monitor body: query %v, type %v", m["query"], m["type"])
	}
	return m
}

// served is d as Datadog returns it: with its id, url, author, times and
// an id on every widget.
func served(d map[string]any, id string) map[string]any {
	d["id"], d["url"], d["author_handle"] = id, "/dashboard/"+id, "someone@example.com"
	d["created_at"], d["modified_at"], d["notify_list"] = "2026-11-27T00:00:00Z", "2026-11-27T00:00:00Z", nil
	n := 1000
	var number func(ws []any)
	number = func(ws []any) {
		for _, w := range ws {
			wm := w.(map[string]any)
			n++
			wm["id"] = n
			if sub, ok := wm["definition"].(map[string]any)["widgets"].([]any); ok {
				number(sub)
			}
		}
	}
	number(d["widgets"].([]any))
	return d
}

func (f *fakeDatadog) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func actions(cs []Change) map[Action]int {
	out := map[Action]int{}
	for _, c := range cs {
		out[c.Action]++
	}
	return out
}

func writes(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

func TestApplyIsIdempotent(t *testing.T) {
	ctx := context.Background()
	f, target := newFake(t)
	for _, m := range sources() {
		// Dry run on an empty organisation: it would create everything, and
		// only reads.
		cs, err := Apply(ctx, target, m, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(cs); !reflect.DeepEqual(got, map[Action]int{Create: 7}) {
			t.Errorf("%s dry run: %v, want 7 creates", m, cs)
		}
		if w := writes(f.takeCalls()); len(w) > 0 {
			t.Errorf("%s dry run wrote: %v", m, w)
		}

		cs, err = Apply(ctx, target, m, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(cs); !reflect.DeepEqual(got, map[Action]int{Create: 7}) {
			t.Errorf("%s first apply: %v", m, cs)
		}
		want := []string{"POST /api/v1/dashboard", "POST /api/v1/dashboard", "POST /api/v1/monitor", "POST /api/v1/monitor",
			"POST /api/v1/monitor", "POST /api/v1/monitor", "POST /api/v1/monitor"}
		if got := writes(f.takeCalls()); !reflect.DeepEqual(got, want) {
			t.Errorf("%s first apply wrote %v, want %v", m, got, want)
		}

		cs, err = Apply(ctx, target, m, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(cs); !reflect.DeepEqual(got, map[Action]int{Unchanged: 7}) {
			t.Errorf("%s second apply: %v", m, cs)
		}
		if w := writes(f.takeCalls()); len(w) > 0 {
			t.Errorf("%s second apply wrote: %v", m, w)
		}
	}
	if len(f.dashboards) != 4 || len(f.monitors) != 10 {
		t.Errorf("%d dashboards and %d monitors, want 2 and 5 per source", len(f.dashboards), len(f.monitors))
	}

	// Someone edits a dashboard and a monitor in Datadog: apply puts them back.
	f.mu.Lock()
	for _, d := range f.dashboards {
		if strings.Contains(d["description"].(string), DashboardTag("engineering", Batchlens)) {
			d["title"] = "edited by hand"
		}
	}
	for _, m := range f.monitors {
		if slices.Contains(m["tags"].([]any), any(MonitorTag("crashloop", Kubernetes))) {
			m["query"] = "max(last_5m):avg:system.load.1{*} > 10"
		}
	}
	f.mu.Unlock()
	for _, tc := range []struct {
		m    Metrics
		want string
	}{{Batchlens, "PUT /api/v1/dashboard/"}, {Kubernetes, "PUT /api/v1/monitor/"}} {
		cs, err := Apply(ctx, target, tc.m, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(cs); !reflect.DeepEqual(got, map[Action]int{Update: 1, Unchanged: 6}) {
			t.Errorf("%s after an edit: %v", tc.m, cs)
		}
		if w := writes(f.takeCalls()); len(w) != 1 || !strings.HasPrefix(w[0], tc.want) {
			t.Errorf("%s after an edit wrote %v, want one %s", tc.m, w, tc.want)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("403", func(t *testing.T) {
		f, target := newFake(t)
		f.fail = func(*http.Request) int { return http.StatusForbidden }
		_, err := Apply(ctx, target, Kubernetes, false)
		if err == nil || !strings.Contains(err.Error(), "refused the keys (403)") {
			t.Fatalf("error %v, want one about the keys", err)
		}
		if strings.Contains(err.Error(), apiKey) || strings.Contains(err.Error(), appKey) {
			t.Errorf("the error shows a key: %v", err)
		}
	})
	t.Run("429 then ok", func(t *testing.T) {
		f, target := newFake(t)
		limited := 0
		f.fail = func(r *http.Request) int {
			if r.Method == http.MethodPost && limited == 0 {
				limited++
				return http.StatusTooManyRequests
			}
			return 0
		}
		cs, err := Apply(ctx, target, Kubernetes, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(cs); !reflect.DeepEqual(got, map[Action]int{Create: 7}) || len(f.dashboards) != 2 {
			t.Errorf("after a retried 429: %v, %d dashboards", cs, len(f.dashboards))
		}
		if n := len(slices.DeleteFunc(writes(f.takeCalls()), func(c string) bool { return c != "POST /api/v1/dashboard" })); n != 3 {
			t.Errorf("%d dashboard POSTs, want 3 (one retried)", n)
		}
	})
	t.Run("429 always", func(t *testing.T) {
		f, target := newFake(t)
		f.fail = func(*http.Request) int { return http.StatusTooManyRequests }
		_, err := Apply(ctx, target, Kubernetes, false)
		if err == nil || !strings.Contains(err.Error(), "rate limited by Datadog (429) after 1 retries") {
			t.Fatalf("error %v, want a rate limit", err)
		}
		if n := len(f.takeCalls()); n != 2 {
			t.Errorf("%d calls, want the list and one retry", n)
		}
	})
	t.Run("no keys", func(t *testing.T) {
		_, err := Apply(ctx, Target{Site: "datadoghq.eu"}, Kubernetes, false)
		if err == nil || !strings.Contains(err.Error(), "DD_API_KEY and DD_APP_KEY") {
			t.Fatalf("error %v", err)
		}
	})
}
