package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// prometheusBinary returns Debian's prometheus, or fails the test with how
// to install it (skips only when BATCHLENS_SKIP_PROMETHEUS=1).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/prometheus"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if os.Getenv("BATCHLENS_SKIP_PROMETHEUS") == "1" {
		t.Skip("prometheus not installed; skipped because BATCHLENS_SKIP_PROMETHEUS=1")
	}
	t.Fatal("prometheus not found: install it with `apt-get install -y prometheus` (as .ci/run does), or set BATCHLENS_SKIP_PROMETHEUS=1 to skip this test")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// promQuery evaluates an instant PromQL query at t and returns its single
// value (0 and false for an empty result).
func promQuery(t *testing.T, base, q string, at time.Time) (float64, bool) {
	t.Helper()
	v := url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	resp, err := http.Get(base + "/api/v1/query?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: %s", q, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	if len(r.Data.Result) > 1 {
		t.Fatalf("query %s: %d series, want one", q, len(r.Data.Result))
	}
	f, err := strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
	if err != nil {
		t.Fatal(err)
	}
	return f, true
}

// widgetValues returns the value widgets of the engineering dashboard over
// [from, to).
func widgetValues(t *testing.T, base string, from, to time.Time) map[string]float64 {
	t.Helper()
	v := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	resp, err := http.Get(base + "api/v1/dashboards/engineering?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Sections []struct {
			Widgets []struct {
				ID    string   `json:"id"`
				Value *float64 `json:"value"`
				Rows  []struct {
					Cluster, Namespace, CronJob string
					Value                       float64
				} `json:"rows"`
			} `json:"widgets"`
		} `json:"sections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, s := range d.Sections {
		for _, w := range s.Widgets {
			if w.Value != nil {
				out[w.ID] = *w.Value
			}
			for _, r := range w.Rows { // top_cronjobs: runs created per CronJob
				out[fmt.Sprintf(`sum(batchlens_job_runs_total{outcome="created",cluster=%q,namespace=%q,cronjob=%q})`,
					r.Cluster, r.Namespace, r.CronJob)] = r.Value
			}
		}
	}
	return out
}

// TestPrometheusScrapesTheLedger starts Debian's Prometheus on loopback,
// scraping `batchlens demo` every second, and checks that PromQL sums of
// the counters equal the API's widgets over a range holding all of the
// demo's history, exactly: the value widgets in total, and top_cronjobs
// per CronJob (cluster, namespace and cronjob labels).
//
// The demo runs live, so its counts grow. The comparison is made only
// when it is exact: the widgets are read at t1, Prometheus has a scrape
// that started after t1, and the widgets read again after that scrape is
// in Prometheus are unchanged. The counts never decrease, so the scrape,
// read between the two, saw the same numbers.
func TestPrometheusScrapesTheLedger(t *testing.T) {
	prom := prometheusBinary(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--history", "2h", "--seed", "13", "--db", t.TempDir() + "/d.db"}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exit %d; stderr:\n%s", code, stderr.String())
		}
	}()
	base := waitMatch(t, &stdout, regexp.MustCompile(`dashboards at (http://\S+)`))
	waitMatch(t, &stdout, regexp.MustCompile(`now live`))
	target, _ := url.Parse(base)

	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: batchlens
    static_configs:
      - targets: [%q]
`, target.Host)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--web.listen-address="+promURL[len("http://"):], "--storage.tsdb.path="+filepath.Join(dir, "data"))
	var promLog syncBuffer
	cmd.Stdout, cmd.Stderr = &promLog, &promLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", promLog.String())
		}
	}()

	for ready := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(promURL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(ready) {
			t.Fatal("prometheus not ready in 30s")
		}
	}

	checks := []struct{ widget, promql string }{
		{"jobs", `sum(batchlens_job_runs_total{outcome="created"})`},
		{"jobs_succeeded", `sum(batchlens_job_runs_total{outcome="succeeded"})`},
		{"jobs_failed", `sum(batchlens_job_runs_total{outcome="failed"})`},
		{"pods_oom", `sum(batchlens_oom_kills_total)`},
		{"container_restarts", `sum(batchlens_container_restarts_total)`},
		{"pods_crashloop", `sum(batchlens_crashloop_pods_total)`},
	}
	deadline := time.Now().Add(60 * time.Second)
	for attempt := 1; ; attempt++ {
		if time.Now().After(deadline) {
			t.Fatalf("no quiet moment to compare in 60s (%d attempts)", attempt)
		}
		now := time.Now()
		from, to := now.Add(-24*time.Hour), now.Add(time.Hour) // all of the 2h history, and beyond
		before := widgetValues(t, base, from, to)
		t1 := time.Now()
		// The newest scrape that started after t1.
		var scrape time.Time
		for scrape.IsZero() || !scrape.After(t1) {
			if time.Now().After(deadline) {
				t.Fatalf("prometheus scraped nothing after %s", t1)
			}
			time.Sleep(100 * time.Millisecond)
			if ts, ok := promQuery(t, promURL, `max(timestamp(batchlens_job_runs_total{outcome="created"}))`, time.Now()); ok {
				scrape = time.UnixMilli(int64(ts * 1000))
			}
		}
		after := widgetValues(t, base, from, to)
		quiet := len(before) == len(after)
		for k, v := range before {
			quiet = quiet && after[k] == v
		}
		if !quiet {
			t.Logf("attempt %d: the ledger grew while Prometheus scraped; again", attempt)
			continue
		}
		for _, c := range checks {
			got, _ := promQuery(t, promURL, c.promql, scrape)
			if got != before[c.widget] {
				t.Errorf("%s at the scrape of %s = %v; the API's %s widget = %v", c.promql, scrape.Format(time.RFC3339Nano), got, c.widget, before[c.widget])
			}
		}
		rows := 0
		for k, v := range before { // each of the top CronJobs' rows is its own series' sum
			if strings.HasPrefix(k, "sum(") {
				rows++
				if got, _ := promQuery(t, promURL, k, scrape); got != v {
					t.Errorf("%s at the scrape = %v; the API's top_cronjobs row = %v", k, got, v)
				}
			}
		}
		if rows != 10 {
			t.Errorf("top_cronjobs has %d rows, want 10", rows)
		}
		if before["jobs"] == 0 {
			t.Error("the demo has no jobs after 2h of history")
		}
		t.Logf("equal after %d attempt(s): jobs = %v", attempt, before["jobs"])
		return
	}
}
