package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{nil, nil, 2, "Usage:"},
		{[]string{"nope"}, nil, 2, `unknown command "nope"`},
		{[]string{"version"}, nil, 0, "batchlens dev"},
		{[]string{"demo", "--bogus"}, nil, 2, "flag provided but not defined: -bogus"},
		{[]string{"demo", "extra"}, nil, 2, "unexpected arguments"},
		{[]string{"demo", "--history", "7x"}, nil, 1, `--history: "7x" is not a duration`},
		{[]string{"demo", "--log-level", "loud"}, nil, 1, "--log-level"},
		{[]string{"serve", "--cluster-name", ""}, nil, 1, "--cluster-name must not be empty"},
		{[]string{"demo"}, map[string]string{"BATCHLENS_HISTORY": "-3d"}, 1, "--history"},
		{[]string{"serve", "-h"}, nil, 0, "BATCHLENS_KUBECONFIG"},
		{[]string{"demo", "-h"}, nil, 0, "BATCHLENS_DOGSTATSD"},
		{[]string{"datadog"}, nil, 2, "batchlens datadog export"},
		{[]string{"datadog", "nope"}, nil, 2, "batchlens datadog apply"},
		{[]string{"datadog", "export", "--metrics", "statsd"}, nil, 1, `--metrics: metrics "statsd"`},
		{[]string{"datadog", "apply", "--dry-run"}, map[string]string{"DD_API_KEY": "", "DD_APP_KEY": ""}, 1, "DD_API_KEY and DD_APP_KEY must be set"},
		{[]string{"datadog", "apply", "-h"}, nil, 0, "BATCHLENS_DRY_RUN"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := Main(context.Background(), tc.args, &out, &errb)
			if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
				t.Errorf("exit %d, want %d; output %q, want it to contain %q", code, tc.code, out.String()+errb.String(), tc.want)
			}
		})
	}
}

// TestDemoServes runs `batchlens demo` with a short history and checks that
// it serves non-zero Leadership numbers, becomes ready, and stops cleanly.
func TestDemoServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--history", "6h", "--seed", "5", "--db", t.TempDir() + "/d.db"}, &stdout, &stderr)
	}()
	url := waitMatch(t, &stdout, regexp.MustCompile(`dashboards at (http://\S+)`))
	waitMatch(t, &stdout, regexp.MustCompile(`now live`))
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready in 20s; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(url + "api/v1/dashboards/leadership?last=24h")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Sections []struct {
			Widgets []struct {
				ID    string   `json:"id"`
				Value *float64 `json:"value"`
			} `json:"widgets"`
		} `json:"sections"`
	}
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, w := range d.Sections[0].Widgets {
		if w.Value != nil {
			values[w.ID] = *w.Value
		}
	}
	for _, id := range []string{"jobs", "success_rate", "failure_rate", "pods_failed", "pods_oom", "container_restarts", "pods_crashloop", "pods_pending"} {
		if values[id] <= 0 {
			t.Errorf("%s = %v after 6h of simulated history, want > 0", id, values[id])
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop within 15s of cancellation")
	}
}

func waitMatch(t *testing.T, b *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m[len(m)-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s in output %q", re, b.String())
	return ""
}

func TestFlagsFromEnv(t *testing.T) {
	t.Setenv("BATCHLENS_NAMESPACE", "forecasting, recsys,,")
	t.Setenv("BATCHLENS_LABEL_SELECTOR", "team=ds,tier=batch")
	var errb bytes.Buffer
	f := newFlags("serve", &errb)
	var namespaces []string
	var selector string
	f.strings(&namespaces, "namespace", "namespace")
	f.string(&selector, "label-selector", "", "selector")
	if err := f.parse([]string{"--namespace", "fraud"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(namespaces, "|"); got != "forecasting|recsys|fraud" {
		t.Errorf("namespaces = %q: a repeatable flag splits its env value at commas, then the command line adds", got)
	}
	if selector != "team=ds,tier=batch" {
		t.Errorf("label selector = %q: a plain flag takes its env value whole", selector)
	}
}
