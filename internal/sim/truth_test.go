package sim

import (
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// reference is a ledger written from docs/widgets.md and nothing else: it
// derives every fact from the objects of the ops, the way batchlens must.
// Truth must agree with it.
type reference struct {
	runs     map[types.UID]*runFact
	pods     map[types.UID]*refPod
	events   map[types.UID]*timedFact
	restarts map[restartKey]timedFact
	order    []types.UID // pods in creation order, for stable output
}

type refPod struct {
	podFact
	firstStart, deleted time.Time
	lastFinish          time.Time // latest finishedAt of a termination seen
}

type restartKey struct {
	pod   types.UID
	index int32
}

func newReference() *reference {
	return &reference{
		runs:     map[types.UID]*runFact{},
		pods:     map[types.UID]*refPod{},
		events:   map[types.UID]*timedFact{},
		restarts: map[restartKey]timedFact{},
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func (l *reference) apply(op Op) {
	switch o := op.Object.(type) {
	case *batchv1.Job:
		r := l.runs[o.UID]
		if r == nil {
			r = &runFact{attr: attr{ns: o.Namespace}, created: o.CreationTimestamp.Time}
			if len(o.OwnerReferences) > 0 && o.OwnerReferences[0].Kind == "CronJob" {
				r.cronJob = o.OwnerReferences[0].Name
			}
			l.runs[o.UID] = r
		}
		if r.outcome != "" {
			return
		}
		if c := jobCondition(o, batchv1.JobComplete); c != nil && o.Status.CompletionTime != nil {
			r.outcome, r.finished = model.OutcomeSucceeded, o.Status.CompletionTime.Time
		}
		if c := jobCondition(o, batchv1.JobFailed); c != nil {
			r.outcome, r.finished = model.OutcomeFailed, c.LastTransitionTime.Time
		}
	case *corev1.Pod:
		p := l.pods[o.UID]
		if p == nil {
			run := l.runs[o.OwnerReferences[0].UID]
			p = &refPod{podFact: podFact{attr: run.attr, created: o.CreationTimestamp.Time}}
			l.pods[o.UID] = p
			l.order = append(l.order, o.UID)
		}
		for _, cs := range o.Status.ContainerStatuses {
			l.container(o.UID, p, cs, op.At)
		}
		if p.phase == "" && (o.Status.Phase == corev1.PodSucceeded || o.Status.Phase == corev1.PodFailed) {
			p.phase, p.finished = string(o.Status.Phase), op.At
			if !p.lastFinish.IsZero() {
				p.finished = p.lastFinish
			}
		}
		if op.Verb == Delete && p.phase == "" && o.Status.Phase == corev1.PodPending {
			p.deleted = op.At
		}
		p.pendingUntil = earliest(earliest(p.firstStart, p.finished), p.deleted)
	case *corev1.Event:
		a := attr{ns: o.Namespace}
		switch o.InvolvedObject.Kind {
		case "CronJob":
			a.cronJob = o.InvolvedObject.Name
		case "Job":
			a = l.runs[o.InvolvedObject.UID].attr
		case "Pod":
			a = l.pods[o.InvolvedObject.UID].attr
		}
		at := seenAt(o)
		if e := l.events[o.UID]; e == nil || e.at.Before(at) {
			l.events[o.UID] = &timedFact{attr: a, at: at}
		}
	}
}

// container folds one container status into the pod's facts: terminations
// (current and last), starts, restarts (restartCount n began at attempt
// n's start), CrashLoopBackOff (first seen at the op).
func (l *reference) container(uid types.UID, p *refPod, cs corev1.ContainerStatus, at time.Time) {
	attempt := func(index int32, started time.Time) {
		if started.IsZero() {
			return
		}
		p.firstStart = earliest(p.firstStart, started)
		if index >= 1 {
			l.restarts[restartKey{uid, index}] = timedFact{attr: p.attr, at: started}
		}
	}
	termination := func(index int32, tm *corev1.ContainerStateTerminated) {
		if tm == nil {
			return
		}
		attempt(index, tm.StartedAt.Time)
		if f := tm.FinishedAt.Time; !f.IsZero() {
			if f.After(p.lastFinish) {
				p.lastFinish = f
			}
			if tm.Reason == model.ReasonOOMKilled {
				p.oom = earliest(p.oom, f)
			}
		}
	}
	n := cs.RestartCount
	switch {
	case cs.State.Running != nil:
		attempt(n, cs.State.Running.StartedAt.Time)
		termination(n-1, cs.LastTerminationState.Terminated)
	case cs.State.Terminated != nil:
		termination(n, cs.State.Terminated)
		termination(n-1, cs.LastTerminationState.Terminated)
	case cs.State.Waiting != nil:
		termination(n, cs.LastTerminationState.Terminated) // the dead attempt waiting to restart
		if cs.State.Waiting.Reason == model.ReasonCrashLoopBackOff && p.crashLoop.IsZero() {
			p.crashLoop = at
		}
	}
}

// truth turns the reference into a Truth, to query it the same way.
func (l *reference) truth(cluster string) *Truth {
	t := newTruth(cluster)
	for _, r := range l.runs {
		t.runs = append(t.runs, *r)
	}
	for _, uid := range l.order {
		t.pods = append(t.pods, l.pods[uid].podFact)
	}
	for _, r := range l.restarts {
		t.restarts = append(t.restarts, r)
	}
	for _, e := range l.events {
		t.events = append(t.events, *e)
	}
	return t
}

var truthFilters = []store.Filter{
	{},
	{Cluster: "test"},
	{Cluster: "elsewhere"},
	{Namespace: "fraud"},
	{Namespace: "recsys", CronJob: "user-features"},
	{CronJob: "velocity-aggregates"},
	{CronJob: "session-stitcher"},
	{Namespace: "forecasting", CronJob: "velocity-aggregates"},
}

// TestTruthMatchesObjects checks the ground truth against what a ledger
// derives from the objects, at two points of the same simulation.
func TestTruthMatchesObjects(t *testing.T) {
	s := newDefault(21)
	ref := newReference()
	for _, until := range []time.Duration{11*time.Hour + 7*time.Minute + 13*time.Second, 30 * time.Hour} {
		for _, op := range s.Advance(monday.Add(until)) {
			ref.apply(op)
		}
		want, got := ref.truth("test"), s.Truth()
		if got.Runs() != want.Runs() || got.Pods() != want.Pods() || got.Events() != want.Events() {
			t.Fatalf("after %v: Truth has %d runs, %d pods, %d events; the objects %d, %d, %d", until,
				got.Runs(), got.Pods(), got.Events(), want.Runs(), want.Pods(), want.Events())
		}
		// One-second buckets for a few filters: each fact must be at exactly
		// the same second; seven-minute ones for the rest.
		exact := store.Buckets{From: monday.Add(-time.Hour), To: monday.Add(until + time.Hour), Step: time.Second}
		coarse := exact
		coarse.Step = 7 * time.Minute
		for i, f := range truthFilters {
			b := coarse
			if i < 3 || f.CronJob == "velocity-aggregates" {
				b = exact
			}
			for _, m := range store.Metrics() {
				g, w := got.Count(m, b, f), want.Count(m, b, f)
				if d := firstDiff(g, w); d >= 0 {
					t.Errorf("after %v, %s %+v: bucket %d (%v) Truth %d, objects %d", until, m, f, d, b.Start(d), g[d], w[d])
				}
			}
			// Pending at each pod's boundaries, and on a grid.
			var at []time.Time
			if i == 0 {
				for _, uid := range ref.order {
					p := ref.pods[uid]
					for _, x := range []time.Time{p.created, p.pendingUntil} {
						if !x.IsZero() {
							at = append(at, x.Add(-time.Second), x)
						}
					}
				}
			}
			for x := b.From; x.Before(b.To); x = x.Add(97 * time.Second) {
				at = append(at, x)
			}
			g, w := got.PendingAt(at, f), want.PendingAt(at, f)
			if d := firstDiff(g, w); d >= 0 {
				t.Errorf("after %v, pending %+v at %v: Truth %d, objects %d", until, f, at[d], g[d], w[d])
			}
			if g, w := got.TopCronJobs(b.From, b.To, f, 7), want.TopCronJobs(b.From, b.To, f, 7); !slices.Equal(g, w) {
				t.Errorf("after %v, top %+v: Truth %v, objects %v", until, f, g, w)
			}
		}
	}
}

// TestRunsEndAsDealt checks that each run ends the way its outcome says,
// as its Job shows it.
func TestRunsEndAsDealt(t *testing.T) {
	s, ops := simulate(t, 2, 48*time.Hour)
	final := map[types.UID]*batchv1.Job{}
	for _, op := range ops {
		if j, ok := op.Object.(*batchv1.Job); ok {
			final[j.UID] = j
		}
	}
	ending := func(j *batchv1.Job) string {
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed {
				return string(c.Type) + "/" + c.Reason
			}
		}
		return ""
	}
	const complete = "Complete/CompletionsReached"
	want := map[Outcome]string{
		Succeed: complete, Flash: complete, Retried: complete, OOMRestart: complete, CrashLoop: complete,
		Evicted: complete, Unschedulable: complete,
		ErrorExit: "Failed/BackoffLimitExceeded", OOMKilled: "Failed/BackoffLimitExceeded",
		ImagePull: "Failed/DeadlineExceeded", Deadline: "Failed/DeadlineExceeded", NeverScheduled: "Failed/DeadlineExceeded",
	}
	ended := map[Outcome]int{}
	for _, r := range s.Truth().runs {
		got := ending(final[r.uid])
		if got == "" && r.created.After(monday.Add(44*time.Hour)) {
			continue // still running
		}
		if got != want[r.planned] {
			t.Errorf("run %s/%s created %v, dealt %v, ended %q, want %q", r.ns, final[r.uid].Name, r.created, r.planned, got, want[r.planned])
		}
		ended[r.planned]++
	}
	for o := Outcome(0); o < numOutcomes; o++ {
		if ended[o] == 0 {
			t.Errorf("no run dealt %v ended in two days", o)
		}
	}
	if got := s.Truth().Outcomes(); got[Succeed] == 0 || len(got) != int(numOutcomes) {
		t.Errorf("Outcomes() = %v", got)
	}
}

func firstDiff(a, b []int64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

func sum(xs []int64) int64 {
	var n int64
	for _, x := range xs {
		n += x
	}
	return n
}

// TestTruthConsistency checks the Truth against itself: buckets add up,
// finished pods split into succeeded and failed, filters partition.
func TestTruthConsistency(t *testing.T) {
	s, _ := simulate(t, 4, 40*time.Hour)
	tr := s.Truth()
	whole := store.Buckets{From: monday, To: monday.Add(41 * time.Hour), Step: 41 * time.Hour}
	fine := store.Buckets{From: monday, To: whole.To, Step: 13 * time.Minute}
	all := func(m store.Metric, f store.Filter) int64 { return tr.Count(m, whole, f)[0] }
	namespaces := []string{"forecasting", "recsys", "fraud"}

	for _, m := range store.Metrics() {
		t.Run(string(m), func(t *testing.T) {
			total := all(m, store.Filter{})
			if total == 0 {
				t.Fatal("nothing counted in 41 hours")
			}
			if got := sum(tr.Count(m, fine, store.Filter{})); got != total {
				t.Errorf("13-minute buckets add up to %d, one bucket says %d", got, total)
			}
			var byNamespace int64
			for _, ns := range namespaces {
				byNamespace += all(m, store.Filter{Namespace: ns})
			}
			if byNamespace != total {
				t.Errorf("namespaces add up to %d, all to %d", byNamespace, total)
			}
			if got := all(m, store.Filter{Cluster: "test"}); got != total {
				t.Errorf("own cluster: %d, all: %d", got, total)
			}
			if got := all(m, store.Filter{Cluster: "other"}); got != 0 {
				t.Errorf("another cluster: %d", got)
			}
			var byCronJob int64
			for _, sp := range DefaultFleet() {
				if sp.Schedule != "" {
					byCronJob += all(m, store.Filter{Namespace: sp.Namespace, CronJob: sp.Name})
				}
			}
			if byCronJob > total || byCronJob == 0 {
				t.Errorf("CronJobs add up to %d of %d", byCronJob, total)
			}
		})
	}

	t.Run("finished pods are succeeded or failed", func(t *testing.T) {
		fin, ok, bad := tr.Count(store.PodsFinished, fine, store.Filter{}), tr.Count(store.PodsSucceeded, fine, store.Filter{}), tr.Count(store.PodsFailed, fine, store.Filter{})
		for i := range fin {
			if fin[i] != ok[i]+bad[i] {
				t.Fatalf("bucket %d: %d finished, %d succeeded, %d failed", i, fin[i], ok[i], bad[i])
			}
		}
	})
	t.Run("every run counted once", func(t *testing.T) {
		if got := all(store.RunsCreated, store.Filter{}); got != int64(tr.Runs()) {
			t.Errorf("runs created %d, Runs() %d", got, tr.Runs())
		}
		if ended := all(store.RunsSucceeded, store.Filter{}) + all(store.RunsFailed, store.Filter{}); ended > int64(tr.Runs()) {
			t.Errorf("%d runs ended of %d", ended, tr.Runs())
		}
	})
	t.Run("OOM, crash-looping and failed pods are counted among finished or still live", func(t *testing.T) {
		if oom, pods := all(store.PodsOOM, store.Filter{}), int64(tr.Pods()); oom > pods {
			t.Errorf("%d OOM-killed pods of %d", oom, pods)
		}
	})
	t.Run("top CronJobs", func(t *testing.T) {
		rows := tr.TopCronJobs(whole.From, whole.To, store.Filter{}, 100)
		var n int64
		for i, r := range rows {
			n += r.Count
			if want := all(store.RunsCreated, store.Filter{Namespace: r.Namespace, CronJob: r.CronJob}); r.Count != want {
				t.Errorf("row %v, runs created %d", r, want)
			}
			if i > 0 && (rows[i-1].Count < r.Count || rows[i-1].Count == r.Count && rows[i-1].Namespace+"/"+rows[i-1].CronJob > r.Namespace+"/"+r.CronJob) {
				t.Errorf("rows %v, %v out of order", rows[i-1], r)
			}
		}
		plain := all(store.RunsCreated, store.Filter{}) - n
		if plain <= 0 {
			t.Errorf("%d plain runs: the rows count runs without a CronJob", plain)
		}
		if got := tr.TopCronJobs(whole.From, whole.To, store.Filter{}, 3); !slices.Equal(got, rows[:3]) {
			t.Errorf("limit 3: %v, want %v", got, rows[:3])
		}
		if got := tr.TopCronJobs(whole.From, whole.To, store.Filter{Namespace: "fraud"}, 100); len(got) == 0 || got[0].Namespace != "fraud" {
			t.Errorf("fraud only: %v", got)
		}
	})
	t.Run("pending", func(t *testing.T) {
		at := []time.Time{monday.Add(-time.Second), monday.Add(90 * time.Minute), monday.Add(20 * time.Hour)}
		got := tr.PendingAt(at, store.Filter{})
		if got[0] != 0 {
			t.Errorf("%d pods pending before the start", got[0])
		}
		var some int64
		for x := monday; x.Before(whole.To); x = x.Add(time.Minute) {
			some += tr.PendingAt([]time.Time{x}, store.Filter{})[0]
		}
		if some == 0 {
			t.Error("no pod ever pending")
		}
	})
	t.Run("empty buckets", func(t *testing.T) {
		if got := tr.Count(store.Events, store.Buckets{From: monday, To: monday}, store.Filter{}); len(got) != 0 {
			t.Errorf("no buckets gave %v", got)
		}
	})
}
