package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/e2e/scenario"
	"github.com/batchlens/batchlens/internal/usage"
)

// TestDocuments reads a node's documents as batchlens does (the Summary decoded with the
// kubelet's types, cAdvisor with usage.ParseCAdvisor) and samples them: the samples add up to
// the profile's totals, and pods elsewhere or not running are left out.
func TestDocuments(t *testing.T) {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	pod := func(name, node string, phase corev1.PodPhase, running bool) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
				Labels: map[string]string{scenario.OutcomeLabel: string(scenario.Work), scenario.ProfileLabel: "steady"}},
			Spec:   corev1.PodSpec{NodeName: node},
			Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: "model"}}},
		}
		if running {
			p.Status.ContainerStatuses[0].State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(start)}
		}
		return p
	}
	client := fake.NewClientset(pod("a", "n1", corev1.PodRunning, true), pod("b", "n2", corev1.PodRunning, true),
		pod("c", "n1", corev1.PodPending, false))
	k, err := Start(context.Background(), client, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()

	s := usage.NewSampler("e2e", 2*time.Second)
	tracked := map[string]usage.Pod{"uid-a": {UID: "uid-a", Namespace: "ns", Name: "a", Node: "n1",
		MemoryLimits: map[string]int64{"model": 256 << 20}}}
	var cpu, rx, read, n int64
	for _, d := range []time.Duration{time.Second, 5 * time.Second, 9 * time.Second, 20 * time.Second} {
		at := start.Add(d)
		raw, err := json.Marshal(k.summary("n1", at))
		if err != nil {
			t.Fatal(err)
		}
		var sum statsv1alpha1.Summary
		if err := json.Unmarshal(raw, &sum); err != nil {
			t.Fatal(err)
		}
		if len(sum.Pods) != 1 || sum.Pods[0].PodRef.Name != "a" {
			t.Fatalf("node n1 at %s reports %+v, want pod a alone", d, sum.Pods)
		}
		disk, err := usage.ParseCAdvisor(bytes.NewReader(k.cadvisor("n1", at)))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range s.Sample(usage.Look{Node: "n1", At: at, Summary: &sum, Disk: disk}, tracked) {
			cpu, rx, read, n = cpu+x.CPUNanos, rx+x.NetRx, read+x.DiskRead, n+1
		}
	}
	want := scenario.UsageOf(pod("a", "n1", corev1.PodRunning, true)).Totals()
	if n != 4 || cpu != int64(want.CPUNanos) || rx != int64(want.Rx) || read != int64(want.Read) {
		t.Errorf("%d samples: cpu %d, rx %d, read %d; fed %d, %d, %d", n, cpu, rx, read, want.CPUNanos, want.Rx, want.Read)
	}
}
