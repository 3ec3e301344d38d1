package ui_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/cli"
	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store/sqlite"
)

// chromium is Debian's browser, which .ci/run installs.
const chromium = "/usr/bin/chromium"

// TestBrowser runs ui/test/browser.mjs (playwright-core driving Debian's
// chromium) against `batchlens demo` with two days of simulated history
// and a few hostile objects. It writes the screenshots of docs/screenshots.
// Without chromium it fails, unless BATCHLENS_SKIP_BROWSER=1.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests take a while; not with -short")
	}
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("BATCHLENS_SKIP_BROWSER") == "1" {
			t.Skip("BATCHLENS_SKIP_BROWSER=1 and no " + chromium)
		}
		t.Fatalf("the browser tests need Debian's chromium at %s: apt-get install -y chromium "+
			"(or set BATCHLENS_SKIP_BROWSER=1 to skip them)", chromium)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the browser tests need Node (node) and the UI's npm packages: make ui")
	}
	if _, err := os.Stat(filepath.Join(root, "ui/node_modules/playwright-core")); err != nil {
		t.Fatal("ui/node_modules/playwright-core is missing: run make ui (npm ci in ui/)")
	}

	db := filepath.Join(t.TempDir(), "demo.db")
	writeHostile(t, db)
	url, stop := startDemo(t, db)
	defer stop()
	if body := get(t, url); !strings.Contains(body, "/assets/app-") {
		t.Fatalf("this binary embeds no UI build (GET / = %.200q): run make ui before go test", body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "test/browser.mjs", url, filepath.Join(root, "docs/screenshots"))
	cmd.Dir = filepath.Join(root, "ui")
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("ui/test/browser.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

// Hostile text: markup that would run if it were ever parsed as HTML, and
// a long unbroken string that would widen the page if it could.
const (
	hostileScript = `<script>window.__pwned=1</script>`
	hostileImg    = `<img src=x onerror="window.__pwned=1">`
)

// writeHostile stores a failed, OOM-killed run in namespace "hostile"
// whose names, messages and events carry hostile text, half an hour ago.
func writeHostile(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("W", 4000)
	at := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Millisecond)
	const cluster, ns, cj = "demo", "hostile", "evil" + hostileImg
	f := model.Facts{
		Runs: []model.Run{{Cluster: cluster, Namespace: ns, UID: "hostile-run", Name: "run" + hostileScript, CronJob: cj,
			CreatedAt: at, StartedAt: at, FinishedAt: at.Add(time.Minute), Outcome: model.OutcomeFailed,
			Reason: hostileImg, Message: long}},
		Pods: []model.Pod{{Cluster: cluster, Namespace: ns, UID: "hostile-pod", Name: hostileScript + long, JobUID: "hostile-run",
			JobName: "run" + hostileScript, CronJob: cj, Node: hostileImg, CreatedAt: at, StartedAt: at, PendingUntil: at,
			FinishedAt: at.Add(time.Minute), Phase: model.PhaseFailed, Reason: hostileImg, Message: long}},
		Terminations: []model.Termination{{Cluster: cluster, PodUID: "hostile-pod", Container: "main" + hostileImg,
			Reason: model.ReasonOOMKilled, ExitCode: 137, Message: hostileScript + "\n" + long + "\n" + hostileImg,
			StartedAt: at, FinishedAt: at.Add(time.Minute)}},
		Events: []model.Event{{Cluster: cluster, UID: "hostile-event", Namespace: ns, InvolvedKind: "Pod",
			InvolvedName: hostileScript + long, InvolvedUID: "hostile-pod", Type: "Warning", Reason: hostileImg,
			Message: hostileScript + long + hostileImg, Count: 1, FirstSeen: at, LastSeen: at.Add(time.Minute)}},
	}
	if err := st.Write(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// startDemo runs `batchlens demo` on db in this process and returns its
// URL once it is ready, and a func that stops it.
func startDemo(t *testing.T, db string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--history", "2d", "--seed", "42", "--db", db},
			&stdout, &stderr)
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("demo did not stop within 20s")
		}
	}
	re := regexp.MustCompile(`dashboards at (http://\S+)`)
	deadline := time.Now().Add(3 * time.Minute)
	var url string
	for url == "" || !ready(url) {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("demo not ready in 3 minutes; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
		time.Sleep(100 * time.Millisecond)
	}
	return url, stop
}

func ready(url string) bool {
	resp, err := http.Get(url + "readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

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
