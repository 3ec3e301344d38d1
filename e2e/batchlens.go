//go:build e2e

package e2e

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
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// instance is one `batchlens serve` process with its own database and log.
type instance struct {
	name string
	bin  string
	args []string
	addr string
	dir  string
	cmd  *exec.Cmd
}

func newInstance(t *testing.T, work, name, bin, kubeconfig string, extra ...string) *instance {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := filepath.Join(work, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--kubeconfig", kubeconfig, "--cluster-name", "e2e",
		"--db", filepath.Join(dir, "batchlens.db"), "--listen", addr}, extra...)
	return &instance{name: name, bin: bin, args: args, addr: addr, dir: dir}
}

func (b *instance) dbPath() string  { return filepath.Join(b.dir, "batchlens.db") }
func (b *instance) logPath() string { return filepath.Join(b.dir, "batchlens.log") }

// start starts the process and waits until /readyz answers 200 (its caches have synced).
func (b *instance) start(ctx context.Context) error {
	logf, err := os.OpenFile(b.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	b.cmd = exec.Command(b.bin, b.args...)
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", b.name, err)
	}
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); logf.Close(); close(done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("%s exited: %s\n%s", b.name, b.cmd.ProcessState, b.logs())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := http.Get("http://" + b.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s not ready after 60 s:\n%s", b.name, b.logs())
}

// kill sends SIGKILL: no shutdown, no flush of the batcher's queue.
func (b *instance) kill() {
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	for i := 0; i < 200 && b.cmd.ProcessState == nil; i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (b *instance) stop() error {
	if b.cmd == nil || b.cmd.ProcessState != nil {
		return nil
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	for i := 0; i < 1000 && b.cmd.ProcessState == nil; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if b.cmd.ProcessState == nil {
		b.kill()
		return fmt.Errorf("%s did not exit within 10 s of SIGTERM", b.name)
	}
	if !b.cmd.ProcessState.Success() {
		return fmt.Errorf("%s exited with %s", b.name, b.cmd.ProcessState)
	}
	return nil
}

func (b *instance) logs() string {
	data, _ := os.ReadFile(b.logPath())
	return string(data)
}

// widgets fetches a dashboard and returns its widgets by id: for engineering, those of its
// overview section.
func (b *instance) widgets(ctx context.Context, id string, q url.Values) (map[string]widget, error) {
	return b.dashboard(ctx, id, q, id == "engineering")
}

// dashboard fetches a dashboard and returns its widgets (of the overview section only, when
// overview) by id.
func (b *instance) dashboard(ctx context.Context, id string, q url.Values, overview bool) (map[string]widget, error) {
	u := "http://" + b.addr + "/api/v1/dashboards/" + id + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var d struct {
		Sections []struct {
			ID      string   `json:"id"`
			Widgets []widget `json:"widgets"`
		} `json:"sections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return nil, fmt.Errorf("decode %s: %w", u, err)
	}
	out := map[string]widget{}
	for _, s := range d.Sections {
		if overview && s.ID != "overview" {
			continue
		}
		for _, w := range s.Widgets {
			out[w.ID] = w
		}
	}
	return out, nil
}

// widget is the part of the API's widget JSON the e2e compares.
type widget struct {
	ID        string              `json:"id"`
	Available bool                `json:"available"`
	Reason    string              `json:"reason"`
	Value     *float64            `json:"value"`
	Values    map[string]*float64 `json:"values"`
	Rows      []struct {
		Cluster   string `json:"cluster"`
		Namespace string `json:"namespace"`
		CronJob   string `json:"cronjob"`
		Value     int64  `json:"value"`
	} `json:"rows"`
	Total  *int64 `json:"total"`
	Series []struct {
		Name   string        `json:"name"`
		Points [][2]*float64 `json:"points"`
	} `json:"series"`
	SeriesInfo []struct {
		Name    string   `json:"name"`
		Request *float64 `json:"request"`
		Limit   *float64 `json:"limit"`
	} `json:"series_info"`
	Table *struct {
		Rows []struct {
			Namespace string              `json:"namespace"`
			CronJob   string              `json:"cronjob"`
			Cells     map[string]*float64 `json:"cells"`
			OOMRisk   bool                `json:"oom_risk"`
		} `json:"rows"`
	} `json:"table"`
}

// usageRefused starts the warning batchlens logs once when it may not read the kubelets' stats.
const usageRefused = "resource usage unavailable: no permission"

// forbidden reports log lines that show an authorization failure, except those logged while
// the API server was restarting (within one of the windows): a starting API server answers 403
// to every request until its RBAC caches have synced, whatever the caller's rights.
//
// batchlens' one warning that it may not read the kubelets' stats (usageRefused) is not one: that
// permission is optional, and its absence is checked on its own.
func forbidden(logs string, windows [][2]time.Time) (bad []string, excused int) {
	for _, l := range strings.Split(logs, "\n") {
		low := strings.ToLower(l)
		if !strings.Contains(low, "forbidden") && !strings.Contains(low, " 403") && !strings.Contains(low, "unauthorized") ||
			strings.Contains(l, usageRefused) {
			continue
		}
		if at, ok := klogTime(l); ok && slices.ContainsFunc(windows, func(w [2]time.Time) bool {
			return !at.Before(w[0]) && !at.After(w[1])
		}) {
			excused++
			continue
		}
		bad = append(bad, l)
	}
	return bad, excused
}

// klogTime parses the time of a klog line ("E1127 21:04:14.706307 ..."), in this year, UTC.
func klogTime(line string) (time.Time, bool) {
	if len(line) < 21 || !strings.ContainsRune("IWEF", rune(line[0])) {
		return time.Time{}, false
	}
	at, err := time.Parse("0102 15:04:05.000000", line[1:21])
	if err != nil {
		return time.Time{}, false
	}
	return at.AddDate(time.Now().UTC().Year(), 0, 0), true
}
