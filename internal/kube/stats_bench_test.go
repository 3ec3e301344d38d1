package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/usage"
)

type discard struct{ n int }

func (d *discard) Add(_ context.Context, f model.Facts) error { d.n += len(f.Samples); return nil }

// BenchmarkPollNode is the cost of sampling one node once: the Summary
// and cAdvisor requests through a REST client to a loopback stand-in of
// the node proxy, decoding, parsing and turning counters into samples. The
// node runs 30 tracked pods (and 10 others), each with a main container
// and a sidecar; the documents are the size a kubelet serves for that.
func BenchmarkPollNode(b *testing.B) {
	const pods = 40
	u := func(v uint64) *uint64 { return &v }
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var tracked []usage.Pod
	summary := func(at time.Time) []byte {
		tm := metav1.NewTime(at)
		s := statsv1alpha1.Summary{Node: statsv1alpha1.NodeStats{NodeName: "n1", CPU: &statsv1alpha1.CPUStats{Time: tm, UsageNanoCores: u(1e9)}}}
		for i := range pods {
			c := func(name string) statsv1alpha1.ContainerStats {
				return statsv1alpha1.ContainerStats{Name: name, StartTime: metav1.NewTime(at.Add(-time.Hour)),
					CPU:    &statsv1alpha1.CPUStats{Time: tm, UsageNanoCores: u(5e8), UsageCoreNanoSeconds: u(uint64(at.Unix()) * 1e8)},
					Memory: &statsv1alpha1.MemoryStats{Time: tm, WorkingSetBytes: u(1 << 30), RSSBytes: u(1 << 29), UsageBytes: u(1 << 30)},
					Rootfs: &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(1 << 20)}, Logs: &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(4096)}}
			}
			n := uint64(at.Unix()) * 1000
			s.Pods = append(s.Pods, statsv1alpha1.PodStats{
				PodRef:     statsv1alpha1.PodReference{Name: fmt.Sprintf("model-%d-x7k2p", i), Namespace: "ml", UID: fmt.Sprintf("uid-%d", i)},
				StartTime:  metav1.NewTime(at.Add(-time.Hour)),
				Containers: []statsv1alpha1.ContainerStats{c("main"), c("sidecar")},
				CPU:        &statsv1alpha1.CPUStats{Time: tm, UsageNanoCores: u(1e9), UsageCoreNanoSeconds: u(uint64(at.Unix()) * 2e8)},
				Memory:     &statsv1alpha1.MemoryStats{Time: tm, WorkingSetBytes: u(2 << 30), RSSBytes: u(1 << 30)},
				Network: &statsv1alpha1.NetworkStats{Time: tm, InterfaceStats: statsv1alpha1.InterfaceStats{Name: "eth0", RxBytes: u(n), TxBytes: u(n), RxErrors: u(0), TxErrors: u(0)},
					Interfaces: []statsv1alpha1.InterfaceStats{{Name: "eth0", RxBytes: u(n), TxBytes: u(n), RxErrors: u(0), TxErrors: u(0)}}},
				EphemeralStorage: &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(2 << 20)},
			})
		}
		body, _ := json.Marshal(s)
		return body
	}
	for i := range 30 {
		tracked = append(tracked, usage.Pod{UID: fmt.Sprintf("uid-%d", i), Namespace: "ml", Name: fmt.Sprintf("model-%d-x7k2p", i), Node: "n1",
			MemoryLimits: map[string]int64{"main": 4 << 30}})
	}
	var cadvisor strings.Builder
	for _, m := range []string{"container_fs_reads_bytes_total", "container_fs_writes_bytes_total"} {
		fmt.Fprintf(&cadvisor, "# HELP %s Cumulative count of bytes\n# TYPE %s counter\n", m, m)
		for i := range pods {
			for _, c := range []string{"main", "sidecar", "POD", ""} {
				fmt.Fprintf(&cadvisor, "%s{container=%q,device=\"/dev/nvme0n1\",id=\"/kubepods.slice/pod%d/cri-containerd-%d.scope\",image=\"registry.internal.example/ml/model:1.0\",name=\"%d\",namespace=\"ml\",pod=\"model-%d-x7k2p\"} 1.048576e+06 1795780815123\n",
					m, c, i, i, i, i)
			}
		}
	}
	now := at
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/stats/summary") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, cadvisor.String())
	}))
	defer srv.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, QPS: 1e6, Burst: 1e6})
	if err != nil {
		b.Fatal(err)
	}
	sink := &discard{}
	p := usage.NewPoller(NewNodeStats(client), sink, nil, usage.PollerOptions{
		Cluster: "c1", Interval: 15 * time.Second, Now: func() time.Time { return now },
		Pods: func() []usage.Pod { return tracked },
	})
	for b.Loop() {
		b.StopTimer()
		now = now.Add(15 * time.Second)
		body = summary(now)
		b.StartTimer()
		p.Poll(context.Background())
	}
	b.ReportMetric(float64(len(body)+cadvisor.Len()), "bytes/poll")
	if sink.n < 30*(b.N-1) {
		b.Fatalf("%d samples in %d polls", sink.n, b.N)
	}
}
