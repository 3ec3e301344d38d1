package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

func pendingAt(t *testing.T, st store.Store, instants []time.Time, filt store.Filter) []int64 {
	t.Helper()
	got, err := st.PendingAt(context.Background(), instants, filt)
	if err != nil {
		t.Fatalf("PendingAt(%+v): %v", filt, err)
	}
	return got
}

func (s suite) testPendingAt(t *testing.T) {
	pod := func(cluster, namespace, cronJob, uid string, created, pendingUntil time.Time) model.Pod {
		return model.Pod{Cluster: cluster, Namespace: namespace, CronJob: cronJob, UID: uid,
			CreatedAt: created, PendingUntil: pendingUntil, Phase: model.PhasePending}
	}
	st := s.store(t)
	p2 := pod("east", "ns1", "b", "p2", at(5*minute), time.Time{})
	write(t, st,
		model.Facts{Pods: []model.Pod{
			pod("east", "ns1", "a", "p1", at(0), at(10*minute)),
			p2, // still pending
			pod("east", "ns1", "a", "p3", at(5*minute), at(5*minute)), // never pending at an instant
			pod("west", "ns2", "a", "p4", at(0), at(3*hour)),          // pending for long
			pod("east", "ns1", "a", "p5", time.Time{}, time.Time{}),   // creation unknown: never counted
			pod("east", "ns2", "", "p6", at(2*hour), time.Time{}),
			pod("east", "ns1", "a", "p7", at(-48*hour), time.Time{}),
		}},
		model.Facts{Pods: []model.Pod{p2}}, // replayed: still pending
		// Evidence of a pod not written: no pod to count.
		model.Facts{Waits: []model.Waiting{{Cluster: "east", PodUID: "ghost", Container: "main", Reason: "ImagePullBackOff",
			FirstSeen: at(0)}}},
	)
	instants := []time.Time{at(-msec), at(0), at(5*minute - msec), at(5 * minute), at(10*minute - msec), at(10 * minute),
		at(2 * hour), at(3 * hour), at(24 * hour)}
	cases := []struct {
		name string
		filt store.Filter
		want []int64
	}{
		{"no filter", store.Filter{}, []int64{1, 3, 3, 4, 4, 3, 4, 3, 3}},
		{"cluster west", store.Filter{Cluster: "west"}, []int64{0, 1, 1, 1, 1, 1, 1, 0, 0}},
		{"cronjob a", store.Filter{CronJob: "a"}, []int64{1, 3, 3, 3, 3, 2, 2, 1, 1}},
		{"namespace ns2", store.Filter{Namespace: "ns2"}, []int64{0, 1, 1, 1, 1, 1, 2, 1, 1}},
		{"all filters", store.Filter{Cluster: "east", Namespace: "ns1", CronJob: "a"}, []int64{1, 2, 2, 2, 2, 1, 1, 1, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			diff(t, "pending", tc.want, pendingAt(t, st, instants, tc.filt))
			// Each count belongs to its instant, whatever their order.
			rev, want := slices.Clone(instants), slices.Clone(tc.want)
			slices.Reverse(rev)
			slices.Reverse(want)
			diff(t, "pending at reversed instants", want, pendingAt(t, st, rev, tc.filt))
		})
	}
	t.Run("no instants", func(t *testing.T) {
		diff(t, "pending", []int64{}, pendingAt(t, st, nil, store.Filter{}))
	})
}

// testPendingAtManyInstants checks PendingAt at hundreds of instants
// against the contract stated as code.
func (s suite) testPendingAtManyInstants(t *testing.T) {
	type pending struct {
		cluster           string
		created, pendUntl time.Duration // 0 is unknown for pendUntl
	}
	pods := []pending{
		{"east", 100 * minute, 115 * minute},
		{"east", 100 * minute, 115*minute + msec},
		{"east", 100 * minute, 115*minute - msec},
		{"east", 100 * minute, 100 * minute},
		{"east", 0, 400 * minute},
		{"east", 200 * minute, 0},
		{"east", -10 * hour, 5 * hour},
		{"east", 50 * minute, 66 * minute},
		{"east", 300 * minute, 299 * minute}, // clocks disagree: never pending
		{"west", 60 * minute, 90 * minute},
		{"west", 61 * minute, 61*minute + 14*minute + 59*time.Second},
	}
	st := s.store(t)
	var f model.Facts
	for i, p := range pods {
		mp := model.Pod{Cluster: p.cluster, Namespace: "ns", UID: fmt.Sprintf("pod-%d", i), CreatedAt: at(p.created),
			Phase: model.PhasePending}
		if p.pendUntl != 0 {
			mp.PendingUntil = at(p.pendUntl)
		}
		f.Pods = append(f.Pods, mp)
	}
	// A pod first written while Pending, then once it left Pending.
	f.Pods = append(f.Pods, model.Pod{Cluster: "east", UID: "late", CreatedAt: at(30 * minute), Phase: model.PhasePending})
	write(t, st, f, model.Facts{Pods: []model.Pod{{Cluster: "east", UID: "late", PendingUntil: at(40 * minute),
		Phase: model.PhaseRunning}}})
	pods = append(pods, pending{"east", 30 * minute, 40 * minute})

	var instants []time.Time
	for d := -10 * minute; d <= 450*minute; d += minute {
		instants = append(instants, at(d), at(d+msec), at(d-msec))
	}
	for _, cluster := range []string{"", "east", "west"} {
		want := make([]int64, len(instants))
		for i, ti := range instants {
			for _, p := range pods {
				if cluster != "" && p.cluster != cluster {
					continue
				}
				c := at(p.created)
				if !c.After(ti) && (p.pendUntl == 0 || at(p.pendUntl).After(ti)) {
					want[i]++
				}
			}
		}
		got := pendingAt(t, st, instants, store.Filter{Cluster: cluster})
		if len(got) != len(want) {
			t.Fatalf("cluster %q: %d counts for %d instants", cluster, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("cluster %q: pending at %v = %d, want %d", cluster, instants[i].Sub(at(0)), got[i], want[i])
			}
		}
	}
}

func (s suite) testTopCronJobs(t *testing.T) {
	st := s.store(t)
	var f model.Facts
	add := func(cluster, namespace, cronJob string, created ...time.Duration) {
		for _, d := range created {
			f.Runs = append(f.Runs, model.Run{Cluster: cluster, Namespace: namespace, CronJob: cronJob,
				UID: fmt.Sprintf("run-%d", len(f.Runs)), CreatedAt: at(d)})
		}
	}
	add("east", "ns1", "a", 0, 10*minute, hour-msec)
	add("west", "ns1", "a", 30*minute)
	add("west", "ns1", "c", minute, 2*minute, 3*minute, 4*minute)
	add("east", "ns1", "b", 0, 5*minute, 6*minute, -msec, hour) // the last two outside [0, 1h)
	add("east", "ns2", "a", 7*minute, 8*minute, 9*minute)
	add("east", "ns1", "", minute, 2*minute, 3*minute, 4*minute, 5*minute) // runs without CronJob
	add("east", "ns1", "d", -2*hour, -2*hour, -2*hour, -2*hour, -2*hour, -2*hour, -2*hour, -2*hour, -2*hour, -2*hour)
	f.Runs = append(f.Runs, model.Run{Cluster: "east", Namespace: "ns1", CronJob: "e", UID: "unknown-creation"})
	f.Runs = append(f.Runs, model.Run{Cluster: "east", CronJob: "f", UID: "unknown-namespace", CreatedAt: at(minute)})
	write(t, st, f)

	type top = []store.CronJobCount
	cc := func(cluster, namespace, cronJob string, n int64) store.CronJobCount {
		return store.CronJobCount{Cluster: cluster, Namespace: namespace, CronJob: cronJob, Count: n}
	}
	cases := []struct {
		name     string
		from, to time.Time
		filt     store.Filter
		limit    int
		want     top
	}{
		{"most first, ties by namespace, name, cluster; one row per cluster", at(0), at(hour), store.Filter{}, 10,
			top{cc("west", "ns1", "c", 4), cc("east", "ns1", "a", 3), cc("east", "ns1", "b", 3), cc("east", "ns2", "a", 3), cc("west", "ns1", "a", 1)}},
		{"limit", at(0), at(hour), store.Filter{}, 2, top{cc("west", "ns1", "c", 4), cc("east", "ns1", "a", 3)}},
		{"limit 0", at(0), at(hour), store.Filter{}, 0, top{}},
		{"cluster east", at(0), at(hour), store.Filter{Cluster: "east"}, 10,
			top{cc("east", "ns1", "a", 3), cc("east", "ns1", "b", 3), cc("east", "ns2", "a", 3)}},
		{"cluster west", at(0), at(hour), store.Filter{Cluster: "west"}, 10, top{cc("west", "ns1", "c", 4), cc("west", "ns1", "a", 1)}},
		{"namespace", at(0), at(hour), store.Filter{Namespace: "ns2"}, 10, top{cc("east", "ns2", "a", 3)}},
		{"cronjob", at(0), at(hour), store.Filter{CronJob: "a"}, 10, top{cc("east", "ns1", "a", 3), cc("east", "ns2", "a", 3), cc("west", "ns1", "a", 1)}},
		{"all filters", at(0), at(hour), store.Filter{Cluster: "east", Namespace: "ns1", CronJob: "b"}, 10, top{cc("east", "ns1", "b", 3)}},
		{"wider range", at(-3 * hour), at(2 * hour), store.Filter{}, 10,
			top{cc("east", "ns1", "d", 10), cc("east", "ns1", "b", 5), cc("west", "ns1", "c", 4), cc("east", "ns1", "a", 3), cc("east", "ns2", "a", 3), cc("west", "ns1", "a", 1)}},
		{"empty range", at(2 * hour), at(3 * hour), store.Filter{}, 10, top{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.TopCronJobs(context.Background(), tc.from, tc.to, tc.filt, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "top", tc.want, got)
		})
	}
}

// testTopCronJobsMatchesFacts writes runs over several days in random order
// and checks TopCronJobs, for ranges that start and end anywhere in a day,
// against counts worked out from the runs themselves.
func (s suite) testTopCronJobsMatchesFacts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	type group struct{ cluster, namespace, cronJob string }
	type run struct {
		group
		created time.Time
	}
	var runs []run
	var writes []model.Facts
	for i := range 600 {
		g := group{[]string{"east", "west"}[rng.IntN(2)], []string{"ns1", "ns2"}[rng.IntN(2)], fmt.Sprintf("cj%d", rng.IntN(7))}
		r := model.Run{Cluster: g.cluster, Namespace: g.namespace, UID: fmt.Sprintf("run-%d", i), CronJob: g.cronJob,
			CreatedAt: at(-2*24*hour + time.Duration(rng.Int64N(int64(5*24*hour/msec)))*msec)}
		runs = append(runs, run{g, r.CreatedAt})
		// The run as first seen: without its CronJob or creation time, or
		// with a later one (the earliest wins).
		early := r
		switch rng.IntN(4) {
		case 0:
			early.CronJob = ""
		case 1:
			early.CreatedAt = time.Time{}
		case 2:
			early.CreatedAt = r.CreatedAt.Add(time.Duration(rng.Int64N(int64(30 * hour))))
		}
		writes = append(writes, model.Facts{Runs: []model.Run{early}}, model.Facts{Runs: []model.Run{r}})
	}
	st := s.store(t)
	rng.Shuffle(len(writes), func(i, j int) { writes[i], writes[j] = writes[j], writes[i] })
	for len(writes) > 0 {
		var batch model.Facts
		n := min(1+rng.IntN(40), len(writes))
		for _, w := range writes[:n] {
			batch.Add(w)
		}
		write(t, st, batch)
		writes = writes[n:]
	}

	ranges := []struct{ from, to time.Time }{
		{at(-3 * 24 * hour), at(4 * 24 * hour)},
		{at(-36*hour + 17*msec), at(50*hour - 3*time.Second)},
		{at(-12 * hour), at(12 * hour)}, // exactly one UTC day
		{at(-11 * hour), at(11 * hour)},
		{at(5 * hour), at(6 * hour)},
	}
	filters := []store.Filter{{}, {Cluster: "west"}, {Namespace: "ns1"}, {CronJob: "cj3"}, {Cluster: "east", Namespace: "ns2"}}
	for _, r := range ranges {
		for _, filt := range filters {
			n := map[[3]string]int64{}
			for _, x := range runs {
				if x.created.Before(r.from) || !x.created.Before(r.to) || filt.Cluster != "" && x.cluster != filt.Cluster ||
					filt.Namespace != "" && x.namespace != filt.Namespace || filt.CronJob != "" && x.cronJob != filt.CronJob {
					continue
				}
				n[[3]string{x.cluster, x.namespace, x.cronJob}]++
			}
			var want []store.CronJobCount
			for k, v := range n {
				want = append(want, store.CronJobCount{Cluster: k[0], Namespace: k[1], CronJob: k[2], Count: v})
			}
			slices.SortFunc(want, func(a, b store.CronJobCount) int {
				if a.Count != b.Count {
					return cmp.Compare(b.Count, a.Count)
				}
				return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.CronJob, b.CronJob), cmp.Compare(a.Cluster, b.Cluster))
			})
			want = want[:min(len(want), 5)]
			got, err := st.TopCronJobs(context.Background(), r.from, r.to, filt, 5)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, fmt.Sprintf("top of [%v, %v) %+v", r.from.Sub(at(0)), r.to.Sub(at(0)), filt), want, got)
		}
	}
}

func (s suite) testRecentEvents(t *testing.T) {
	st := s.store(t)
	ev := func(cluster, namespace, uid, kind, name, involvedUID string, last time.Duration) model.Event {
		return model.Event{Cluster: cluster, Namespace: namespace, UID: uid, InvolvedKind: kind, InvolvedName: name,
			InvolvedUID: involvedUID, Type: "Normal", Reason: "R", Message: "m " + uid, Source: "s", Count: 1,
			FirstSeen: at(last - minute), LastSeen: at(last)}
	}
	e1 := ev("east", "ns1", "e1", "CronJob", "a", "cj-a", 10*minute)
	e1.Type, e1.Reason, e1.Message, e1.Source, e1.Count = "Warning", "FailedNeedsStart", "Cannot determine if job needs to be started", "cronjob-controller", 7
	write(t, st, model.Facts{
		Runs: []model.Run{
			{Cluster: "east", Namespace: "ns1", UID: "run-a1", Name: "a-1", CronJob: "a"},
			{Cluster: "east", Namespace: "ns1", UID: "run-b1", Name: "b-1", CronJob: "b"},
		},
		Pods: []model.Pod{
			{Cluster: "east", Namespace: "ns1", UID: "pod-a1", Name: "a-1-x", JobUID: "run-a1"}, // CronJob from its run
			{Cluster: "east", Namespace: "ns1", UID: "pod-x", Name: "a", JobUID: "run-x"},
		},
		Events: []model.Event{
			e1,
			ev("east", "ns1", "e2", "Job", "a-1", "run-a1", 20*minute),
			ev("east", "ns1", "e3", "Pod", "a-1-x", "pod-a1", 30*minute),
			ev("east", "ns1", "e4", "Pod", "a", "pod-x", 40*minute), // named like the CronJob, but not of it
			ev("east", "ns1", "e5", "CronJob", "b", "cj-b", 50*minute),
			ev("east", "ns1", "e6", "Job", "b-1", "run-b1", 55*minute),
			ev("west", "ns1", "e7", "CronJob", "a", "cj-a-west", 15*minute),
			ev("east", "ns1", "e8", "CronJob", "a", "cj-a", hour),
			ev("east", "ns1", "e9", "CronJob", "a", "cj-a", -msec),
			ev("east", "ns2", "e11", "CronJob", "a", "cj-a2", 5*minute),
			{Cluster: "east", Namespace: "ns1", UID: "e10", InvolvedKind: "CronJob", InvolvedName: "a", Count: 1},
		},
	})
	cases := []struct {
		name  string
		filt  store.Filter
		limit int
		want  []string
	}{
		{"newest first", store.Filter{}, 100, []string{"e6", "e5", "e4", "e3", "e2", "e7", "e1", "e11"}},
		{"limit", store.Filter{}, 3, []string{"e6", "e5", "e4"}},
		{"limit 0", store.Filter{}, 0, nil},
		{"cronjob, its runs and their pods", store.Filter{CronJob: "a"}, 100, []string{"e3", "e2", "e7", "e1", "e11"}},
		{"cronjob with limit", store.Filter{CronJob: "a"}, 2, []string{"e3", "e2"}},
		{"cronjob and cluster", store.Filter{Cluster: "east", CronJob: "a"}, 100, []string{"e3", "e2", "e1", "e11"}},
		{"cronjob and namespace", store.Filter{Namespace: "ns1", CronJob: "a"}, 100, []string{"e3", "e2", "e7", "e1"}},
		{"other cronjob", store.Filter{CronJob: "b"}, 100, []string{"e6", "e5"}},
		{"cluster", store.Filter{Cluster: "west"}, 100, []string{"e7"}},
		{"namespace", store.Filter{Namespace: "ns2"}, 100, []string{"e11"}},
		{"unknown cronjob", store.Filter{CronJob: "zzz"}, 100, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.RecentEvents(context.Background(), at(0), at(hour), tc.filt, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var uids []string
			for _, e := range got {
				uids = append(uids, e.UID)
			}
			diff(t, "event UIDs", tc.want, uids)
			// Count agrees with the list when nothing is left out.
			if tc.limit == 100 {
				b := store.Buckets{From: at(0), To: at(hour), Step: hour}
				diff(t, "events counted", []int64{int64(len(tc.want))}, count(t, st, store.Events, b, tc.filt))
			}
		})
	}
	t.Run("round trip", func(t *testing.T) {
		got, err := st.RecentEvents(context.Background(), at(10*minute), at(10*minute+msec), store.Filter{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "events", []model.Event{e1}, got)
	})
}
