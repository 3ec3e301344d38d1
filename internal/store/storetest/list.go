package storetest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// testListsMatchFacts checks Runs and Pods against the facts of
// randomHistory: the same items Count counts, latest first, cut at Limit.
func (s suite) testListsMatchFacts(t *testing.T) {
	st, want := s.randomHistory(t)
	ctx := context.Background()
	list := func(l store.Listing) []string {
		var uids []string
		if slices.Contains([]store.Metric{store.RunsCreated, store.RunsSucceeded, store.RunsFailed}, l.Metric) {
			runs, err := st.Runs(ctx, l)
			if err != nil {
				t.Fatalf("Runs(%+v): %v", l, err)
			}
			for _, r := range runs {
				uids = append(uids, r.UID)
			}
			return uids
		}
		pods, err := st.Pods(ctx, l)
		if err != nil {
			t.Fatalf("Pods(%+v): %v", l, err)
		}
		for _, p := range pods {
			uids = append(uids, p.UID)
		}
		return uids
	}
	metrics := []store.Metric{store.RunsCreated, store.RunsSucceeded, store.RunsFailed, store.PodsFinished,
		store.PodsSucceeded, store.PodsFailed, store.PodsOOM, store.PodsCrashLoop, store.Restarts}
	for _, m := range metrics {
		for _, b := range historyLayouts() {
			for _, filt := range historyFilters() {
				// The latest fact of each UID in range: a pod restarts
				// several times but is listed once.
				latest := map[string]fact{}
				for _, f := range want[m] {
					if f.matches(filt) && !f.at.Before(b.From) && f.at.Before(b.To) {
						if g, ok := latest[f.uid]; !ok || f.at.After(g.at) {
							latest[f.uid] = f
						}
					}
				}
				facts := slices.Collect(maps.Values(latest))
				slices.SortFunc(facts, func(a, b fact) int {
					return cmp.Or(b.at.Compare(a.at), cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.uid, b.uid))
				})
				var exp []string
				for _, f := range facts {
					exp = append(exp, f.uid)
				}
				l := store.Listing{Metric: m, From: b.From, To: b.To, Filter: filt, Limit: 10_000}
				what := fmt.Sprintf("%s from %v to %v, %+v", m, b.From.Sub(at(0)), b.To.Sub(at(0)), filt)
				diff(t, what, exp, list(l))
				l.Limit = 3
				diff(t, what+", limit 3", exp[:min(3, len(exp))], list(l))
			}
		}
	}
	// Restarts by container add up to the restarts.
	for _, b := range historyLayouts() {
		for _, filt := range historyFilters() {
			keys, err := st.CountBy(ctx, store.RestartsByContainer, b, filt)
			if err != nil {
				t.Fatal(err)
			}
			sum := make([]int64, b.N())
			for _, k := range keys {
				for i, n := range k.Counts {
					sum[i] += n
				}
			}
			diff(t, fmt.Sprintf("restarts by container, %+v", filt), count(t, st, store.Restarts, b, filt), sum)
		}
	}
	t.Run("other metrics", func(t *testing.T) {
		l := store.Listing{From: at(0), To: at(hour), Limit: 10}
		for _, m := range []store.Metric{store.Events, store.PodsFailed, "nonsense"} {
			l.Metric = m
			if _, err := st.Runs(ctx, l); err == nil {
				t.Errorf("Runs(%s): no error", m)
			}
		}
		for _, m := range []store.Metric{store.Events, store.RunsCreated, "nonsense"} {
			l.Metric = m
			if _, err := st.Pods(ctx, l); err == nil {
				t.Errorf("Pods(%s): no error", m)
			}
		}
	})
}

// testPendingPods checks PendingPods against PendingAt.
func (s suite) testPendingPods(t *testing.T) {
	st := s.store(t)
	pod := func(uid, ns string, created, until time.Duration) model.Pod {
		p := model.Pod{Cluster: "east", Namespace: ns, UID: uid, Name: "pod-" + uid, CreatedAt: at(created), Phase: model.PhasePending}
		if until != 0 {
			p.PendingUntil = at(until)
		}
		return p
	}
	write(t, st, model.Facts{Pods: []model.Pod{
		pod("a", "ns1", 0, 10*minute),
		pod("b", "ns1", 5*minute, 0),
		pod("c", "ns2", 6*minute, 6*hour),
		pod("d", "ns2", -30*hour, 0),
	}})
	ctx := context.Background()
	for _, tc := range []struct {
		at   time.Duration
		filt store.Filter
		want []string
	}{
		{-time.Minute, store.Filter{}, []string{"d"}},
		{7 * minute, store.Filter{}, []string{"c", "b", "a", "d"}},
		{10 * minute, store.Filter{}, []string{"c", "b", "d"}},
		{10 * minute, store.Filter{Namespace: "ns1"}, []string{"b"}},
		{7 * hour, store.Filter{Cluster: "west"}, nil},
	} {
		pods, err := st.PendingPods(ctx, at(tc.at), tc.filt, 100)
		if err != nil {
			t.Fatalf("PendingPods: %v", err)
		}
		var got []string
		for _, p := range pods {
			got = append(got, p.UID)
		}
		diff(t, fmt.Sprintf("pending at %v, %+v", tc.at, tc.filt), tc.want, got)
		n := pendingAt(t, st, []time.Time{at(tc.at)}, tc.filt)
		if int(n[0]) != len(got) {
			t.Errorf("pending at %v: PendingAt %d, PendingPods %d", tc.at, n[0], len(got))
		}
	}
}

// testRunDetail checks RunPods, ObjectEvents and FailureReasons.
func (s suite) testRunDetail(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()
	run := func(uid, reason string, finished time.Duration) model.Run {
		return model.Run{Cluster: "east", Namespace: "ns", UID: uid, Name: "job-" + uid, CronJob: "etl",
			CreatedAt: at(0), FinishedAt: at(finished), Outcome: model.OutcomeFailed, Reason: reason}
	}
	pod := func(uid, job string, created time.Duration) model.Pod {
		return model.Pod{Cluster: "east", Namespace: "ns", UID: uid, Name: "pod-" + uid, JobUID: job, CreatedAt: at(created)}
	}
	ev := func(uid, involved string, last time.Duration) model.Event {
		return model.Event{Cluster: "east", Namespace: "ns", UID: uid, InvolvedKind: "Pod", InvolvedUID: involved,
			Reason: "BackOff", LastSeen: at(last)}
	}
	write(t, st, model.Facts{
		Runs: []model.Run{run("r1", "BackoffLimitExceeded", minute), run("r2", "DeadlineExceeded", 2*minute),
			run("r3", "BackoffLimitExceeded", 3*minute), run("r4", "", 4*minute), run("r5", "DeadlineExceeded", 2*hour)},
		Pods: []model.Pod{pod("p2", "r1", 2*time.Second), pod("p1", "r1", time.Second), pod("p3", "r2", 0)},
		Events: []model.Event{ev("e1", "p1", minute), ev("e2", "p2", 2*minute), ev("e3", "p3", 3*minute),
			ev("e4", "r1", 30*time.Second)},
	})
	// Evidence of a pod never written is not one of the run's pods.
	write(t, st, model.Facts{Terminations: []model.Termination{{Cluster: "east", PodUID: "ghost", Container: "main"}}})

	pods, err := st.RunPods(ctx, "east", "r1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	diff(t, "run pods", []string{"pod-p1", "pod-p2"}, names)
	if pods, err := st.RunPods(ctx, "west", "r1"); err != nil || len(pods) != 0 {
		t.Errorf("RunPods in another cluster = %v, %v; want none", pods, err)
	}

	evs, err := st.ObjectEvents(ctx, "east", []string{"r1", "p1", "p2"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, e := range evs {
		uids = append(uids, e.UID)
	}
	diff(t, "object events", []string{"e2", "e1", "e4"}, uids)
	if evs, err := st.ObjectEvents(ctx, "east", []string{"r1", "p1", "p2"}, 1); err != nil || len(evs) != 1 || evs[0].UID != "e2" {
		t.Errorf("ObjectEvents limit 1 = %v, %v", evs, err)
	}
	if evs, err := st.ObjectEvents(ctx, "east", nil, 10); err != nil || len(evs) != 0 {
		t.Errorf("ObjectEvents of nothing = %v, %v", evs, err)
	}

	reasons, err := st.FailureReasons(ctx, at(0), at(hour), store.Filter{CronJob: "etl"})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "failure reasons", []store.ReasonCount{{Reason: "BackoffLimitExceeded", Count: 2}, {Reason: "", Count: 1}, {Reason: "DeadlineExceeded", Count: 1}}, reasons)
	if reasons, err := st.FailureReasons(ctx, at(0), at(hour), store.Filter{CronJob: "other"}); err != nil || len(reasons) != 0 {
		t.Errorf("FailureReasons of another CronJob = %v, %v", reasons, err)
	}
}
