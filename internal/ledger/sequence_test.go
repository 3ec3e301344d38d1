package ledger

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlite"
)

// look is one watch notification: an object as seen at a moment.
type look struct {
	obj     runtime.Object
	deleted bool
	at      time.Time
}

func see(s int, obj runtime.Object) look  { return look{obj: obj, at: sec(s)} }
func gone(s int, obj runtime.Object) look { return look{obj: obj, deleted: true, at: sec(s)} }

// state is everything the store knows about the objects of a sequence, read
// back through the Store interface.
type state struct {
	Counts   map[store.Metric]int64
	Pending  []int64
	Runs     []model.Run
	Pods     []model.Pod
	Evidence map[string][]any
}

func readState(t *testing.T, s store.Store, cluster string, looks []look) state {
	t.Helper()
	ctx := context.Background()
	b := store.Buckets{From: sec(-3600), To: sec(7200), Step: time.Hour}
	st := state{Counts: map[store.Metric]int64{}, Evidence: map[string][]any{}}
	for _, m := range store.Metrics() {
		c, err := s.Count(ctx, m, b, store.Filter{Cluster: cluster})
		if err != nil {
			t.Fatalf("count %s: %v", m, err)
		}
		for _, n := range c {
			st.Counts[m] += n
		}
	}
	pend, err := s.PendingAt(ctx, []time.Time{sec(0), sec(5), sec(30), sec(120), sec(7000)}, store.Filter{Cluster: cluster})
	if err != nil {
		t.Fatal(err)
	}
	st.Pending = pend
	seen := map[string]bool{}
	for _, l := range looks {
		switch o := l.obj.(type) {
		case *batchv1.Job:
			if seen[string(o.UID)] {
				continue
			}
			seen[string(o.UID)] = true
			r, err := s.Run(ctx, cluster, string(o.UID))
			if err != nil {
				t.Fatalf("run %s: %v", o.UID, err)
			}
			r.Cluster = ""
			st.Runs = append(st.Runs, r)
		case *corev1.Pod:
			if seen[string(o.UID)] {
				continue
			}
			seen[string(o.UID)] = true
			p, err := s.Pod(ctx, cluster, string(o.UID))
			if err != nil {
				t.Fatalf("pod %s: %v", o.UID, err)
			}
			p.Cluster = ""
			st.Pods = append(st.Pods, p)
			terms, restarts, waits, err := s.PodEvidence(ctx, cluster, string(o.UID))
			if err != nil {
				t.Fatal(err)
			}
			for i := range terms {
				terms[i].Cluster = ""
			}
			for i := range restarts {
				restarts[i].Cluster = ""
			}
			for i := range waits {
				waits[i].Cluster = ""
			}
			st.Evidence[string(o.UID)] = []any{terms, restarts, waits}
		}
	}
	return st
}

// replayer writes sequences of looks into one store, each sequence as a
// cluster of its own, so that every replay starts from nothing without the
// cost of a new database.
type replayer struct {
	s store.Store
	n int
}

func newReplayer(tb testing.TB) *replayer {
	s, err := sqlite.Open(context.Background(), tb.TempDir()+"/ledger.db")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return &replayer{s: s}
}

// replay writes looks through the ledger, one batch per look, and returns
// what the store knows afterwards, with the cluster names left out.
func (r *replayer) replay(t *testing.T, looks []look) state {
	t.Helper()
	r.n++
	cluster := fmt.Sprintf("c%d", r.n)
	l := &Ledger{Cluster: cluster}
	for _, lk := range looks {
		f, ok := l.Object(lk.obj, lk.deleted, lk.at)
		if !ok {
			t.Fatalf("ledger ignored %T", lk.obj)
		}
		if err := r.s.Write(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	return readState(t, r.s, cluster, looks)
}

// orders are the ways a sequence of looks may reach the ledger; all of them
// must leave the store in the same state as the plain, in-order one.
var orders = []struct {
	name string
	of   func([]look) []look
}{
	{"duplicated", func(ls []look) []look {
		var out []look
		for _, l := range ls {
			out = append(out, l, l)
		}
		return out
	}},
	{"replayed", func(ls []look) []look { return append(slices.Clone(ls), ls...) }},
	{"reversed", func(ls []look) []look {
		out := slices.Clone(ls)
		slices.Reverse(out)
		return out
	}},
	{"relist after restart", func(ls []look) []look {
		// batchlens restarts after the sequence: the informers list every
		// object that still exists, in its last state, at a later time.
		out := slices.Clone(ls)
		last := map[string]bool{}
		for i := len(ls) - 1; i >= 0; i-- {
			key := objKey(ls[i].obj)
			if last[key] {
				continue
			}
			last[key] = true
			if !ls[i].deleted {
				out = append(out, look{obj: ls[i].obj, at: sec(3600)})
			}
		}
		return out
	}},
}

// objKey identifies an object across its looks.
func objKey(o runtime.Object) string {
	m, _ := meta.Accessor(o)
	return fmt.Sprintf("%T/%s", o, m.GetUID())
}

func TestSequences(t *testing.T) {
	onFailure := func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }
	sched := scheduled(1)
	cases := []struct {
		name   string
		looks  []look
		counts map[store.Metric]int64 // expected totals; metrics not listed must be 0
		check  func(t *testing.T, st state)
	}{
		{
			name: "pod that lives under a second and is deleted: seen only at creation and deletion",
			looks: []look{
				see(0, pod("p")),
				gone(1, pod("p", sched, phase(corev1.PodSucceeded), status(corev1.ContainerStatus{State: terminated("Completed", 0, 0, 0)}))),
			},
			counts: map[store.Metric]int64{store.PodsFinished: 1, store.PodsSucceeded: 1},
			check: func(t *testing.T, st state) {
				p := st.Pods[0]
				if p.Phase != model.PhaseSucceeded || !p.FinishedAt.Equal(sec(0)) || !p.DeletedAt.Equal(sec(1)) || !p.PendingUntil.Equal(sec(0)) {
					t.Errorf("pod = %+v", p)
				}
			},
		},
		{
			name: "OOMKilled then restarted under OnFailure, the kill never seen in state",
			looks: []look{
				see(0, pod("p", onFailure)),
				see(2, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{State: running(2)}))),
				see(30, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{RestartCount: 1, State: running(21), LastTerminationState: terminated("OOMKilled", 137, 2, 20)}))),
				see(60, pod("p", onFailure, sched, phase(corev1.PodSucceeded), status(corev1.ContainerStatus{RestartCount: 1, State: terminated("Completed", 0, 21, 59), LastTerminationState: terminated("OOMKilled", 137, 2, 20)}))),
			},
			counts: map[store.Metric]int64{store.PodsFinished: 1, store.PodsSucceeded: 1, store.PodsOOM: 1, store.Restarts: 1},
			check: func(t *testing.T, st state) {
				terms := st.Evidence["pod-p"][0].([]model.Termination)
				if len(terms) != 2 || terms[0].Reason != "OOMKilled" || terms[0].ExitCode != 137 || terms[1].Reason != "Completed" {
					t.Errorf("terminations = %+v", terms)
				}
				if r := st.Evidence["pod-p"][1].([]model.Restart); len(r) != 1 || !r[0].At.Equal(sec(21)) {
					t.Errorf("restarts = %+v", r)
				}
			},
		},
		{
			name: "repeated CrashLoopBackOff episodes, then backoff limit",
			looks: []look{
				see(0, pod("p", onFailure)),
				see(2, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{State: running(2)}))),
				see(5, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{State: terminated("Error", 1, 2, 5)}))),
				see(6, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{State: waiting("CrashLoopBackOff"), LastTerminationState: terminated("Error", 1, 2, 5)}))),
				see(15, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{RestartCount: 1, State: running(15), LastTerminationState: terminated("Error", 1, 2, 5)}))),
				see(18, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{RestartCount: 1, State: waiting("CrashLoopBackOff"), LastTerminationState: terminated("Error", 1, 15, 18)}))),
				see(25, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{RestartCount: 1, State: waiting("CrashLoopBackOff"), LastTerminationState: terminated("Error", 1, 15, 18)}))),
				see(40, pod("p", onFailure, sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{RestartCount: 2, State: running(38), LastTerminationState: terminated("Error", 1, 15, 18)}))),
				see(44, pod("p", onFailure, sched, phase(corev1.PodFailed), status(corev1.ContainerStatus{RestartCount: 2, State: terminated("Error", 1, 38, 44), LastTerminationState: terminated("Error", 1, 15, 18)}))),
			},
			counts: map[store.Metric]int64{store.PodsFinished: 1, store.PodsFailed: 1, store.PodsCrashLoop: 1, store.Restarts: 2},
			check: func(t *testing.T, st state) {
				ev := st.Evidence["pod-p"]
				if terms := ev[0].([]model.Termination); len(terms) != 3 {
					t.Errorf("want 3 terminations (attempts 0,1,2), got %+v", terms)
				}
				waits := ev[2].([]model.Waiting)
				if len(waits) != 2 || !waits[1].FirstSeen.Equal(sec(18)) || !waits[1].LastSeen.Equal(sec(25)) {
					t.Errorf("want 2 CrashLoopBackOff episodes, the second seen 18s..25s, got %+v", waits)
				}
			},
		},
		{
			name: "Job deleted by TTL a second after it finished, with its pod",
			looks: []look{
				see(0, job("train-1")),
				see(0, pod("p")),
				see(1, job("train-1", func(j *batchv1.Job) { j.Status.StartTime, j.Status.Active = atp(1), 1 })),
				see(3, pod("p", sched, phase(corev1.PodRunning), status(corev1.ContainerStatus{State: running(3)}))),
				see(10, pod("p", sched, phase(corev1.PodSucceeded), status(corev1.ContainerStatus{State: terminated("Completed", 0, 3, 10)}))),
				see(11, job("train-1", completeAt(11))),
				gone(12, job("train-1", completeAt(11))),
				gone(12, pod("p", sched, phase(corev1.PodSucceeded), status(corev1.ContainerStatus{State: terminated("Completed", 0, 3, 10)}))),
			},
			counts: map[store.Metric]int64{store.RunsCreated: 1, store.RunsSucceeded: 1, store.PodsFinished: 1, store.PodsSucceeded: 1},
			check: func(t *testing.T, st state) {
				r := st.Runs[0]
				if r.Outcome != model.OutcomeSucceeded || !r.FinishedAt.Equal(sec(11)) || !r.DeletedAt.Equal(sec(12)) || r.CronJob != "train" {
					t.Errorf("run = %+v", r)
				}
				if st.Pods[0].CronJob != "train" {
					t.Errorf("pod not attributed to its CronJob through its Job: %+v", st.Pods[0])
				}
			},
		},
		{
			name: "unschedulable pod deleted while Pending",
			looks: []look{
				see(0, pod("p")),
				see(20, pod("p")),
				gone(90, pod("p")),
			},
			counts: map[store.Metric]int64{},
			check: func(t *testing.T, st state) {
				if want := []int64{1, 1, 1, 0, 0}; !slices.Equal(st.Pending, want) {
					t.Errorf("pending at 0,5,30,120,7000s = %v, want %v", st.Pending, want)
				}
			},
		},
	}
	r := newReplayer(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := r.replay(t, tc.looks)
			for _, m := range store.Metrics() {
				if want.Counts[m] != tc.counts[m] {
					t.Errorf("%s = %d, want %d", m, want.Counts[m], tc.counts[m])
				}
			}
			tc.check(t, want)
			for _, o := range orders {
				t.Run(o.name, func(t *testing.T) {
					got := r.replay(t, o.of(tc.looks))
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s delivery changed the ledger (-in order +%s):\n%s", o.name, o.name, diff)
					}
				})
			}
		})
	}
}

func completeAt(s int) func(*batchv1.Job) {
	return func(j *batchv1.Job) {
		j.Status.StartTime, j.Status.CompletionTime, j.Status.Succeeded = atp(1), atp(s), 1
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: at(s)},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: at(s)},
		}
	}
}
