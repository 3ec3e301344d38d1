package ledger

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/batchlens/batchlens/internal/model"
)

func TestJob(t *testing.T) {
	l := &Ledger{Cluster: "c1"}
	base := model.Run{Cluster: "c1", Namespace: "ml", UID: "job-train-1", Name: "train-1", CronJob: "train",
		CreatedAt: sec(0), ScheduledAt: sec(0)}
	cases := []struct {
		name    string
		job     *batchv1.Job
		deleted bool
		want    func(r *model.Run)
	}{
		{"created", job("train-1"), false, func(r *model.Run) {}},
		{"running", job("train-1", func(j *batchv1.Job) { j.Status.StartTime = atp(1); j.Status.Active = 1 }), false,
			func(r *model.Run) { r.StartedAt = sec(1) }},
		{"complete", job("train-1", func(j *batchv1.Job) {
			j.Status.StartTime, j.Status.CompletionTime, j.Status.Succeeded = atp(1), atp(30), 1
			j.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: at(30)},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: at(30)},
			}
		}), false, func(r *model.Run) {
			r.StartedAt, r.FinishedAt, r.Outcome, r.Succeeded = sec(1), sec(30), model.OutcomeSucceeded, 1
		}},
		{"failure target only is not finished yet", job("train-1", func(j *batchv1.Job) {
			j.Status.StartTime, j.Status.Failed = atp(1), 3
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue,
				Reason: "BackoffLimitExceeded", LastTransitionTime: at(40)}}
		}), false, func(r *model.Run) { r.StartedAt, r.Failed = sec(1), 3 }},
		{"backoff limit exceeded", job("train-1", func(j *batchv1.Job) {
			j.Status.StartTime, j.Status.Failed = atp(1), 3
			j.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: at(40)},
				{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded",
					Message: "Job has reached the specified backoff limit", LastTransitionTime: at(41)},
			}
		}), false, func(r *model.Run) {
			r.StartedAt, r.Failed, r.FinishedAt = sec(1), 3, sec(41)
			r.Outcome, r.Reason, r.Message = model.OutcomeFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit"
		}},
		{"deleted by TTL", job("train-1"), true, func(r *model.Run) { r.DeletedAt = sec(100) }},
		{"plain job without cronjob", job("train-1", func(j *batchv1.Job) { j.OwnerReferences = nil; j.Annotations = nil }), false,
			func(r *model.Run) { r.CronJob, r.ScheduledAt = "", time.Time{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := base
			tc.want(&want)
			got := l.Job(tc.job, tc.deleted, sec(100))
			if diff := cmp.Diff(model.Facts{Runs: []model.Run{want}}, got); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPod(t *testing.T) {
	l := &Ledger{Cluster: "c1", CronJobOf: func(ns, name, uid string) string {
		if ns == "ml" && name == "train-1" && uid == "job-train-1" {
			return "train"
		}
		return ""
	}}
	now := sec(500)
	base := func(ph string) model.Pod {
		return model.Pod{Cluster: "c1", Namespace: "ml", UID: "pod-p", Name: "p", JobUID: "job-train-1",
			JobName: "train-1", CronJob: "train", CreatedAt: sec(0), Phase: ph}
	}
	term := func(attempt int32, reason string, code int32, from, to int) model.Termination {
		return model.Termination{Cluster: "c1", PodUID: "pod-p", Container: "main", Attempt: attempt,
			Reason: reason, ExitCode: code, StartedAt: sec(from), FinishedAt: sec(to)}
	}
	restart := func(i int32, s int) model.Restart {
		return model.Restart{Cluster: "c1", PodUID: "pod-p", Container: "main", Index: i, At: sec(s)}
	}
	wait := func(attempt int32, reason string) model.Waiting {
		return model.Waiting{Cluster: "c1", PodUID: "pod-p", Container: "main", Attempt: attempt, Reason: reason,
			Message: "back-off 10s restarting failed container", FirstSeen: now, LastSeen: now}
	}
	cases := []struct {
		name    string
		pod     *corev1.Pod
		deleted bool
		want    func() model.Facts
	}{
		{"pending unscheduled", pod("p"), false, func() model.Facts {
			return model.Facts{Pods: []model.Pod{base("Pending")}}
		}},
		{"deleted while pending", pod("p"), true, func() model.Facts {
			p := base("Pending")
			p.PendingUntil, p.DeletedAt = now, now
			return model.Facts{Pods: []model.Pod{p}}
		}},
		{"running", pod("p", scheduled(1), phase(corev1.PodRunning), status(corev1.ContainerStatus{State: running(3)})), false, func() model.Facts {
			p := base("Running")
			p.Node, p.ScheduledAt, p.StartedAt, p.PendingUntil = "node-1", sec(1), sec(3), sec(3)
			return model.Facts{Pods: []model.Pod{p}}
		}},
		{"succeeded", pod("p", scheduled(1), phase(corev1.PodSucceeded),
			status(corev1.ContainerStatus{State: terminated("Completed", 0, 3, 60)})), false, func() model.Facts {
			p := base("Succeeded")
			p.Node, p.ScheduledAt, p.StartedAt, p.PendingUntil, p.FinishedAt = "node-1", sec(1), sec(3), sec(3), sec(60)
			return model.Facts{Pods: []model.Pod{p}, Terminations: []model.Termination{term(0, "Completed", 0, 3, 60)}}
		}},
		{"OOMKilled, restartPolicy Never", pod("p", scheduled(1), phase(corev1.PodFailed),
			status(corev1.ContainerStatus{State: terminated("OOMKilled", 137, 3, 20)})), false, func() model.Facts {
			p := base("Failed")
			p.Node, p.ScheduledAt, p.StartedAt, p.PendingUntil, p.FinishedAt = "node-1", sec(1), sec(3), sec(3), sec(20)
			return model.Facts{Pods: []model.Pod{p}, Terminations: []model.Termination{term(0, "OOMKilled", 137, 3, 20)}}
		}},
		{"OOMKilled then restarted (OnFailure), seen only after the restart", pod("p", scheduled(1), phase(corev1.PodRunning),
			status(corev1.ContainerStatus{RestartCount: 1, State: running(25), LastTerminationState: terminated("OOMKilled", 137, 3, 20)})), false, func() model.Facts {
			p := base("Running")
			p.Node, p.ScheduledAt, p.StartedAt, p.PendingUntil = "node-1", sec(1), sec(3), sec(3)
			return model.Facts{Pods: []model.Pod{p}, Terminations: []model.Termination{term(0, "OOMKilled", 137, 3, 20)},
				Restarts: []model.Restart{restart(1, 25)}}
		}},
		{"CrashLoopBackOff after the third attempt", pod("p", scheduled(1), phase(corev1.PodRunning),
			status(corev1.ContainerStatus{RestartCount: 2, State: waiting("CrashLoopBackOff"), LastTerminationState: terminated("Error", 1, 40, 45)})), false, func() model.Facts {
			p := base("Running")
			p.Node, p.ScheduledAt, p.StartedAt, p.PendingUntil = "node-1", sec(1), sec(40), sec(40)
			return model.Facts{Pods: []model.Pod{p}, Terminations: []model.Termination{term(2, "Error", 1, 40, 45)},
				Restarts: []model.Restart{restart(1, 500), restart(2, 40)}, Waits: []model.Waiting{wait(2, "CrashLoopBackOff")}}
		}},
		{"restart created but not started", pod("p", scheduled(1), phase(corev1.PodRunning),
			status(corev1.ContainerStatus{RestartCount: 1, State: waiting("ContainerCreating"), LastTerminationState: terminated("Error", 1, 3, 9)})), false, func() model.Facts {
			p := base("Running")
			p.Node, p.ScheduledAt, p.StartedAt, p.PendingUntil = "node-1", sec(1), sec(3), sec(3)
			return model.Facts{Pods: []model.Pod{p}, Terminations: []model.Termination{term(0, "Error", 1, 3, 9)}}
		}},
		{"image pull back-off keeps the pod Pending", pod("p", scheduled(1),
			status(corev1.ContainerStatus{State: waiting("ImagePullBackOff")})), false, func() model.Facts {
			p := base("Pending")
			p.Node, p.ScheduledAt = "node-1", sec(1)
			return model.Facts{Pods: []model.Pod{p}, Waits: []model.Waiting{wait(0, "ImagePullBackOff")}}
		}},
		{"evicted", pod("p", scheduled(1), phase(corev1.PodFailed), func(p *corev1.Pod) {
			p.Status.Reason, p.Status.Message = "Evicted", "The node was low on resource: memory."
		}, status(corev1.ContainerStatus{State: terminated("ContainerStatusUnknown", 137, 3, 70)})), false, func() model.Facts {
			p := base("Failed")
			p.Node, p.ScheduledAt, p.StartedAt, p.PendingUntil, p.FinishedAt = "node-1", sec(1), sec(3), sec(3), sec(70)
			p.Reason, p.Message = "Evicted", "The node was low on resource: memory."
			return model.Facts{Pods: []model.Pod{p}, Terminations: []model.Termination{term(0, "ContainerStatusUnknown", 137, 3, 70)}}
		}},
		{"failed before any container ran (deadline)", pod("p", phase(corev1.PodFailed), func(p *corev1.Pod) {
			p.Status.Reason = "DeadlineExceeded"
		}), false, func() model.Facts {
			p := base("Failed")
			p.Reason, p.PendingUntil, p.FinishedAt = "DeadlineExceeded", now, now
			return model.Facts{Pods: []model.Pod{p}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := l.Pod(tc.pod, tc.deleted, now)
			if diff := cmp.Diff(tc.want(), got); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	l := &Ledger{Cluster: "c1"}
	legacy := &corev1.Event{}
	legacy.UID, legacy.Namespace = "ev1", "ml"
	legacy.InvolvedObject = corev1.ObjectReference{Kind: "Pod", Name: "p", UID: "pod-p", Namespace: "ml"}
	legacy.Type, legacy.Reason, legacy.Message = "Warning", "BackOff", "Back-off restarting failed container main"
	legacy.Source.Component = "kubelet"
	legacy.FirstTimestamp, legacy.LastTimestamp, legacy.Count = at(10), at(90), 5

	series := &corev1.Event{}
	series.UID, series.Namespace = "ev2", "ml"
	series.InvolvedObject = corev1.ObjectReference{Kind: "Pod", Name: "p", UID: "pod-p", Namespace: "ml"}
	series.Type, series.Reason, series.Message = "Warning", "FailedScheduling", "0/3 nodes are available"
	series.ReportingController = "default-scheduler"
	series.EventTime = metav1MicroTime(10)
	series.Series = &corev1.EventSeries{Count: 4, LastObservedTime: metav1MicroTime(70)}

	cases := []struct {
		name string
		ev   *corev1.Event
		want model.Event
	}{
		{"legacy recorder", legacy, model.Event{Cluster: "c1", UID: "ev1", Namespace: "ml", InvolvedKind: "Pod",
			InvolvedName: "p", InvolvedUID: "pod-p", Type: "Warning", Reason: "BackOff",
			Message: "Back-off restarting failed container main", Source: "kubelet", Count: 5, FirstSeen: sec(10), LastSeen: sec(90)}},
		{"events.k8s.io series", series, model.Event{Cluster: "c1", UID: "ev2", Namespace: "ml", InvolvedKind: "Pod",
			InvolvedName: "p", InvolvedUID: "pod-p", Type: "Warning", Reason: "FailedScheduling",
			Message: "0/3 nodes are available", Source: "default-scheduler", Count: 4, FirstSeen: sec(10), LastSeen: sec(70)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(model.Facts{Events: []model.Event{tc.want}}, l.Event(tc.ev, sec(999))); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

// The Job controller's final event about a Job carries its outcome: a run
// deleted by its TTL during a watch gap still gets one (see
// storetest's TestInferredRun).
func TestEventOfFinishedJob(t *testing.T) {
	l := &Ledger{Cluster: "c1"}
	event := func(reason, source, kind string) *corev1.Event {
		e := &corev1.Event{}
		e.UID, e.Namespace = types.UID("ev-"+reason), "ml"
		e.InvolvedObject = corev1.ObjectReference{Kind: kind, Name: "etl-1", UID: "job-1", Namespace: "ml"}
		e.Type, e.Reason, e.Message = "Warning", reason, "Job has reached the specified backoff limit"
		e.Source.Component = source
		e.FirstTimestamp, e.LastTimestamp, e.Count = at(40), at(40), 1
		return e
	}
	failed := model.Run{Cluster: "c1", Namespace: "ml", UID: "job-1", Name: "etl-1", Outcome: model.OutcomeFailed,
		Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", FinishedAt: sec(40), Inferred: true}
	cases := []struct {
		name string
		ev   *corev1.Event
		want []model.Run
	}{
		{"backoff limit", event("BackoffLimitExceeded", "job-controller", "Job"), []model.Run{failed}},
		{"deadline", event("DeadlineExceeded", "job-controller", "Job"), []model.Run{func() model.Run {
			r := failed
			r.Reason = "DeadlineExceeded"
			return r
		}()}},
		{"completed", event("Completed", "job-controller", "Job"), []model.Run{{Cluster: "c1", Namespace: "ml", UID: "job-1",
			Name: "etl-1", Outcome: model.OutcomeSucceeded, FinishedAt: sec(40), Inferred: true}}},
		{"another component", event("BackoffLimitExceeded", "my-operator", "Job"), nil},
		{"about a pod", event("Completed", "job-controller", "Pod"), nil},
		{"not a final reason", event("SuccessfulCreate", "job-controller", "Job"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, l.Event(tc.ev, sec(999)).Runs); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCleanHostileText(t *testing.T) {
	huge := strings.Repeat("é", 600_000) // 1.2 MB
	cases := []struct {
		name, in string
		check    func(t *testing.T, out string)
	}{
		{"html stays as text", `<script>alert(1)</script><img src=x onerror=alert(2)>`, func(t *testing.T, out string) {
			if out != `<script>alert(1)</script><img src=x onerror=alert(2)>` {
				t.Errorf("changed: %q", out)
			}
		}},
		{"invalid utf-8 is replaced", "ok\xff\xfe done", func(t *testing.T, out string) {
			if out != "ok\uFFFD done" {
				t.Errorf("got %q", out)
			}
		}},
		{"NUL bytes are dropped", "a\x00b", func(t *testing.T, out string) {
			if out != "ab" {
				t.Errorf("got %q", out)
			}
		}},
		{"1 MB message is cut at a rune boundary", huge, func(t *testing.T, out string) {
			if len(out) > model.MaxMessage || !utf8.ValidString(out) || !strings.HasSuffix(out, "…") {
				t.Errorf("len %d valid %v", len(out), utf8.ValidString(out))
			}
		}},
		{"short text untouched", "exit code 137", func(t *testing.T, out string) {
			if out != "exit code 137" {
				t.Errorf("got %q", out)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, clean(tc.in)) })
	}

	// And through the ledger: a pod whose message and termination message are hostile.
	l := &Ledger{Cluster: "c1"}
	p := pod("p", phase(corev1.PodFailed), func(p *corev1.Pod) { p.Status.Message = huge + "\xff" },
		status(corev1.ContainerStatus{State: terminated("Error", 1, 1, 2)}))
	p.Status.ContainerStatuses[0].State.Terminated.Message = "<img src=x onerror=alert(1)>" + huge
	f := l.Pod(p, false, sec(5))
	for _, s := range []string{f.Pods[0].Message, f.Terminations[0].Message} {
		if len(s) > model.MaxMessage || !utf8.ValidString(s) {
			t.Errorf("stored text not bounded/valid: len %d", len(s))
		}
	}
}

// TestPodContainers: requests and limits are facts of the pod's
// containers; a container that sets none gives no fact.
func TestPodContainers(t *testing.T) {
	l := &Ledger{Cluster: "c1"}
	p := pod("p", func(p *corev1.Pod) {
		p.Spec.Containers = []corev1.Container{
			{Name: "main", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi"),
					corev1.ResourceEphemeralStorage: resource.MustParse("2Gi")},
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi"),
					corev1.ResourceEphemeralStorage: resource.MustParse("4Gi")},
			}},
			{Name: "sidecar", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}},
			{Name: "bare"},
		}
	})
	want := []model.Container{
		{Cluster: "c1", PodUID: "pod-p", Name: "main", CPURequest: 500, CPULimit: 2000, MemoryRequest: 1 << 30,
			MemoryLimit: 2 << 30, StorageRequest: 2 << 30, StorageLimit: 4 << 30},
		{Cluster: "c1", PodUID: "pod-p", Name: "sidecar", MemoryLimit: 64 << 20},
	}
	if diff := cmp.Diff(want, l.Pod(p, false, sec(10)).Containers); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
}
