package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoExportsMetrics: `demo` serves /metrics and, with --dogstatsd,
// sends the counts to a DogStatsD server (a UDP listener on loopback).
func TestDemoExportsMetrics(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--history", "1h", "--seed", "3", "--db", t.TempDir() + "/d.db",
			"--dogstatsd", conn.LocalAddr().String(), "--dogstatsd-interval", "200ms"}, &stdout, &stderr)
	}()
	base := waitMatch(t, &stdout, regexp.MustCompile(`dashboards at (http://\S+)`))
	waitMatch(t, &stdout, regexp.MustCompile(`now live`))

	resp, err := http.Get(base + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`batchlens_job_runs_total{cluster="demo",cronjob="`, "# TYPE batchlens_job_runs_total counter",
		"batchlens_ingest_lag_seconds", "batchlens_store_read_duration_seconds", "batchlens_store_write_duration_seconds", "go_goroutines"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("/metrics: status %d, no %q in:\n%.2000s", resp.StatusCode, want, body)
		}
	}
	if strings.Contains(string(body), "pod=") || strings.Contains(string(body), "uid=") {
		t.Error("/metrics has a pod or uid label")
	}

	buf := make([]byte, 65536)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no batchlens.job_runs.count over DogStatsD: %v", err)
		}
		if strings.Contains(string(buf[:n]), "batchlens.job_runs.count:") {
			break
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, stderr.String())
	}
}
