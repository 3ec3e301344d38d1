package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/usage"
)

// apiServer stands in for kube-apiserver's node proxy: n1 answers, n3's
// kubelet cannot be reached, and when forbid is set every node is refused
// as RBAC refuses a service account without get on nodes/proxy.
type apiServer struct {
	forbid   atomic.Bool
	mu       sync.Mutex
	requests map[string]int // by node
	stats    time.Time      // the time n1's stats carry
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":%q,"code":%d}`, msg, reason, code)
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{},`+
			`"spec":{"resourceAttributes":{"verb":"get","resource":"nodes","subresource":"proxy"}},"status":{"allowed":%v}}`, !a.forbid.Load())
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/nodes/")
	node, path, _ := strings.Cut(rest, "/proxy/")
	if !ok || path == "" {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	a.mu.Lock()
	a.requests[node]++
	at := a.stats
	a.mu.Unlock()
	switch {
	case a.forbid.Load():
		status(w, http.StatusForbidden, "Forbidden", fmt.Sprintf(`nodes %q is forbidden: User "system:serviceaccount:batchlens:batchlens" cannot get resource "nodes/proxy" in API group "" at the cluster scope`, node))
	case node == "n3":
		status(w, http.StatusServiceUnavailable, "ServiceUnavailable", "error trying to reach service: dial tcp 10.0.0.3:10250: connect: connection refused")
	case path == "stats/summary":
		u := func(v uint64) *uint64 { return &v }
		tm := metav1.NewTime(at)
		s := statsv1alpha1.Summary{Node: statsv1alpha1.NodeStats{NodeName: node}, Pods: []statsv1alpha1.PodStats{{
			PodRef:    statsv1alpha1.PodReference{Name: "p1", Namespace: "ml", UID: "uid-1"},
			StartTime: metav1.NewTime(at.Add(-5 * time.Second)),
			Containers: []statsv1alpha1.ContainerStats{{Name: "main", StartTime: metav1.NewTime(at.Add(-4 * time.Second)),
				CPU:    &statsv1alpha1.CPUStats{Time: tm, UsageNanoCores: u(5e8), UsageCoreNanoSeconds: u(2e9)},
				Memory: &statsv1alpha1.MemoryStats{Time: tm, WorkingSetBytes: u(1 << 20)}}},
		}}}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	case path == "metrics/cadvisor":
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "# TYPE container_fs_reads_bytes_total counter")
		fmt.Fprintln(w, `container_fs_reads_bytes_total{container="main",device="/dev/sda",namespace="ml",pod="p1"} 4096`)
	default:
		status(w, http.StatusNotFound, "NotFound", "404 page not found")
	}
}

type sampleSink struct {
	mu  sync.Mutex
	got []string
}

func (s *sampleSink) Add(_ context.Context, f model.Facts) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range f.Samples {
		s.got = append(s.got, fmt.Sprintf("%s cpu=%d read=%d", x.PodUID, x.CPUNanos, x.DiskRead))
	}
	return nil
}

// serveAPI starts an apiServer on loopback and returns a client of it.
func serveAPI(t *testing.T, start time.Time) (*apiServer, kubernetes.Interface) {
	t.Helper()
	api := &apiServer{requests: map[string]int{}, stats: start}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return api, client
}

func TestNodeStatsDegrade(t *testing.T) {
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	api, client := serveAPI(t, start)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	sink := &sampleSink{}
	now := start
	p := usage.NewPoller(NewNodeStats(client), sink, log, usage.PollerOptions{
		Cluster: "c1", Interval: 15 * time.Second, Now: func() time.Time { return now },
		Pods: func() []usage.Pod {
			return []usage.Pod{{UID: "uid-1", Namespace: "ml", Name: "p1", Node: "n1"}, {UID: "uid-3", Namespace: "ml", Name: "p3", Node: "n3"}}
		},
	})
	ctx := context.Background()
	poll := func(at time.Duration) {
		now = start.Add(at)
		api.mu.Lock()
		api.stats = now
		api.mu.Unlock()
		p.Poll(ctx)
	}
	requests := func(node string) int {
		api.mu.Lock()
		defer api.mu.Unlock()
		return api.requests[node]
	}

	// n1 answers through the proxy, n3 does not: n1 is sampled, n3 backs
	// off (15 s, 30 s, 60 s …) with a warning each time it is tried.
	for _, at := range []time.Duration{0, 15, 30, 45, 60} {
		poll(at * time.Second)
	}
	if err := p.Status(); err != nil {
		t.Errorf("Status with one node down = %v, want nil: the other nodes are sampled", err)
	}
	if got := requests("n3"); got != 3 { // at 0, 15 and 45 s
		t.Errorf("n3 tried %d times in 60 s, want 3 (back-off)", got)
	}
	if got := strings.Count(logs.String(), "node's kubelet stats unavailable"); got != 3 {
		t.Errorf("%d warnings about n3, want 3:\n%s", got, logs.String())
	}
	sink.mu.Lock()
	first := append([]string(nil), sink.got...)
	sink.mu.Unlock()
	if len(first) != 5 || first[0] != "uid-1 cpu=2000000000 read=4096" {
		t.Errorf("samples of n1 = %q, want 5, the first counting from the container's start", first)
	}

	// Access refused: one warning, usage unavailable with a reason, and
	// retries after 15 s, 30 s, 60 s, … (at 75, 90, 120, 180 s).
	api.forbid.Store(true)
	before := requests("n1")
	for at := 75; at <= 200; at += 15 {
		poll(time.Duration(at) * time.Second)
	}
	err := p.Status()
	if err == nil || !errors.Is(err, usage.ErrForbidden) || !strings.Contains(err.Error(), "nodes/proxy") {
		t.Fatalf("Status after a 403 = %v, want ErrForbidden naming nodes/proxy", err)
	}
	if got := requests("n1") - before; got != 4 {
		t.Errorf("%d tries of n1 while refused from 75 s to 200 s, want 4 (back-off)", got)
	}
	if got := strings.Count(logs.String(), "resource usage unavailable"); got != 1 {
		t.Errorf("%d warnings about the refusal, want 1:\n%s", got, logs.String())
	}

	// Access granted again: usage is available at the next retry.
	api.forbid.Store(false)
	poll(75*time.Second + 2*usage.MaxBackoff)
	if err := p.Status(); err != nil {
		t.Errorf("Status after access was granted = %v", err)
	}
	if !strings.Contains(logs.String(), "resource usage available again") {
		t.Error("no notice that usage is available again")
	}
}

// TestAccessReview: with an access review, a missing permission shows at
// the first poll even while no tracked pod runs, and its grant at a retry.
func TestAccessReview(t *testing.T) {
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	api, client := serveAPI(t, start)
	api.forbid.Store(true)
	var logs bytes.Buffer
	now := start
	stats := NewNodeStats(client)
	p := usage.NewPoller(stats, &sampleSink{}, slog.New(slog.NewTextHandler(&logs, nil)), usage.PollerOptions{
		Cluster: "c1", Interval: 15 * time.Second, Now: func() time.Time { return now },
		Pods: func() []usage.Pod { return nil }, Allowed: stats.Allowed,
	})
	ctx := context.Background()
	for range 3 {
		p.Poll(ctx)
		now = now.Add(15 * time.Second)
	}
	if err := p.Status(); !errors.Is(err, usage.ErrForbidden) {
		t.Errorf("Status without the permission = %v, want ErrForbidden", err)
	}
	if n := strings.Count(logs.String(), "resource usage unavailable"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logs.String())
	}
	api.forbid.Store(false)
	now = now.Add(usage.MaxBackoff)
	p.Poll(ctx)
	if err := p.Status(); err != nil {
		t.Errorf("Status once granted = %v", err)
	}
}
