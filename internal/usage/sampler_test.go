package usage

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/internal/model"
)

const (
	node      = "ip-10-42-11-23.eu-west-1.compute.internal"
	graphUID  = "6f1c2a8e-3b9d-4c55-9a1e-0d2b7c4e9f10"
	invUID    = "0b8e61d4-9a0c-4f3e-8e21-5c7d0a6b3e22"
	otherUID  = "d3f5c7a9-1111-4b2a-8c3d-9e8f7a6b5c4d"
	graphName = "graph-features-29401230-x7k2p"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 15, 0, time.UTC)

// summary decodes testdata/summary.json, shaped as a kubelet serves it,
// refusing any field the official types do not have.
func summary(t *testing.T) *statsv1alpha1.Summary {
	t.Helper()
	b, err := os.ReadFile("testdata/summary.json")
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var s statsv1alpha1.Summary
	if err := d.Decode(&s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func cadvisor(t *testing.T) map[ContainerRef]DiskIO {
	t.Helper()
	f, err := os.Open("testdata/cadvisor.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ParseCAdvisor(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseCAdvisor(t *testing.T) {
	want := map[ContainerRef]DiskIO{
		{"fraud", graphName, "main"}:                           {Read: 227209216 + 1048576, Write: 52428800},
		{"monitoring", "node-exporter-7w2lq", "node-exporter"}: {Read: 42491904},
	}
	if diff := cmp.Diff(want, cadvisor(t)); diff != "" {
		t.Errorf("ParseCAdvisor (-want +got):\n%s", diff)
	}
	if _, err := ParseCAdvisor(bytes.NewBufferString("container_fs_reads_bytes_total{container=\"main\" 12\n")); err == nil {
		t.Error("a malformed document parsed")
	}
}

// tracked are the pods batchlens tracks on the node; node-exporter is not one.
var tracked = map[string]Pod{
	graphUID: {UID: graphUID, Namespace: "fraud", Name: graphName, Node: node, RunUID: "job-1", CronJob: "graph-features",
		MemoryLimits: map[string]int64{"main": 4 << 30}},
	invUID: {UID: invUID, Namespace: "forecasting", Name: "inventory-sync-29401230-q9t4m", Node: node, RunUID: "job-2"},
}

// advance returns a copy of s as the kubelet would show it d later, the
// graph-features pod's counters grown by the given amounts.
func advance(t *testing.T, s *statsv1alpha1.Summary, d time.Duration, cpu, rx uint64, mutate func(p *statsv1alpha1.PodStats)) *statsv1alpha1.Summary {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var n statsv1alpha1.Summary
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	for i := range n.Pods {
		p := &n.Pods[i]
		if p.PodRef.UID != graphUID {
			continue
		}
		tm := metav1.NewTime(p.CPU.Time.Add(d))
		p.CPU.Time, p.Containers[0].CPU.Time = tm, tm
		*p.Containers[0].CPU.UsageCoreNanoSeconds += cpu
		*p.CPU.UsageCoreNanoSeconds += cpu
		*p.Network.RxBytes += rx
		p.Network.Interfaces[0].RxBytes = p.Network.RxBytes
		if mutate != nil {
			mutate(p)
		}
	}
	return &n
}

func TestSampler(t *testing.T) {
	s := NewSampler("prod", 15*time.Second)
	first := summary(t)
	disk := cadvisor(t)
	graph := func(mutate func(x *model.Sample)) model.Sample {
		x := model.Sample{Cluster: "prod", Namespace: "fraud", PodUID: graphUID, Pod: graphName, RunUID: "job-1",
			CronJob: "graph-features", CPUNanoCores: 1880101223, MemoryBytes: 2215657472, RSSBytes: 2101874688,
			MemoryRatio: 2214592512.0 / (4 << 30), StorageBytes: 52482048}
		mutate(&x)
		return x
	}
	look := func(sum *statsv1alpha1.Summary, at time.Time, disk map[ContainerRef]DiskIO) []model.Sample {
		return s.Sample(Look{Node: node, At: at, Summary: sum, Disk: disk}, tracked)
	}

	// First look: graph-features' container started 10 s ago, so its
	// counters count from zero over the 10 s since. inventory-sync runs
	// for 10 minutes: its first look sets the baseline only, and it lacks
	// the CPU counter, RSS, pod-level figures and network.
	got := look(first, t0.Add(time.Second), disk)
	want := []model.Sample{
		graph(func(x *model.Sample) {
			x.At, x.Window = t0, 10*time.Second
			x.CPUNanos, x.DiskRead, x.DiskWrite = 17520331200, 228257792, 52428800
			x.NetRx, x.NetTx, x.NetRxErrors = 734003200, 10485760, 2
		}),
		{Cluster: "prod", Namespace: "forecasting", PodUID: invUID, Pod: "inventory-sync-29401230-q9t4m", RunUID: "job-2",
			At: t0.Add(-time.Second), CPUNanoCores: 401230011, MemoryBytes: 734003200},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("first look (-want +got):\n%s", diff)
	}

	// 15 s later: what the counters grew by. cAdvisor does not answer
	// this time: no disk I/O, and its baseline is kept.
	second := advance(t, first, 15*time.Second, 3e9, 1000, nil)
	got = look(second, t0.Add(16*time.Second), nil)
	want = []model.Sample{graph(func(x *model.Sample) {
		x.At, x.Window, x.CPUNanos, x.NetRx = t0.Add(15*time.Second), 15*time.Second, 3e9, 1000
	})}
	// inventory-sync's stats did not change: nothing new to sample.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("second look (-want +got):\n%s", diff)
	}

	// The container restarted (OOM kill): its counters start again from
	// zero. The pod's network counters keep growing.
	third := advance(t, second, 15*time.Second, 0, 500, func(p *statsv1alpha1.PodStats) {
		p.Containers[0].StartTime = metav1.NewTime(t0.Add(25 * time.Second))
		*p.Containers[0].CPU.UsageCoreNanoSeconds = 2e9
	})
	grown := map[ContainerRef]DiskIO{{"fraud", graphName, "main"}: {Read: 4096, Write: 8192}}
	got = look(third, t0.Add(31*time.Second), grown)
	want = []model.Sample{graph(func(x *model.Sample) {
		x.At, x.Window, x.CPUNanos, x.NetRx = t0.Add(30*time.Second), 15*time.Second, 2e9, 500
		x.DiskRead, x.DiskWrite = 4096, 8192
	})}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("restart (-want +got):\n%s", diff)
	}

	// A counter that falls without a new start time was reset too.
	fourth := advance(t, third, 15*time.Second, 0, 0, func(p *statsv1alpha1.PodStats) {
		*p.Containers[0].CPU.UsageCoreNanoSeconds = 1e9
		p.Network.Interfaces[0].RxBytes = ptr(uint64(100))
	})
	got = look(fourth, t0.Add(46*time.Second), grown)
	want = []model.Sample{graph(func(x *model.Sample) {
		x.At, x.Window, x.CPUNanos, x.NetRx = t0.Add(45*time.Second), 15*time.Second, 1e9, 100
	})}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("reset (-want +got):\n%s", diff)
	}
}

func TestSamplerForgetsPods(t *testing.T) {
	s := NewSampler("prod", 15*time.Second)
	first := summary(t)
	s.Sample(Look{Node: node, At: t0, Summary: first}, tracked)
	// A look without the pod forgets it; when it shows again (a pod does
	// not come back, but a node's answer may lack it once) its counters
	// are a fresh baseline, not a reset.
	s.Sample(Look{Node: node, At: t0.Add(15 * time.Second), Summary: &statsv1alpha1.Summary{}}, tracked)
	got := s.Sample(Look{Node: node, At: t0.Add(30 * time.Second), Summary: advance(t, first, 10*time.Minute, 1e9, 0, nil)}, tracked)
	for _, x := range got {
		if x.PodUID == graphUID && (x.CPUNanos != 0 || x.Window != 0) {
			t.Errorf("pod seen again after a gap: %+v, want a baseline", x)
		}
	}
}

func ptr[T any](v T) *T { return &v }
