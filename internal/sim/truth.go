package sim

import (
	"cmp"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// Truth is what the simulator knows happened, kept as it emits the ops that
// show it: it covers exactly the ops Advance has returned so far. It answers
// the questions store.Store answers, with the semantics of docs/widgets.md,
// so a ledger fed with the ops can be checked against it.
//
// A Truth belongs to its Sim: do not use it while Advance runs.
type Truth struct {
	cluster  string
	runs     []runFact
	pods     []podFact
	restarts []timedFact
	events   []timedFact // by Event object (UID)
	// terminations are the container terminations with a known end,
	// keyed by reason.
	terminations []keyedFact
	// waits are the waiting episodes, keyed by reason, at the first look
	// that shows each.
	waits    []keyedFact
	attempts []attemptUsage
	byNode   map[string][]int // indexes of attempts by node, in start order
}

type runFact struct {
	attr
	uid      types.UID
	planned  Outcome
	created  time.Time
	finished time.Time
	outcome  string // "", model.OutcomeSucceeded or model.OutcomeFailed
}

type podFact struct {
	attr
	created      time.Time
	pendingUntil time.Time
	finished     time.Time
	phase        string // model.PhaseSucceeded, model.PhaseFailed or "" before
	oom          time.Time
	crashLoop    time.Time
	waitsShown   map[waitKey]bool
}

// waitKey is one waiting episode of a pod's container: the ledger keeps one
// per attempt (restart count) and reason.
type waitKey struct {
	attempt int32
	reason  string
}

type timedFact struct {
	attr
	at time.Time
}

type keyedFact struct {
	timedFact
	key string
}

func newTruth(cluster string) *Truth {
	return &Truth{cluster: cluster}
}

// Runs is how many runs (Jobs, with or without a CronJob) were created.
func (t *Truth) Runs() int { return len(t.runs) }

// Outcomes is how many runs were created, by the Outcome they were dealt.
func (t *Truth) Outcomes() map[Outcome]int {
	out := make(map[Outcome]int)
	for i := range t.runs {
		out[t.runs[i].planned]++
	}
	return out
}

// Pods is how many pods were created.
func (t *Truth) Pods() int { return len(t.pods) }

// Events is how many distinct Events (by UID) were written.
func (t *Truth) Events() int { return len(t.events) }

// Count returns, per bucket of b, how many facts of metric m matching f have
// their time in that bucket, as store.Store.Count does. It has b.N() entries.
// An unknown metric counts nothing.
func (t *Truth) Count(m store.Metric, b store.Buckets, f store.Filter) []int64 {
	out := make([]int64, b.N())
	if len(out) == 0 || !t.clusterMatches(f) {
		return out
	}
	add := func(a attr, at time.Time) {
		if at.IsZero() || !a.matches(f) {
			return
		}
		if i := b.Index(at); i >= 0 {
			out[i]++
		}
	}
	switch m {
	case store.RunsCreated, store.RunsSucceeded, store.RunsFailed:
		for i := range t.runs {
			r := &t.runs[i]
			switch {
			case m == store.RunsCreated:
				add(r.attr, r.created)
			case m == store.RunsSucceeded && r.outcome == model.OutcomeSucceeded,
				m == store.RunsFailed && r.outcome == model.OutcomeFailed:
				add(r.attr, r.finished)
			}
		}
	case store.PodsFinished, store.PodsSucceeded, store.PodsFailed, store.PodsOOM, store.PodsCrashLoop:
		for i := range t.pods {
			p := &t.pods[i]
			switch {
			case m == store.PodsFinished,
				m == store.PodsSucceeded && p.phase == model.PhaseSucceeded,
				m == store.PodsFailed && p.phase == model.PhaseFailed:
				add(p.attr, p.finished)
			case m == store.PodsOOM:
				add(p.attr, p.oom)
			case m == store.PodsCrashLoop:
				add(p.attr, p.crashLoop)
			}
		}
	case store.Restarts:
		for _, r := range t.restarts {
			add(r.attr, r.at)
		}
	case store.Events:
		for _, e := range t.events {
			add(e.attr, e.at)
		}
	}
	return out
}

// CountBy returns, for each key of breakdown k with facts matching f in b's
// range, their count per bucket of b, keys with the most first, ties by key,
// as store.Store.CountBy does (every simulated pod has one container). An
// unknown breakdown counts nothing.
func (t *Truth) CountBy(k store.Breakdown, b store.Buckets, f store.Filter) []store.KeyCounts {
	var facts []keyedFact
	switch k {
	case store.TerminationsByReason:
		facts = t.terminations
	case store.WaitsByReason:
		facts = t.waits
	case store.RestartsByContainer:
		for _, r := range t.restarts {
			facts = append(facts, keyedFact{r, containerName})
		}
	default:
		return nil
	}
	counts := map[string][]int64{}
	totals := map[string]int64{}
	for _, x := range facts {
		i := b.Index(x.at)
		if i < 0 || !t.clusterMatches(f) || !x.matches(f) {
			continue
		}
		if counts[x.key] == nil {
			counts[x.key] = make([]int64, b.N())
		}
		counts[x.key][i]++
		totals[x.key]++
	}
	out := make([]store.KeyCounts, 0, len(counts))
	for key, c := range counts {
		out = append(out, store.KeyCounts{Key: key, Counts: c})
	}
	slices.SortFunc(out, func(x, y store.KeyCounts) int {
		return cmp.Or(cmp.Compare(totals[y.Key], totals[x.Key]), cmp.Compare(x.Key, y.Key))
	})
	return out
}

// PendingAt returns, for each instant in at, how many pods matching f were
// Pending then: created at or before it and not yet out of Pending.
func (t *Truth) PendingAt(at []time.Time, f store.Filter) []int64 {
	out := make([]int64, len(at))
	if !t.clusterMatches(f) {
		return out
	}
	for i := range t.pods {
		p := &t.pods[i]
		if !p.matches(f) {
			continue
		}
		for j, x := range at {
			if !p.created.After(x) && (p.pendingUntil.IsZero() || p.pendingUntil.After(x)) {
				out[j]++
			}
		}
	}
	return out
}

// TopCronJobs returns the CronJobs with the most runs created in [from, to),
// most first, ties by namespace then name, at most limit rows. Runs without
// a CronJob are left out.
func (t *Truth) TopCronJobs(from, to time.Time, f store.Filter, limit int) []store.CronJobCount {
	if limit <= 0 || !t.clusterMatches(f) {
		return nil
	}
	counts := make(map[attr]int64)
	for i := range t.runs {
		r := &t.runs[i]
		if r.cronJob == "" || !r.matches(f) || r.created.Before(from) || !r.created.Before(to) {
			continue
		}
		counts[r.attr]++
	}
	rows := make([]store.CronJobCount, 0, len(counts))
	for a, n := range counts {
		rows = append(rows, store.CronJobCount{Cluster: t.cluster, Namespace: a.ns, CronJob: a.cronJob, Count: n})
	}
	slices.SortFunc(rows, func(x, y store.CronJobCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.CronJob, y.CronJob))
	})
	return rows[:min(limit, len(rows))]
}

func (t *Truth) clusterMatches(f store.Filter) bool {
	return f.Cluster == "" || f.Cluster == t.cluster
}

func (a attr) matches(f store.Filter) bool {
	return (f.Namespace == "" || f.Namespace == a.ns) && (f.CronJob == "" || f.CronJob == a.cronJob)
}

// Recording, called as the ops that show each fact are emitted.

func (t *Truth) runCreated(a attr, uid types.UID, planned Outcome, at time.Time) int {
	t.runs = append(t.runs, runFact{attr: a, uid: uid, planned: planned, created: at})
	return len(t.runs) - 1
}

func (t *Truth) runFinished(i int, outcome string, at time.Time) {
	t.runs[i].outcome, t.runs[i].finished = outcome, at
}

func (t *Truth) podCreated(a attr, at time.Time) int {
	t.pods = append(t.pods, podFact{attr: a, created: at})
	return len(t.pods) - 1
}

// podLeftPending records that pod i left Pending at at, unless it already had.
func (t *Truth) podLeftPending(i int, at time.Time) {
	if t.pods[i].pendingUntil.IsZero() {
		t.pods[i].pendingUntil = at
	}
}

func (t *Truth) podFinished(i int, phase string, at time.Time) {
	t.podLeftPending(i, at)
	t.pods[i].phase, t.pods[i].finished = phase, at
}

func (t *Truth) podOOM(i int, at time.Time) {
	if t.pods[i].oom.IsZero() {
		t.pods[i].oom = at
	}
}

func (t *Truth) podCrashLoop(i int, at time.Time) {
	if t.pods[i].crashLoop.IsZero() {
		t.pods[i].crashLoop = at
	}
}

// waitShown records the waiting episode that pod i's object o shows at at,
// the first time o shows it. The steps of starting a container
// (ContainerCreating, PodInitializing) are not episodes.
func (t *Truth) waitShown(i int, o *corev1.Pod, at time.Time) {
	if len(o.Status.ContainerStatuses) == 0 {
		return
	}
	cs := o.Status.ContainerStatuses[0]
	w := cs.State.Waiting
	if w == nil || w.Reason == "" || w.Reason == "ContainerCreating" || w.Reason == "PodInitializing" {
		return
	}
	p := &t.pods[i]
	k := waitKey{cs.RestartCount, w.Reason}
	if p.waitsShown[k] {
		return
	}
	if p.waitsShown == nil {
		p.waitsShown = map[waitKey]bool{}
	}
	p.waitsShown[k] = true
	t.waits = append(t.waits, keyedFact{timedFact{p.attr, at}, w.Reason})
}

// terminated records that the container of pod i ended at at for reason.
func (t *Truth) terminated(i int, reason string, at time.Time) {
	t.terminations = append(t.terminations, keyedFact{timedFact{t.pods[i].attr, at}, reason})
}

func (t *Truth) restart(i int, at time.Time) {
	t.restarts = append(t.restarts, timedFact{attr: t.pods[i].attr, at: at})
}

// eventCreated records a new Event object last seen at at, and returns its index.
func (t *Truth) eventCreated(a attr, at time.Time) int {
	t.events = append(t.events, timedFact{attr: a, at: at})
	return len(t.events) - 1
}

// eventSeen records that event i was last seen at at.
func (t *Truth) eventSeen(i int, at time.Time) { t.events[i].at = at }
