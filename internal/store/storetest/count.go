package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// A spot is where and when one counted fact happens. Every metric's test
// puts one fact at each spot, so all metrics share the expected counts.
type spot struct {
	cluster, namespace, cronJob string
	at                          time.Time
}

func spots() []spot {
	return []spot{
		{"east", "ns1", "a", at(0)},                // bucket 0, its first instant
		{"east", "ns1", "a", at(20*minute - msec)}, // bucket 0, its last millisecond
		{"west", "ns1", "a", at(10 * minute)},      // bucket 0
		{"east", "ns1", "b", at(20 * minute)},      // bucket 1, its first instant
		{"east", "ns2", "a", at(45 * minute)},      // bucket 2, the shorter last one
		{"east", "ns1", "", at(50*minute - msec)},  // bucket 2, a run without CronJob
		{"east", "ns1", "a", at(-msec)},            // before the range
		{"east", "ns1", "a", at(50 * minute)},      // at its end: outside
	}
}

// countBuckets cuts [0, 50m) into 20m, 20m and 10m.
func countBuckets() store.Buckets {
	return store.Buckets{From: at(0), To: at(50 * minute), Step: 20 * minute}
}

// spotChecks are the counts of the facts at spots() for several filters.
func spotChecks() []struct {
	name string
	filt store.Filter
	want []int64
} {
	return []struct {
		name string
		filt store.Filter
		want []int64
	}{
		{"no filter", store.Filter{}, []int64{3, 1, 2}},
		{"cluster east", store.Filter{Cluster: "east"}, []int64{2, 1, 2}},
		{"cluster west", store.Filter{Cluster: "west"}, []int64{1, 0, 0}},
		{"unknown cluster", store.Filter{Cluster: "north"}, []int64{0, 0, 0}},
		{"namespace ns1", store.Filter{Namespace: "ns1"}, []int64{3, 1, 1}},
		{"namespace ns2", store.Filter{Namespace: "ns2"}, []int64{0, 0, 1}},
		{"cronjob a", store.Filter{CronJob: "a"}, []int64{3, 0, 1}},
		{"cronjob b", store.Filter{CronJob: "b"}, []int64{0, 1, 0}},
		{"cluster, namespace and cronjob", store.Filter{Cluster: "east", Namespace: "ns1", CronJob: "a"}, []int64{2, 0, 0}},
		{"cluster and cronjob", store.Filter{Cluster: "east", CronJob: "a"}, []int64{2, 0, 1}},
		{"namespace of another cronjob", store.Filter{Namespace: "ns2", CronJob: "b"}, []int64{0, 0, 0}},
	}
}

// The run and the pod of spot i.
func spotRun(i int, sp spot) model.Run {
	return model.Run{Cluster: sp.cluster, Namespace: sp.namespace, UID: fmt.Sprintf("run-%d", i),
		Name: fmt.Sprintf("job-%d", i), CronJob: sp.cronJob, CreatedAt: sp.at.Add(-hour)}
}

func spotPod(i int, sp spot) model.Pod {
	return model.Pod{Cluster: sp.cluster, Namespace: sp.namespace, UID: fmt.Sprintf("pod-%d", i),
		Name: fmt.Sprintf("job-%d-x", i), JobUID: fmt.Sprintf("run-%d", i), JobName: fmt.Sprintf("job-%d", i),
		CronJob: sp.cronJob, CreatedAt: sp.at.Add(-hour), PendingUntil: sp.at.Add(-hour), StartedAt: sp.at.Add(-hour),
		Phase: model.PhaseRunning}
}

// noisePod is a pod in the range and in every filter's way that no metric
// may count by itself.
func noisePod(uid string) model.Pod {
	return model.Pod{Cluster: "east", Namespace: "ns1", UID: uid, JobUID: "noise-run", CronJob: "a",
		CreatedAt: at(minute), Phase: model.PhaseRunning}
}

// countCase is how one metric's facts are written: facts(i, spot) puts one
// counted fact at spot i (in one or more writes), noise must never count.
type countCase struct {
	metric store.Metric
	facts  func(i int, sp spot) []model.Facts
	noise  []model.Facts
}

func countCases() []countCase {
	runs := func(r ...model.Run) model.Facts { return model.Facts{Runs: r} }
	pods := func(p ...model.Pod) model.Facts { return model.Facts{Pods: p} }
	finishedRun := func(i int, sp spot, outcome string) model.Run {
		r := spotRun(i, sp)
		r.FinishedAt, r.Outcome = sp.at, outcome
		return r
	}
	finishedPod := func(i int, sp spot, phase string) model.Pod {
		p := spotPod(i, sp)
		p.FinishedAt, p.Phase = sp.at, phase
		return p
	}
	noiseRun := func(mod func(r *model.Run)) model.Run {
		r := model.Run{Cluster: "east", Namespace: "ns1", UID: "noise-run", CronJob: "a"}
		mod(&r)
		return r
	}
	noisePods := func(mods ...func(p *model.Pod)) model.Facts {
		var f model.Facts
		for i, mod := range mods {
			p := noisePod(fmt.Sprintf("noise-pod-%d", i))
			mod(&p)
			f.Pods = append(f.Pods, p)
		}
		return f
	}
	term := func(i int, sp spot, container string, attempt int32, reason string, finished time.Time) model.Termination {
		return model.Termination{Cluster: sp.cluster, PodUID: fmt.Sprintf("pod-%d", i), Container: container,
			Attempt: attempt, Reason: reason, ExitCode: 137, FinishedAt: finished}
	}
	wait := func(i int, sp spot, attempt int32, reason string, first time.Time) model.Waiting {
		return model.Waiting{Cluster: sp.cluster, PodUID: fmt.Sprintf("pod-%d", i), Container: "main",
			Attempt: attempt, Reason: reason, FirstSeen: first, LastSeen: first.Add(minute)}
	}
	// Pods finish as Succeeded or Failed by turns; an older Running
	// version written afterwards changes nothing.
	finishedPhase := func(i int) string {
		if i%2 == 0 {
			return model.PhaseSucceeded
		}
		return model.PhaseFailed
	}
	podFinished := func(phase func(i int) string) func(i int, sp spot) []model.Facts {
		return func(i int, sp spot) []model.Facts {
			return []model.Facts{pods(finishedPod(i, sp, phase(i))), pods(spotPod(i, sp))}
		}
	}
	always := func(p string) func(int) string { return func(int) string { return p } }
	podNoise := []model.Facts{noisePods(
		func(p *model.Pod) { p.FinishedAt = at(5 * minute) }, // not in a final phase
		func(p *model.Pod) { p.Phase = model.PhasePending },
		func(p *model.Pod) { p.Phase = model.PhaseSucceeded }, // finish unknown
		func(p *model.Pod) { p.Phase = model.PhaseFailed },
	)}

	return []countCase{
		{store.RunsCreated, func(i int, sp spot) []model.Facts {
			r := spotRun(i, sp)
			r.CreatedAt = sp.at
			return []model.Facts{runs(r), runs(r)}
		}, []model.Facts{runs(noiseRun(func(r *model.Run) {}))}},

		{store.RunsSucceeded, func(i int, sp spot) []model.Facts {
			return []model.Facts{runs(spotRun(i, sp)), runs(finishedRun(i, sp, model.OutcomeSucceeded)), runs(spotRun(i, sp))}
		}, []model.Facts{runs(
			noiseRun(func(r *model.Run) { r.UID, r.Outcome, r.FinishedAt = "n1", model.OutcomeFailed, at(minute) }),
			noiseRun(func(r *model.Run) { r.UID, r.Outcome = "n2", model.OutcomeSucceeded }),
			noiseRun(func(r *model.Run) { r.UID, r.FinishedAt = "n3", at(minute) }),
		)}},

		{store.RunsFailed, func(i int, sp spot) []model.Facts {
			return []model.Facts{runs(finishedRun(i, sp, model.OutcomeFailed)), runs(spotRun(i, sp))}
		}, []model.Facts{runs(
			noiseRun(func(r *model.Run) { r.UID, r.Outcome, r.FinishedAt = "n1", model.OutcomeSucceeded, at(minute) }),
			noiseRun(func(r *model.Run) { r.UID, r.Outcome = "n2", model.OutcomeFailed }),
			noiseRun(func(r *model.Run) { r.UID, r.FinishedAt = "n3", at(minute) }),
		)}},

		{store.PodsFinished, podFinished(finishedPhase), podNoise},

		{store.PodsSucceeded, podFinished(always(model.PhaseSucceeded)), append(podNoise, noisePods(
			func(p *model.Pod) { p.UID, p.Phase, p.FinishedAt = "failed", model.PhaseFailed, at(minute) },
		))},

		{store.PodsFailed, podFinished(always(model.PhaseFailed)), append(podNoise, noisePods(
			func(p *model.Pod) { p.UID, p.Phase, p.FinishedAt = "succeeded", model.PhaseSucceeded, at(minute) },
		))},

		// A pod counts once, at its first OOM kill; the pod may be written
		// before, with or after its terminations.
		{store.PodsOOM, func(i int, sp spot) []model.Facts {
			first := term(i, sp, "main", 0, model.ReasonOOMKilled, sp.at)
			later := term(i, sp, "main", 1, model.ReasonOOMKilled, sp.at.Add(30*minute))
			sidecar := term(i, sp, "sidecar", 0, model.ReasonOOMKilled, sp.at.Add(time.Minute))
			other := term(i, sp, "main", 2, "Error", sp.at.Add(-5*minute))
			switch i % 3 {
			case 0:
				return []model.Facts{pods(spotPod(i, sp)), {Terminations: []model.Termination{later, other}},
					{Terminations: []model.Termination{first, sidecar}}}
			case 1:
				return []model.Facts{{Terminations: []model.Termination{later, first}}, pods(spotPod(i, sp)),
					{Terminations: []model.Termination{sidecar, other, first}}}
			default:
				return []model.Facts{{Pods: []model.Pod{spotPod(i, sp)},
					Terminations: []model.Termination{sidecar, other, later, first}}}
			}
		}, []model.Facts{
			noisePods(func(p *model.Pod) {}, func(p *model.Pod) {}),
			{Terminations: []model.Termination{
				{Cluster: "east", PodUID: "noise-pod-0", Container: "main", Reason: "Error", FinishedAt: at(minute)},
				{Cluster: "east", PodUID: "noise-pod-1", Container: "main", Reason: model.ReasonOOMKilled},
			}},
		}},

		// A pod counts once, when one of its containers was first seen in
		// CrashLoopBackOff.
		{store.PodsCrashLoop, func(i int, sp spot) []model.Facts {
			first := wait(i, sp, 1, model.ReasonCrashLoopBackOff, sp.at)
			later := wait(i, sp, 2, model.ReasonCrashLoopBackOff, sp.at.Add(30*minute))
			other := wait(i, sp, 0, "ImagePullBackOff", sp.at.Add(-5*minute))
			switch i % 3 {
			case 0:
				return []model.Facts{pods(spotPod(i, sp)), {Waits: []model.Waiting{later, other}}, {Waits: []model.Waiting{first}}}
			case 1:
				return []model.Facts{{Waits: []model.Waiting{later, first}}, pods(spotPod(i, sp)), {Waits: []model.Waiting{first}}}
			default:
				return []model.Facts{{Pods: []model.Pod{spotPod(i, sp)}, Waits: []model.Waiting{other, later, first}}}
			}
		}, []model.Facts{
			noisePods(func(p *model.Pod) {}, func(p *model.Pod) {}),
			{Waits: []model.Waiting{
				{Cluster: "east", PodUID: "noise-pod-0", Container: "main", Reason: "ImagePullBackOff", FirstSeen: at(minute)},
				{Cluster: "east", PodUID: "noise-pod-1", Container: "main", Reason: model.ReasonCrashLoopBackOff},
			}},
		}},

		// Each restart counts; it matches the filters through its pod.
		{store.Restarts, func(i int, sp spot) []model.Facts {
			r := model.Restart{Cluster: sp.cluster, PodUID: fmt.Sprintf("pod-%d", i), Container: "main", Index: 1, At: sp.at}
			if i%2 == 0 {
				return []model.Facts{pods(spotPod(i, sp)), {Restarts: []model.Restart{r}}, {Restarts: []model.Restart{r}}}
			}
			return []model.Facts{{Restarts: []model.Restart{r}}, {Pods: []model.Pod{spotPod(i, sp)}, Restarts: []model.Restart{r}}}
		}, []model.Facts{
			noisePods(func(p *model.Pod) {}),
			{Restarts: []model.Restart{{Cluster: "east", PodUID: "noise-pod-0", Container: "main", Index: 1}}},
		}},

		// An event counts once, at its LastSeen. It is about the spot's
		// CronJob, its run, or its pod (whose CronJob comes from the run).
		{store.Events, func(i int, sp spot) []model.Facts {
			r, p := spotRun(i, sp), spotPod(i, sp)
			p.CronJob = ""
			e := model.Event{Cluster: sp.cluster, UID: fmt.Sprintf("ev-%d", i), Namespace: sp.namespace,
				Type: "Warning", Reason: "R", Count: 1, FirstSeen: sp.at.Add(-hour), LastSeen: sp.at.Add(-25 * minute)}
			switch {
			case i%3 == 0 && sp.cronJob != "":
				e.InvolvedKind, e.InvolvedName = "CronJob", sp.cronJob
			case i%3 == 1:
				e.InvolvedKind, e.InvolvedName, e.InvolvedUID = "Job", r.Name, r.UID
			default:
				e.InvolvedKind, e.InvolvedName, e.InvolvedUID = "Pod", p.Name, p.UID
			}
			newer := e
			newer.Count, newer.LastSeen = 2, sp.at
			return []model.Facts{{Pods: []model.Pod{p}, Events: []model.Event{e}}, runs(r),
				{Events: []model.Event{newer}}, {Events: []model.Event{e}}}
		}, []model.Facts{{Events: []model.Event{{Cluster: "east", UID: "noise-event", Namespace: "ns1",
			InvolvedKind: "CronJob", InvolvedName: "a", FirstSeen: at(minute)}}}}},
	}
}

// testCount checks every metric against the counts of spotChecks.
func (s suite) testCount(t *testing.T) {
	cases := countCases()
	if len(cases) != len(store.Metrics()) {
		t.Fatalf("the suite covers %d metrics, store.Metrics() has %d", len(cases), len(store.Metrics()))
	}
	for _, tc := range cases {
		t.Run(string(tc.metric), func(t *testing.T) {
			st := s.store(t)
			write(t, st, tc.noise...)
			for i, sp := range spots() {
				write(t, st, tc.facts(i, sp)...)
			}
			for _, c := range spotChecks() {
				diff(t, c.name, c.want, count(t, st, tc.metric, countBuckets(), c.filt))
			}
		})
	}
}

// testCountDetails checks rules that the shared spots cannot show.
func (s suite) testCountDetails(t *testing.T) {
	b := store.Buckets{From: at(0), To: at(hour), Step: hour}
	pod := model.Pod{Cluster: "c1", Namespace: "ml", UID: "pod-1", CronJob: "train", CreatedAt: at(0), Phase: model.PhaseRunning}
	cases := []struct {
		name   string
		writes []model.Facts
		metric store.Metric
		filt   store.Filter
		want   []int64
	}{
		{"every restart counts", []model.Facts{{Pods: []model.Pod{pod}, Restarts: []model.Restart{
			{Cluster: "c1", PodUID: "pod-1", Container: "main", Index: 1, At: at(minute)},
			{Cluster: "c1", PodUID: "pod-1", Container: "main", Index: 2, At: at(2 * minute)},
			{Cluster: "c1", PodUID: "pod-1", Container: "sidecar", Index: 1, At: at(3 * minute)},
		}}}, store.Restarts, store.Filter{CronJob: "train"}, []int64{3}},
		{"restarts of a pod not written yet count without filter",
			[]model.Facts{{Restarts: []model.Restart{{Cluster: "c1", PodUID: "ghost", Container: "main", Index: 1, At: at(minute)}}}},
			store.Restarts, store.Filter{}, []int64{1}},
		{"restarts of a pod not written yet count in their cluster",
			[]model.Facts{{Restarts: []model.Restart{{Cluster: "c1", PodUID: "ghost", Container: "main", Index: 1, At: at(minute)}}}},
			store.Restarts, store.Filter{Cluster: "c1"}, []int64{1}},
		{"restarts of a pod not written yet match no namespace",
			[]model.Facts{{Restarts: []model.Restart{{Cluster: "c1", PodUID: "ghost", Container: "main", Index: 1, At: at(minute)}}}},
			store.Restarts, store.Filter{Namespace: "ml"}, []int64{0}},
		{"OOM kill whose finish comes later", []model.Facts{
			{Pods: []model.Pod{pod}, Terminations: []model.Termination{{Cluster: "c1", PodUID: "pod-1", Container: "main",
				Reason: model.ReasonOOMKilled}}},
			{Terminations: []model.Termination{{Cluster: "c1", PodUID: "pod-1", Container: "main", FinishedAt: at(minute)}}},
		}, store.PodsOOM, store.Filter{Namespace: "ml"}, []int64{1}},
		{"OOM kill of a pod written later", []model.Facts{
			{Terminations: []model.Termination{{Cluster: "c1", PodUID: "pod-1", Container: "main",
				Reason: model.ReasonOOMKilled, FinishedAt: at(minute)}}},
			{Pods: []model.Pod{pod}},
		}, store.PodsOOM, store.Filter{CronJob: "train"}, []int64{1}},
		{"termination that is not an OOM kill", []model.Facts{
			{Pods: []model.Pod{pod}, Terminations: []model.Termination{{Cluster: "c1", PodUID: "pod-1", Container: "main",
				Reason: "Error", FinishedAt: at(minute)}}},
			{Terminations: []model.Termination{{Cluster: "c1", PodUID: "pod-1", Container: "main",
				Reason: model.ReasonOOMKilled, FinishedAt: at(2 * minute)}}},
		}, store.PodsOOM, store.Filter{}, []int64{0}},
		{"crash loop of a pod written later", []model.Facts{
			{Waits: []model.Waiting{{Cluster: "c1", PodUID: "pod-1", Container: "main",
				Reason: model.ReasonCrashLoopBackOff, FirstSeen: at(minute)}}},
			{Pods: []model.Pod{pod}},
		}, store.PodsCrashLoop, store.Filter{Cluster: "c1", Namespace: "ml", CronJob: "train"}, []int64{1}},
		{"evidence alone finishes no pod", []model.Facts{
			{Terminations: []model.Termination{{Cluster: "c1", PodUID: "ghost", Container: "main",
				Reason: model.ReasonOOMKilled, FinishedAt: at(minute)}}},
		}, store.PodsFinished, store.Filter{}, []int64{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			write(t, st, tc.writes...)
			diff(t, string(tc.metric), tc.want, count(t, st, tc.metric, b, tc.filt))
		})
	}
	t.Run("unknown metric", func(t *testing.T) {
		st := s.store(t)
		if _, err := st.Count(context.Background(), store.Metric("nope"), b, store.Filter{}); err == nil {
			t.Error("Count of an unknown metric: no error")
		}
	})
}

// testCountBuckets checks how facts fall into buckets.
func (s suite) testCountBuckets(t *testing.T) {
	st := s.store(t)
	var f model.Facts
	for i, d := range []time.Duration{-msec, 0, 7 * minute, 10*minute - msec, 10 * minute, 25 * minute, 30*minute - msec, 30 * minute} {
		f.Runs = append(f.Runs, model.Run{Cluster: "c1", UID: fmt.Sprintf("run-%d", i), CreatedAt: at(d)})
	}
	write(t, st, f)
	cases := []struct {
		name string
		b    store.Buckets
		want []int64
	}{
		{"even buckets", store.Buckets{From: at(0), To: at(30 * minute), Step: 10 * minute}, []int64{3, 1, 2}},
		{"one bucket", store.Buckets{From: at(0), To: at(30 * minute), Step: 30 * minute}, []int64{6}},
		{"step longer than the range", store.Buckets{From: at(0), To: at(30 * minute), Step: hour}, []int64{6}},
		{"last bucket shorter", store.Buckets{From: at(0), To: at(30 * minute), Step: 7 * minute}, []int64{1, 3, 0, 1, 1}},
		{"range not on the hour", store.Buckets{From: at(5 * minute), To: at(25 * minute), Step: 10 * minute}, []int64{3, 0}},
		{"millisecond buckets", store.Buckets{From: at(10*minute - msec), To: at(10*minute + msec), Step: msec}, []int64{1, 1}},
		{"empty range", store.Buckets{From: at(10 * minute), To: at(10 * minute), Step: minute}, []int64{}},
		{"range ending before it starts", store.Buckets{From: at(10 * minute), To: at(0), Step: minute}, []int64{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := count(t, st, store.RunsCreated, tc.b, store.Filter{})
			if len(got) != tc.b.N() {
				t.Errorf("got %d buckets, want b.N() = %d", len(got), tc.b.N())
			}
			diff(t, "counts", tc.want, got)
		})
	}
}

// testCountMatchesFacts writes a random history in random order and checks
// Count, for buckets that start anywhere within a minute, against counts
// worked out from the facts themselves.
func (s suite) testCountMatchesFacts(t *testing.T) {
	st, want := s.randomHistory(t)
	layouts := historyLayouts()
	filters := historyFilters()
	for _, m := range store.Metrics() {
		for _, b := range layouts {
			for _, filt := range filters {
				exp := make([]int64, b.N())
				for _, f := range want[m] {
					if f.matches(filt) {
						if i := b.Index(f.at); i >= 0 {
							exp[i]++
						}
					}
				}
				diff(t, fmt.Sprintf("%s from %v step %v, %+v", m, b.From.Sub(at(0)), b.Step, filt), exp,
					count(t, st, m, b, filt))
			}
		}
		// Totals: every fact, whatever its time, per group.
		groups := map[store.Group]int64{}
		for _, f := range want[m] {
			groups[store.Group{Cluster: f.cluster, Namespace: f.namespace, CronJob: f.cronJob}]++
		}
		var exp []store.Total
		for g, n := range groups {
			exp = append(exp, store.Total{Group: g, N: n})
		}
		sortTotals(exp)
		got, err := st.Totals(context.Background(), m)
		if err != nil {
			t.Fatalf("Totals(%s): %v", m, err)
		}
		diff(t, fmt.Sprintf("Totals(%s)", m), exp, got[m])
		if all, err := st.Totals(context.Background(), store.Metrics()...); err != nil || !cmp.Equal(all[m], got[m], cmpopts.EquateEmpty()) {
			t.Errorf("Totals(%s) alone differs from Totals of every metric (%v)", m, err)
		}
	}
}

// fact is one counted fact of randomHistory: where it is, its time, and the
// UID of the run, pod or event it is.
type fact struct {
	cluster, namespace, cronJob string
	at                          time.Time
	uid                         string
}

func (f fact) matches(filt store.Filter) bool {
	return (filt.Cluster == "" || f.cluster == filt.Cluster) && (filt.Namespace == "" || f.namespace == filt.Namespace) &&
		(filt.CronJob == "" || f.cronJob == filt.CronJob)
}

// randomHistory writes a random history in random order into a new store,
// and returns the store and the facts each metric counts.
func (s suite) randomHistory(t *testing.T) (store.Store, map[store.Metric][]fact) {
	rng := rand.New(rand.NewPCG(7, 11))
	anyTime := func() time.Time { return at(-hour + time.Duration(rng.Int64N(int64(6*hour/msec)))*msec) }
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	want := map[store.Metric][]fact{}
	var writes []model.Facts
	for i := range 300 {
		c, ns, cj := pick("east", "west"), pick("ns1", "ns2"), pick("a", "b", "")
		run := model.Run{Cluster: c, Namespace: ns, UID: fmt.Sprintf("run-%d", i), CronJob: cj, CreatedAt: anyTime()}
		pod := model.Pod{Cluster: c, Namespace: ns, UID: fmt.Sprintf("pod-%d", i), JobUID: run.UID,
			CreatedAt: run.CreatedAt, Phase: model.PhaseRunning} // its CronJob comes from the run
		ft := func(t time.Time) fact { return fact{c, ns, cj, t, pod.UID} }
		rt := func(t time.Time) fact { return fact{c, ns, cj, t, run.UID} }
		if rng.IntN(2) == 0 {
			pod.CronJob = cj // some pods know their CronJob themselves, later
		}
		// First seen later than they were created: the earliest time wins.
		late := func(t time.Time) time.Time {
			if t.IsZero() {
				return t
			}
			return t.Add(time.Duration(1+rng.IntN(7200)) * time.Second)
		}
		lateRun, latePod := run, pod
		lateRun.CreatedAt, latePod.CreatedAt = late(run.CreatedAt), late(pod.CreatedAt)
		writes = append(writes, model.Facts{Runs: []model.Run{lateRun}}, model.Facts{Pods: []model.Pod{latePod}},
			model.Facts{Runs: []model.Run{run}}, model.Facts{Pods: []model.Pod{pod}})
		want[store.RunsCreated] = append(want[store.RunsCreated], rt(run.CreatedAt))

		finished := anyTime()
		switch rng.IntN(3) {
		case 0:
			run.FinishedAt, run.Outcome, pod.FinishedAt, pod.Phase = finished, model.OutcomeSucceeded, finished, model.PhaseSucceeded
			want[store.RunsSucceeded] = append(want[store.RunsSucceeded], rt(finished))
			want[store.PodsSucceeded] = append(want[store.PodsSucceeded], ft(finished))
			want[store.PodsFinished] = append(want[store.PodsFinished], ft(finished))
		case 1:
			run.FinishedAt, run.Outcome, pod.FinishedAt, pod.Phase = finished, model.OutcomeFailed, finished, model.PhaseFailed
			want[store.RunsFailed] = append(want[store.RunsFailed], rt(finished))
			want[store.PodsFailed] = append(want[store.PodsFailed], ft(finished))
			want[store.PodsFinished] = append(want[store.PodsFinished], ft(finished))
		}
		if rng.IntN(2) == 0 {
			pod.CronJob = cj // some pods know their CronJob themselves, later
		}
		lateRun, latePod = run, pod
		lateRun.FinishedAt, latePod.FinishedAt = late(run.FinishedAt), late(pod.FinishedAt)
		writes = append(writes, model.Facts{Runs: []model.Run{run}}, model.Facts{Pods: []model.Pod{pod}},
			model.Facts{Runs: []model.Run{lateRun}}, model.Facts{Pods: []model.Pod{latePod}})

		if n := rng.IntN(6) - 2; n > 0 { // OOM kills: the pod counts at the first
			var first time.Time
			for a := range n {
				ft := anyTime()
				if first.IsZero() || ft.Before(first) {
					first = ft
				}
				writes = append(writes, model.Facts{Terminations: []model.Termination{{Cluster: c, PodUID: pod.UID,
					Container: "main", Attempt: int32(a), Reason: model.ReasonOOMKilled, FinishedAt: ft}}})
			}
			want[store.PodsOOM] = append(want[store.PodsOOM], ft(first))
		}
		if n := rng.IntN(6) - 2; n > 0 { // crash loops: the pod counts at the first
			var first time.Time
			for a := range n {
				fs := anyTime()
				if first.IsZero() || fs.Before(first) {
					first = fs
				}
				writes = append(writes, model.Facts{Waits: []model.Waiting{{Cluster: c, PodUID: pod.UID,
					Container: "main", Attempt: int32(a), Reason: model.ReasonCrashLoopBackOff, FirstSeen: fs}}})
			}
			want[store.PodsCrashLoop] = append(want[store.PodsCrashLoop], ft(first))
		}
		for r := range rng.IntN(3) {
			ra := anyTime()
			rs := model.Restart{Cluster: c, PodUID: pod.UID, Container: "main", Index: int32(r + 1), At: ra}
			lateRestart := rs
			lateRestart.At = late(ra)
			writes = append(writes, model.Facts{Restarts: []model.Restart{rs}}, model.Facts{Restarts: []model.Restart{lateRestart}})
			want[store.Restarts] = append(want[store.Restarts], ft(ra))
		}
		for e := range rng.IntN(3) { // an event seen several times counts once, at its last
			ev := model.Event{Cluster: c, UID: fmt.Sprintf("ev-%d-%d", i, e), Namespace: ns}
			switch {
			case e == 0 && cj != "":
				ev.InvolvedKind, ev.InvolvedName = "CronJob", cj
			case rng.IntN(2) == 0:
				ev.InvolvedKind, ev.InvolvedUID = "Job", run.UID
			default:
				ev.InvolvedKind, ev.InvolvedUID = "Pod", pod.UID
			}
			var last time.Time
			for v := range 1 + rng.IntN(3) {
				ev.Count, ev.LastSeen = int32(v+1), anyTime()
				if ev.LastSeen.After(last) {
					last = ev.LastSeen
				}
				writes = append(writes, model.Facts{Events: []model.Event{ev}})
			}
			want[store.Events] = append(want[store.Events], fact{c, ns, cj, last, ev.UID})
		}
	}
	st := s.store(t)
	rng.Shuffle(len(writes), func(i, j int) { writes[i], writes[j] = writes[j], writes[i] })
	// A quarter of the runs come last, after everything about them: their
	// CronJob reaches pods, restarts and events only then.
	late := func(w model.Facts) bool {
		for _, r := range w.Runs {
			var i int
			if _, err := fmt.Sscanf(r.UID, "run-%d", &i); err == nil && i%4 == 0 {
				return true
			}
		}
		return false
	}
	slices.SortStableFunc(writes, func(a, b model.Facts) int {
		switch la, lb := late(a), late(b); {
		case la == lb:
			return 0
		case lb:
			return -1
		}
		return 1
	})
	for len(writes) > 0 {
		var batch model.Facts
		n := min(1+rng.IntN(30), len(writes))
		for _, w := range writes[:n] {
			batch.Add(w)
		}
		write(t, st, batch)
		writes = writes[n:]
	}

	return st, want
}

// historyLayouts are bucket layouts over randomHistory, starting anywhere
// within a minute.
func historyLayouts() []store.Buckets {
	return []store.Buckets{
		{From: at(-37*minute + 13457*msec), To: at(4*hour + 29*time.Second + msec), Step: minute},
		{From: at(-37*minute + 13457*msec), To: at(4*hour + 29*time.Second + msec), Step: 5 * minute},
		{From: at(-59*minute - 999*msec), To: at(5 * hour), Step: 17*minute + 3*msec},
		{From: at(-hour), To: at(5 * hour), Step: hour},
		{From: at(30 * time.Second), To: at(5*hour + 30*time.Second), Step: 6 * hour},
	}
}

func historyFilters() []store.Filter {
	return []store.Filter{{}, {Cluster: "east"}, {Namespace: "ns2"}, {CronJob: "a"}, {Cluster: "west", CronJob: "b"},
		{Cluster: "east", Namespace: "ns1"}}
}
