package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

func fullRun() model.Run {
	return model.Run{Cluster: "c1", Namespace: "ml", UID: "run-1", Name: "train-1", CronJob: "train",
		CreatedAt: at(0), ScheduledAt: at(0), StartedAt: at(2 * time.Second), FinishedAt: at(5 * minute),
		Outcome: model.OutcomeFailed, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit",
		Succeeded: 1, Failed: 3, DeletedAt: at(10 * minute)}
}

func (s suite) testRunMerge(t *testing.T) {
	full := fullRun()
	other := model.Run{Cluster: "c1", Namespace: "other-ns", UID: "run-1", Name: "other-name", CronJob: "other",
		CreatedAt: at(hour), ScheduledAt: at(hour), StartedAt: at(hour), FinishedAt: at(hour),
		Outcome: model.OutcomeSucceeded, Reason: "Other", Message: "other message", DeletedAt: at(hour)}
	key := model.Run{Cluster: "c1", UID: "run-1"}
	with := func(f func(r *model.Run)) model.Run {
		r := full
		f(&r)
		return r
	}
	cases := []struct {
		name   string
		writes []model.Facts
		want   model.Run
	}{
		{"round trip", []model.Facts{{Runs: []model.Run{full}}}, full},
		{"duplicate", []model.Facts{{Runs: []model.Run{full}}, {Runs: []model.Run{full}}}, full},
		{"duplicate in one batch", []model.Facts{{Runs: []model.Run{full, full}}}, full},
		{"first non-empty strings and earliest times win",
			[]model.Facts{{Runs: []model.Run{full}}, {Runs: []model.Run{other}}}, full},
		{"first non-empty strings and earliest times win in one batch",
			[]model.Facts{{Runs: []model.Run{full, other}}}, full},
		{"earliest times win over earlier writes",
			[]model.Facts{{Runs: []model.Run{other}}, {Runs: []model.Run{full}}},
			func() model.Run {
				r := other
				r.Succeeded, r.Failed = full.Succeeded, full.Failed
				return timesOf(r, full)
			}()},
		{"empty values do not erase", []model.Facts{{Runs: []model.Run{full}}, {Runs: []model.Run{key}}}, full},
		{"empty values are filled later", []model.Facts{{Runs: []model.Run{key}}, {Runs: []model.Run{full}}}, full},
		{"largest succeeded and failed",
			[]model.Facts{
				{Runs: []model.Run{with(func(r *model.Run) { r.Succeeded, r.Failed = 1, 3 })}},
				{Runs: []model.Run{with(func(r *model.Run) { r.Succeeded, r.Failed = 2, 1 })}},
				{Runs: []model.Run{with(func(r *model.Run) { r.Succeeded, r.Failed = 0, 0 })}},
			},
			with(func(r *model.Run) { r.Succeeded, r.Failed = 2, 3 })},
		{"outcome set once", []model.Facts{
			{Runs: []model.Run{with(func(r *model.Run) { r.Outcome, r.Reason, r.Message = model.OutcomeSucceeded, "", "" })}},
			{Runs: []model.Run{full}},
		}, with(func(r *model.Run) { r.Outcome = model.OutcomeSucceeded })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			write(t, st, tc.writes...)
			diff(t, "run", tc.want, getRun(t, st, "c1", "run-1"))
		})
	}
}

// testInferredRun: a run fact read from the Job controller's final event
// completes a run already known, is counted like one read from the Job, and
// never creates a run on its own.
func (s suite) testInferredRun(t *testing.T) {
	b := store.Buckets{From: at(0), To: at(hour), Step: hour}
	running := model.Run{Cluster: "c1", Namespace: "ml", UID: "run-1", Name: "etl-1", CronJob: "etl",
		CreatedAt: at(minute), StartedAt: at(minute)}
	inferred := model.Run{Cluster: "c1", Namespace: "ml", UID: "run-1", Name: "etl-1", Outcome: model.OutcomeFailed,
		Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", FinishedAt: at(10 * minute), Inferred: true}
	seen := running
	seen.Outcome, seen.Reason, seen.FinishedAt = model.OutcomeFailed, "DeadlineExceeded", at(9*minute)
	cases := []struct {
		name       string
		writes     []model.Facts
		want       model.Run // zero: the run does not exist
		failed     int64
		failedInML int64
	}{
		{"completes a known run", []model.Facts{{Runs: []model.Run{running}}, {Runs: []model.Run{inferred}}},
			func() model.Run {
				r := running
				r.Outcome, r.Reason, r.Message, r.FinishedAt = inferred.Outcome, inferred.Reason, inferred.Message, inferred.FinishedAt
				return r
			}(), 1, 1},
		{"never creates a run", []model.Facts{{Runs: []model.Run{inferred}}}, model.Run{}, 0, 0},
		{"the Job's own outcome stays", []model.Facts{{Runs: []model.Run{seen}}, {Runs: []model.Run{inferred}}},
			func() model.Run {
				r := seen
				r.Message = inferred.Message // it had none
				return r
			}(), 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			write(t, st, tc.writes...)
			got, err := st.Run(context.Background(), "c1", "run-1")
			if tc.want.UID == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Run = %+v, %v; want ErrNotFound", got, err)
				}
			} else {
				diff(t, "run", tc.want, getRun(t, st, "c1", "run-1"))
			}
			diff(t, "runs failed", []int64{tc.failed}, count(t, st, store.RunsFailed, b, store.Filter{}))
			diff(t, "runs failed in ml", []int64{tc.failedInML}, count(t, st, store.RunsFailed, b, store.Filter{Namespace: "ml", CronJob: "etl"}))
		})
	}
}

// testRunVersionsAnyOrder writes the successive versions of a run in every
// order: the result is always the last version.
func (s suite) testRunVersionsAnyOrder(t *testing.T) {
	final := fullRun()
	v1 := model.Run{Cluster: final.Cluster, Namespace: final.Namespace, UID: final.UID, Name: final.Name,
		CronJob: final.CronJob, CreatedAt: final.CreatedAt, ScheduledAt: final.ScheduledAt}
	v2 := v1
	v2.StartedAt, v2.Failed = final.StartedAt, 1
	v3 := final
	v3.DeletedAt = time.Time{}
	versions := []model.Run{v1, v2, v3, final}

	st := s.store(t)
	for i, order := range permutations(len(versions)) {
		uid := fmt.Sprintf("run-%d", i)
		for _, v := range order {
			r := versions[v]
			r.UID = uid
			write(t, st, model.Facts{Runs: []model.Run{r}})
		}
		want := final
		want.UID = uid
		diff(t, fmt.Sprintf("run written in order %v", order), want, getRun(t, st, "c1", uid))
	}
}

func fullPod() model.Pod {
	return model.Pod{Cluster: "c1", Namespace: "ml", UID: "pod-1", Name: "train-1-abcde", JobUID: "run-1",
		JobName: "train-1", CronJob: "train", Node: "node-1",
		CreatedAt: at(0), ScheduledAt: at(time.Second), StartedAt: at(5 * time.Second), PendingUntil: at(5 * time.Second),
		FinishedAt: at(3 * minute), Phase: model.PhaseFailed, Reason: "DeadlineExceeded",
		Message: "Pod was active on the node longer than the specified deadline", DeletedAt: at(20 * minute)}
}

// timesOf returns r with the times of t.
func timesOf(r, t model.Run) model.Run {
	r.CreatedAt, r.ScheduledAt, r.StartedAt, r.FinishedAt, r.DeletedAt = t.CreatedAt, t.ScheduledAt, t.StartedAt, t.FinishedAt, t.DeletedAt
	return r
}

// podTimesOf returns p with the times of t.
func podTimesOf(p, t model.Pod) model.Pod {
	p.CreatedAt, p.ScheduledAt, p.StartedAt, p.PendingUntil = t.CreatedAt, t.ScheduledAt, t.StartedAt, t.PendingUntil
	p.FinishedAt, p.DeletedAt = t.FinishedAt, t.DeletedAt
	return p
}

func (s suite) testPodMerge(t *testing.T) {
	full := fullPod()
	phase := func(p string) model.Pod {
		q := full
		q.Phase = p
		return q
	}
	other := model.Pod{Cluster: "c1", Namespace: "other-ns", UID: "pod-1", Name: "other", JobUID: "run-2",
		JobName: "other-job", CronJob: "other", Node: "node-2",
		CreatedAt: at(hour), ScheduledAt: at(hour), StartedAt: at(hour), PendingUntil: at(hour), FinishedAt: at(hour),
		Phase: model.PhaseFailed, Reason: "Evicted", Message: "other message", DeletedAt: at(hour)}
	key := model.Pod{Cluster: "c1", UID: "pod-1"}
	cases := []struct {
		name string
		pods [][]model.Pod // one Write per element
		want model.Pod
	}{
		{"round trip", [][]model.Pod{{full}}, full},
		{"duplicate", [][]model.Pod{{full}, {full}}, full},
		{"duplicate in one batch", [][]model.Pod{{full, full}}, full},
		{"phase moves forward", [][]model.Pod{{phase(model.PhasePending)}, {phase(model.PhaseRunning)}, {phase(model.PhaseSucceeded)}},
			phase(model.PhaseSucceeded)},
		{"phase skips ahead", [][]model.Pod{{phase(model.PhasePending)}, {phase(model.PhaseFailed)}}, phase(model.PhaseFailed)},
		{"older phase refused", [][]model.Pod{{phase(model.PhaseRunning)}, {phase(model.PhasePending)}}, phase(model.PhaseRunning)},
		{"older phase refused in one batch", [][]model.Pod{{phase(model.PhaseRunning), phase(model.PhasePending)}},
			phase(model.PhaseRunning)},
		{"final phase kept over running", [][]model.Pod{{phase(model.PhaseFailed)}, {phase(model.PhaseRunning)}},
			phase(model.PhaseFailed)},
		{"succeeded is final", [][]model.Pod{{phase(model.PhaseSucceeded)}, {phase(model.PhaseFailed)}},
			phase(model.PhaseSucceeded)},
		{"failed is final", [][]model.Pod{{phase(model.PhaseFailed)}, {phase(model.PhaseSucceeded)}}, phase(model.PhaseFailed)},
		{"unknown does not replace a phase", [][]model.Pod{{phase(model.PhaseRunning)}, {phase(model.PhaseUnknown)}},
			phase(model.PhaseRunning)},
		{"pending replaces unknown", [][]model.Pod{{phase(model.PhaseUnknown)}, {phase(model.PhasePending)}},
			phase(model.PhasePending)},
		{"empty phase does not replace a phase", [][]model.Pod{{phase(model.PhasePending)}, {phase("")}},
			phase(model.PhasePending)},
		{"first non-empty strings and earliest times win", [][]model.Pod{{full}, {other}}, full},
		{"earliest times win over earlier writes", [][]model.Pod{{other}, {full}}, podTimesOf(other, full)},
		{"empty values do not erase", [][]model.Pod{{full}, {key}}, full},
		{"empty values are filled later", [][]model.Pod{{key}, {full}}, full},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			for _, pods := range tc.pods {
				write(t, st, model.Facts{Pods: pods})
			}
			diff(t, "pod", tc.want, getPod(t, st, "c1", "pod-1"))
		})
	}
}

// testPodVersionsAnyOrder writes the successive versions of a pod in every
// order: the result is always the last version.
func (s suite) testPodVersionsAnyOrder(t *testing.T) {
	final := fullPod()
	v1 := model.Pod{Cluster: final.Cluster, Namespace: final.Namespace, UID: final.UID, Name: final.Name,
		JobUID: final.JobUID, JobName: final.JobName, CronJob: final.CronJob, CreatedAt: final.CreatedAt,
		Phase: model.PhasePending}
	v2 := v1
	v2.Node, v2.ScheduledAt = final.Node, final.ScheduledAt
	v3 := v2
	v3.Phase, v3.StartedAt, v3.PendingUntil = model.PhaseRunning, final.StartedAt, final.PendingUntil
	v4 := final
	v4.DeletedAt = time.Time{}
	versions := []model.Pod{v1, v2, v3, v4, final}

	st := s.store(t)
	for i, order := range permutations(len(versions)) {
		uid := fmt.Sprintf("pod-%d", i)
		for _, v := range order {
			p := versions[v]
			p.UID = uid
			write(t, st, model.Facts{Pods: []model.Pod{p}})
		}
		want := final
		want.UID = uid
		diff(t, fmt.Sprintf("pod written in order %v", order), want, getPod(t, st, "c1", uid))
	}
}

func (s suite) testPodCronJobBackfill(t *testing.T) {
	run := func(cluster, cronJob string) model.Run {
		return model.Run{Cluster: cluster, Namespace: "ml", UID: "run-1", Name: "train-1", CronJob: cronJob, CreatedAt: at(0)}
	}
	pod := func(jobUID, cronJob string) model.Pod {
		return model.Pod{Cluster: "c1", Namespace: "ml", UID: "pod-1", Name: "train-1-abcde", JobUID: jobUID,
			JobName: "train-1", CronJob: cronJob, CreatedAt: at(0), FinishedAt: at(minute), Phase: model.PhaseFailed}
	}
	runs := func(r ...model.Run) model.Facts { return model.Facts{Runs: r} }
	pods := func(p ...model.Pod) model.Facts { return model.Facts{Pods: p} }
	cases := []struct {
		name   string
		writes []model.Facts
		want   string
	}{
		{"pod before its run", []model.Facts{pods(pod("run-1", "")), runs(run("c1", "train"))}, "train"},
		{"run before its pod", []model.Facts{runs(run("c1", "train")), pods(pod("run-1", ""))}, "train"},
		{"run and pod in one batch", []model.Facts{{Runs: []model.Run{run("c1", "train")}, Pods: []model.Pod{pod("run-1", "")}}}, "train"},
		{"run learns its cronjob after the pod was written",
			[]model.Facts{runs(run("c1", "")), pods(pod("run-1", "")), runs(run("c1", "train"))}, "train"},
		{"pod learns its run later",
			[]model.Facts{pods(pod("", "")), runs(run("c1", "train")), pods(pod("run-1", ""))}, "train"},
		{"pod's own cronjob kept, run first", []model.Facts{runs(run("c1", "train")), pods(pod("run-1", "own"))}, "own"},
		{"pod's own cronjob kept, pod first", []model.Facts{pods(pod("run-1", "own")), runs(run("c1", "train"))}, "own"},
		{"run without cronjob", []model.Facts{runs(run("c1", "")), pods(pod("run-1", ""))}, ""},
		{"pod without run", []model.Facts{pods(pod("", "")), runs(run("c1", "train"))}, ""},
		{"run of another cluster, run first", []model.Facts{runs(run("c2", "train")), pods(pod("run-1", ""))}, ""},
		{"run of another cluster, pod first", []model.Facts{pods(pod("run-1", "")), runs(run("c2", "train"))}, ""},
	}
	b := store.Buckets{From: at(0), To: at(hour), Step: hour}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			write(t, st, tc.writes...)
			if got := getPod(t, st, "c1", "pod-1").CronJob; got != tc.want {
				t.Errorf("pod CronJob = %q, want %q", got, tc.want)
			}
			// The pod counts under the CronJob it was given, and only there.
			for _, cj := range []string{"train", "own"} {
				want := []int64{0}
				if cj == tc.want {
					want = []int64{1}
				}
				diff(t, "pods_failed of cronjob "+cj, want, count(t, st, store.PodsFailed, b, store.Filter{CronJob: cj}))
			}
		})
	}
}

func (s suite) testEventMerge(t *testing.T) {
	v1 := model.Event{Cluster: "c1", UID: "ev-1", Namespace: "ml", InvolvedKind: "Pod", InvolvedName: "train-1-abcde",
		InvolvedUID: "pod-1", Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container",
		Source: "kubelet", Count: 1, FirstSeen: at(0), LastSeen: at(0)}
	v2 := v1
	v2.Count, v2.LastSeen, v2.Message = 4, at(25*minute), "Back-off restarting failed container main"
	v3 := v2 // the series continues, but an older copy of the first occurrence is replayed
	v3.Count, v3.FirstSeen = 2, at(minute)
	merged := v2
	merged.Message = v1.Message
	cases := []struct {
		name   string
		writes []model.Event
		want   model.Event
	}{
		{"in order", []model.Event{v1, v2}, merged},
		{"newest first", []model.Event{v2, v1}, v2},
		{"largest count and last seen, first first seen", []model.Event{v1, v2, v3, v1}, merged},
		{"empty values are filled later", []model.Event{{Cluster: "c1", UID: "ev-1", LastSeen: at(0)}, v2}, v2},
	}
	b := store.Buckets{From: at(0), To: at(30 * minute), Step: 10 * minute}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			for _, e := range tc.writes {
				write(t, st, model.Facts{Events: []model.Event{e}})
			}
			got, err := st.RecentEvents(context.Background(), at(-hour), at(hour), store.Filter{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "events", []model.Event{tc.want}, got)
			diff(t, "events counted once, at LastSeen", []int64{0, 0, 1}, count(t, st, store.Events, b, store.Filter{}))
		})
	}
}

func (s suite) testPodEvidence(t *testing.T) {
	term := func(container string, attempt int32, reason string, exit int32, finished time.Duration) model.Termination {
		return model.Termination{Cluster: "c1", PodUID: "pod-1", Container: container, Attempt: attempt, Reason: reason,
			ExitCode: exit, Message: reason + " message", StartedAt: at(finished - minute), FinishedAt: at(finished)}
	}
	restart := func(container string, index int32, d time.Duration) model.Restart {
		return model.Restart{Cluster: "c1", PodUID: "pod-1", Container: container, Index: index, At: at(d)}
	}
	wait := func(container string, attempt int32, reason string, first, last time.Duration) model.Waiting {
		return model.Waiting{Cluster: "c1", PodUID: "pod-1", Container: container, Attempt: attempt, Reason: reason,
			Message: reason + " message", FirstSeen: at(first), LastSeen: at(last)}
	}
	oom := term("main", 1, model.ReasonOOMKilled, 137, 4*minute)
	oom.Signal = 9
	bare := model.Termination{Cluster: "c1", PodUID: "pod-1", Container: "main", Attempt: 1}
	pullNoMessage := wait("main", 1, "ImagePullBackOff", 0, 100*time.Second)
	pullNoMessage.Message, pullNoMessage.FirstSeen = "", time.Time{}
	// The same episode seen again, by a watcher that first saw it later.
	crash1 := wait("main", 1, model.ReasonCrashLoopBackOff, 2*minute, 2*minute)
	crash2 := crash1
	crash2.FirstSeen, crash2.LastSeen, crash2.Message = at(150*time.Second), at(3*minute), "other message"

	st := s.store(t)
	write(t, st,
		model.Facts{
			Pods: []model.Pod{fullPod()},
			Terminations: []model.Termination{
				term("sidecar", 0, "Completed", 0, 5*minute),
				bare, // a termination seen before its details
				term("main", 0, "Error", 1, minute),
			},
			Restarts: []model.Restart{restart("main", 2, 4*minute), restart("main", 1, 2*minute), restart("init", 1, 2*minute)},
			Waits: []model.Waiting{
				crash1,
				pullNoMessage, // details come later
				wait("init", 0, "ErrImagePull", 0, 10*time.Second),
				wait("main", 0, "RunContainerError", 30*time.Second, 40*time.Second),
			},
		},
		model.Facts{
			Terminations: []model.Termination{oom, term("main", 0, "Completed", 0, 9*minute)},
			Restarts:     []model.Restart{restart("main", 1, 9*minute), restart("init", 1, minute), restart("sidecar", 1, 6*minute)},
			Waits:        []model.Waiting{crash2, wait("main", 1, "ImagePullBackOff", 90*time.Second, 100*time.Second)},
		},
		// Another pod and another cluster stay apart.
		model.Facts{
			Terminations: []model.Termination{{Cluster: "c1", PodUID: "pod-2", Container: "main", Reason: "Error"}},
			Restarts:     []model.Restart{{Cluster: "c2", PodUID: "pod-1", Container: "main", Index: 1, At: at(0)}},
			Waits:        []model.Waiting{{Cluster: "c2", PodUID: "pod-1", Container: "main", Reason: "X"}},
		},
	)
	ts, rs, ws, err := st.PodEvidence(context.Background(), "c1", "pod-1")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "terminations", []model.Termination{term("main", 0, "Error", 1, minute), oom, term("sidecar", 0, "Completed", 0, 5*minute)}, ts)
	diff(t, "restarts", []model.Restart{restart("init", 1, minute), restart("main", 1, 2*minute), restart("main", 2, 4*minute),
		restart("sidecar", 1, 6*minute)}, rs)
	wantCrash := crash1 // first message, largest LastSeen
	wantCrash.LastSeen = crash2.LastSeen
	diff(t, "waits", []model.Waiting{
		wait("init", 0, "ErrImagePull", 0, 10*time.Second),
		wait("main", 0, "RunContainerError", 30*time.Second, 40*time.Second),
		wantCrash,
		wait("main", 1, "ImagePullBackOff", 90*time.Second, 100*time.Second),
	}, ws)

	ts, rs, ws, err = st.PodEvidence(context.Background(), "c1", "no-such-pod")
	if err != nil {
		t.Fatalf("PodEvidence of a pod without evidence: %v", err)
	}
	if len(ts)+len(rs)+len(ws) != 0 {
		t.Errorf("PodEvidence of a pod without evidence = %v, %v, %v; want nothing", ts, rs, ws)
	}
}

func (s suite) testNotFound(t *testing.T) {
	st := s.store(t)
	write(t, st, model.Facts{
		Runs: []model.Run{fullRun()},
		Pods: []model.Pod{fullPod()},
		// Evidence of a pod whose Pod fact never came.
		Terminations: []model.Termination{{Cluster: "c1", PodUID: "ghost", Container: "main", Reason: model.ReasonOOMKilled,
			FinishedAt: at(minute)}},
		Waits: []model.Waiting{{Cluster: "c1", PodUID: "ghost", Container: "main", Reason: model.ReasonCrashLoopBackOff,
			FirstSeen: at(minute)}},
	})
	ctx := context.Background()
	lookups := []struct {
		name string
		get  func() error
	}{
		{"run of unknown uid", func() error { _, err := st.Run(ctx, "c1", "nope"); return err }},
		{"run of another cluster", func() error { _, err := st.Run(ctx, "c2", "run-1"); return err }},
		{"run by pod uid", func() error { _, err := st.Run(ctx, "c1", "pod-1"); return err }},
		{"pod of unknown uid", func() error { _, err := st.Pod(ctx, "c1", "nope"); return err }},
		{"pod of another cluster", func() error { _, err := st.Pod(ctx, "c2", "pod-1"); return err }},
		{"pod by run uid", func() error { _, err := st.Pod(ctx, "c1", "run-1"); return err }},
		{"pod known only by its evidence", func() error { _, err := st.Pod(ctx, "c1", "ghost"); return err }},
	}
	for _, l := range lookups {
		if err := l.get(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: error %v, want store.ErrNotFound", l.name, err)
		}
	}
	getRun(t, st, "c1", "run-1")
	getPod(t, st, "c1", "pod-1")
}

func (s suite) testClustersApart(t *testing.T) {
	east, west := fullRun(), fullRun()
	east.Cluster, west.Cluster = "east", "west"
	west.CronJob, west.Outcome, west.CreatedAt = "other", model.OutcomeSucceeded, at(30*minute)
	pe, pw := fullPod(), fullPod()
	pe.Cluster, pw.Cluster = "east", "west"
	pe.CronJob, pw.CronJob = "", ""
	pw.Phase = model.PhaseSucceeded
	ee := model.Event{Cluster: "east", UID: "ev-1", Reason: "A", LastSeen: at(minute)}
	ew := model.Event{Cluster: "west", UID: "ev-1", Reason: "B", LastSeen: at(2 * minute)}

	st := s.store(t)
	write(t, st,
		model.Facts{Runs: []model.Run{east}, Pods: []model.Pod{pe}, Events: []model.Event{ee}},
		model.Facts{Runs: []model.Run{west}, Pods: []model.Pod{pw}, Events: []model.Event{ew}},
	)
	diff(t, "east run", east, getRun(t, st, "east", "run-1"))
	diff(t, "west run", west, getRun(t, st, "west", "run-1"))
	pe.CronJob, pw.CronJob = east.CronJob, west.CronJob // filled from each cluster's own run
	diff(t, "east pod", pe, getPod(t, st, "east", "pod-1"))
	diff(t, "west pod", pw, getPod(t, st, "west", "pod-1"))
	got, err := st.RecentEvents(context.Background(), at(0), at(hour), store.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "events", []model.Event{ew, ee}, got)

	b := store.Buckets{From: at(0), To: at(hour), Step: hour}
	for _, c := range []struct {
		m          store.Metric
		east, west int64
	}{
		{store.RunsCreated, 1, 1}, {store.RunsFailed, 1, 0}, {store.RunsSucceeded, 0, 1},
		{store.PodsFailed, 1, 0}, {store.PodsSucceeded, 0, 1}, {store.Events, 1, 1},
	} {
		diff(t, string(c.m)+" of east", []int64{c.east}, count(t, st, c.m, b, store.Filter{Cluster: "east"}))
		diff(t, string(c.m)+" of west", []int64{c.west}, count(t, st, c.m, b, store.Filter{Cluster: "west"}))
		diff(t, string(c.m)+" of all", []int64{c.east + c.west}, count(t, st, c.m, b, store.Filter{}))
	}
}

// testMillisecondPrecision: times come back equal at millisecond precision.
func (s suite) testMillisecondPrecision(t *testing.T) {
	r := model.Run{Cluster: "c1", UID: "run-1", CreatedAt: at(1500 * time.Microsecond),
		FinishedAt: at(time.Second + 999999*time.Nanosecond)}
	st := s.store(t)
	write(t, st, model.Facts{Runs: []model.Run{r}})
	got := getRun(t, st, "c1", "run-1")
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{{"CreatedAt", got.CreatedAt, r.CreatedAt}, {"FinishedAt", got.FinishedAt, r.FinishedAt}} {
		if !c.got.Truncate(msec).Equal(c.want.Truncate(msec)) {
			t.Errorf("%s = %v, want %v at millisecond precision", c.name, c.got, c.want)
		}
	}
}

func (s suite) testEmptyWrite(t *testing.T) {
	st := s.store(t)
	write(t, st, model.Facts{}, model.Facts{CronJobs: []model.CronJob{
		{Cluster: "c1", Namespace: "ml", Name: "train", UID: "cj-1", Schedule: "*/5 * * * *", CreatedAt: at(0)},
		{Cluster: "c1", Namespace: "ml", Name: "train", UID: "cj-1", Schedule: "*/5 * * * *", Suspend: true, CreatedAt: at(0)},
	}})
	got := count(t, st, store.RunsCreated, store.Buckets{From: at(-hour), To: at(hour), Step: hour}, store.Filter{})
	diff(t, "runs_created of an empty store", []int64{0, 0}, got)
}
