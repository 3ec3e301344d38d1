package kube

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/batchlens/batchlens/internal/model"
)

// sink collects facts in memory.
type sink struct {
	mu    sync.Mutex
	facts model.Facts
}

func (s *sink) Add(_ context.Context, f model.Facts) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.facts.Add(f)
	return nil
}

func (s *sink) podNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, p := range s.facts.Pods {
		if !slices.Contains(names, p.Namespace+"/"+p.Name) {
			names = append(names, p.Namespace+"/"+p.Name)
		}
	}
	slices.Sort(names)
	return names
}

func testPod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, UID: types.UID(ns + "-" + name), Labels: labels, ResourceVersion: "1",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "j", UID: types.UID(ns + "-j")}},
	}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
}

func TestWatcherScope(t *testing.T) {
	team := map[string]string{"team": "ds"}
	cases := []struct {
		name  string
		opts  Options
		want  []string
		cjOfA string // CronJob attributed to pod a/p1
	}{
		{"all namespaces", Options{}, []string{"a/p1", "b/p2", "c/p3"}, "nightly"},
		{"two namespaces", Options{Namespaces: []string{"a", "c"}}, []string{"a/p1", "c/p3"}, "nightly"},
		{"label selector", Options{LabelSelector: "team=ds"}, []string{"a/p1", "c/p3"}, "nightly"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "j", UID: "a-j", Labels: team, ResourceVersion: "1",
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: "nightly", UID: "cj"}}}}
			client := fake.NewClientset(job, testPod("a", "p1", team), testPod("b", "p2", nil), testPod("c", "p3", team))
			s := &sink{}
			tc.opts.Cluster = "c1"
			w := New(client, s, slog.New(slog.NewTextHandler(io.Discard, nil)), tc.opts)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- w.Run(ctx) }()
			waitFor(t, func() bool { return w.Ready() == nil })
			if got := s.podNames(); !slices.Equal(got, tc.want) {
				t.Errorf("pods = %v, want %v", got, tc.want)
			}
			// Deletions arrive as facts with a deletion time.
			if err := client.CoreV1().Pods("a").Delete(ctx, "p1", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				last := s.facts.Pods[len(s.facts.Pods)-1]
				return last.Name == "p1" && !last.DeletedAt.IsZero()
			})
			s.mu.Lock()
			for _, p := range s.facts.Pods {
				if p.Name == "p1" && p.CronJob != "" && p.CronJob != tc.cjOfA {
					t.Errorf("p1 attributed to %q, want %q", p.CronJob, tc.cjOfA)
				}
			}
			s.mu.Unlock()
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTombstone(t *testing.T) {
	s := &sink{}
	w := New(fake.NewClientset(), s, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Cluster: "c1", Now: func() time.Time { return time.Unix(100, 0) }})
	h := w.handler(context.Background())
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "a/p1", Obj: testPod("a", "p1", nil)})
	if len(s.facts.Pods) != 1 || s.facts.Pods[0].DeletedAt.Unix() != 100 {
		t.Fatalf("tombstone not handled: %+v", s.facts.Pods)
	}
	if w.Handled() != 1 {
		t.Errorf("handled = %d", w.Handled())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
