// Package storetest is the conformance suite of store.Store. Every backend
// runs it unchanged:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { … a new, empty store … })
//	}
//
// It uses the interface only, and states every expectation as exact values.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// at is the instant d after the origin of every test's clock.
func at(d time.Duration) time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(d) }

const (
	msec   = time.Millisecond
	minute = time.Minute
	hour   = time.Hour
)

// Run runs the conformance suite. open returns a new, empty store for one
// test; Run closes it when that test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	s := suite{open: open}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"RunMerge", s.testRunMerge},
		{"RunVersionsAnyOrder", s.testRunVersionsAnyOrder},
		{"InferredRun", s.testInferredRun},
		{"PodMerge", s.testPodMerge},
		{"PodVersionsAnyOrder", s.testPodVersionsAnyOrder},
		{"PodCronJobBackfill", s.testPodCronJobBackfill},
		{"EventMerge", s.testEventMerge},
		{"PodEvidence", s.testPodEvidence},
		{"NotFound", s.testNotFound},
		{"ClustersApart", s.testClustersApart},
		{"MillisecondPrecision", s.testMillisecondPrecision},
		{"EmptyWrite", s.testEmptyWrite},
		{"Count", s.testCount},
		{"CountDetails", s.testCountDetails},
		{"CountBuckets", s.testCountBuckets},
		{"CountMatchesFacts", s.testCountMatchesFacts},
		{"PendingAt", s.testPendingAt},
		{"PendingAtManyInstants", s.testPendingAtManyInstants},
		{"TopCronJobs", s.testTopCronJobs},
		{"TopCronJobsMatchesFacts", s.testTopCronJobsMatchesFacts},
		{"RecentEvents", s.testRecentEvents},
		{"TotalsReads", s.testTotalsReads},
		{"ListsMatchFacts", s.testListsMatchFacts},
		{"PendingPods", s.testPendingPods},
		{"RunDetail", s.testRunDetail},
		{"Breakdowns", s.testBreakdowns},
		{"UsageRollups", s.testUsageRollups},
		{"UsageByPod", s.testUsageByPod},
		{"Prune", s.testPrune},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	open func(t *testing.T) store.Store
}

// store returns a new, empty store closed at the end of t.
func (s suite) store(t *testing.T) store.Store {
	t.Helper()
	st := s.open(t)
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// write writes each of fs in its own call of Write.
func write(t *testing.T, st store.Store, fs ...model.Facts) {
	t.Helper()
	for i, f := range fs {
		if err := st.Write(context.Background(), f); err != nil {
			t.Fatalf("Write #%d: %v", i, err)
		}
	}
}

func getRun(t *testing.T, st store.Store, cluster, uid string) model.Run {
	t.Helper()
	r, err := st.Run(context.Background(), cluster, uid)
	if err != nil {
		t.Fatalf("Run(%q, %q): %v", cluster, uid, err)
	}
	return r
}

func getPod(t *testing.T, st store.Store, cluster, uid string) model.Pod {
	t.Helper()
	p, err := st.Pod(context.Background(), cluster, uid)
	if err != nil {
		t.Fatalf("Pod(%q, %q): %v", cluster, uid, err)
	}
	return p
}

func count(t *testing.T, st store.Store, m store.Metric, b store.Buckets, filt store.Filter) []int64 {
	t.Helper()
	got, err := st.Count(context.Background(), m, b, filt)
	if err != nil {
		t.Fatalf("Count(%s, %+v): %v", m, filt, err)
	}
	return got
}

// diff reports want != got. Times compare with time.Time.Equal, and an
// empty slice equals a nil one.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// permutations returns every order of the indexes 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := make([]int, 0, n)
			q = append(q, p[:i]...)
			q = append(q, n-1)
			q = append(q, p[i:]...)
			out = append(out, q)
		}
	}
	return out
}
