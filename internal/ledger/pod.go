package ledger

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/batchlens/batchlens/internal/model"
)

// normalStep reports whether a waiting reason is a normal step of starting a
// container rather than an episode worth keeping.
func normalStep(reason string) bool {
	return reason == "" || reason == "ContainerCreating" || reason == "PodInitializing"
}

// Pod derives the facts of a pod and its containers; deleted marks its
// deletion, seen at now.
//
// Container attempts are numbered by restart index. The kubelet reports in
// restartCount the index of the newest container instance; `state` shows that
// instance, except while the kubelet backs off before the next restart
// (CrashLoopBackOff, an image pull back-off…): then `state` is waiting and
// `lastState` holds the newest, terminated instance. Otherwise `lastState`
// holds the instance before the newest. Every restart index up to
// restartCount yields a Restart fact, so a restart that happened between two
// looks is still counted (stamped at now when its start time is not shown).
func (l *Ledger) Pod(p *corev1.Pod, deleted bool, now time.Time) model.Facts {
	now = now.UTC()
	pod := model.Pod{
		Cluster:   l.Cluster,
		Namespace: p.Namespace,
		UID:       string(p.UID),
		Name:      p.Name,
		Node:      p.Spec.NodeName,
		CreatedAt: ts(&p.CreationTimestamp),
		Phase:     string(p.Status.Phase),
		Reason:    clean(p.Status.Reason),
		Message:   clean(p.Status.Message),
	}
	if ref := JobOf(p); ref != nil {
		pod.JobUID = string(ref.UID)
		pod.JobName = ref.Name
		if l.CronJobOf != nil {
			pod.CronJob = l.CronJobOf(p.Namespace, ref.Name, string(ref.UID))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue {
			pod.ScheduledAt = ts(&c.LastTransitionTime)
		}
	}

	facts := model.Facts{Containers: l.containers(p)}
	var lastFinish time.Time
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		l.container(&facts, string(p.UID), cs, now)
		if r := cs.State.Running; r != nil {
			pod.StartedAt = minTime(pod.StartedAt, ts(&r.StartedAt))
		}
		if t := cs.State.Terminated; t != nil {
			pod.StartedAt = minTime(pod.StartedAt, ts(&t.StartedAt))
			lastFinish = maxTime(lastFinish, ts(&t.FinishedAt))
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			pod.StartedAt = minTime(pod.StartedAt, ts(&t.StartedAt))
		}
	}

	final := pod.Phase == model.PhaseSucceeded || pod.Phase == model.PhaseFailed
	if final {
		pod.FinishedAt = lastFinish
		if pod.FinishedAt.IsZero() {
			pod.FinishedAt = now
		}
	}
	switch {
	case pod.Phase != model.PhasePending && pod.Phase != "":
		pod.PendingUntil = pod.StartedAt
		if pod.PendingUntil.IsZero() || (final && pod.FinishedAt.Before(pod.PendingUntil)) {
			pod.PendingUntil = pod.FinishedAt
		}
		if pod.PendingUntil.IsZero() {
			pod.PendingUntil = now
		}
	case deleted:
		pod.PendingUntil = now
	}
	if deleted {
		pod.DeletedAt = now
	}
	facts.Pods = []model.Pod{pod}
	return facts
}

// container adds the terminations, restarts and waiting episode of one
// container status.
func (l *Ledger) container(f *model.Facts, podUID string, cs *corev1.ContainerStatus, now time.Time) {
	n := cs.RestartCount
	starts := map[int32]time.Time{} // restart index → start of that attempt
	term := func(attempt int32, t *corev1.ContainerStateTerminated) {
		if attempt < 0 {
			return
		}
		f.Terminations = append(f.Terminations, model.Termination{
			Cluster:    l.Cluster,
			PodUID:     podUID,
			Container:  cs.Name,
			Attempt:    attempt,
			Reason:     clean(t.Reason),
			ExitCode:   t.ExitCode,
			Signal:     t.Signal,
			Message:    clean(t.Message),
			StartedAt:  ts(&t.StartedAt),
			FinishedAt: ts(&t.FinishedAt),
		})
		if s := ts(&t.StartedAt); !s.IsZero() {
			starts[attempt] = s
		}
	}

	lastAttempt := n - 1 // lastState is the instance before the newest…
	switch {
	case cs.State.Running != nil:
		if s := ts(&cs.State.Running.StartedAt); !s.IsZero() {
			starts[n] = s
		}
	case cs.State.Terminated != nil:
		term(n, cs.State.Terminated)
	case cs.State.Waiting != nil:
		w := cs.State.Waiting
		if w.Reason != "ContainerCreating" {
			lastAttempt = n // …unless the kubelet is backing off: then it is the newest.
		}
		if !normalStep(w.Reason) {
			f.Waits = append(f.Waits, model.Waiting{
				Cluster:   l.Cluster,
				PodUID:    podUID,
				Container: cs.Name,
				Attempt:   n,
				Reason:    clean(w.Reason),
				Message:   clean(w.Message),
				FirstSeen: now,
				LastSeen:  now,
			})
		}
	}
	if t := cs.LastTerminationState.Terminated; t != nil {
		term(lastAttempt, t)
	}
	for i := int32(1); i <= n; i++ {
		at, ok := starts[i]
		if !ok {
			if i == n && cs.State.Waiting != nil && cs.State.Waiting.Reason == "ContainerCreating" {
				// Created, not started: its start time comes with the next look.
				continue
			}
			at = now
		}
		f.Restarts = append(f.Restarts, model.Restart{
			Cluster: l.Cluster, PodUID: podUID, Container: cs.Name, Index: i, At: at,
		})
	}
}

// containers derives the requests and limits of the pod's containers;
// containers that set neither give no fact.
func (l *Ledger) containers(p *corev1.Pod) []model.Container {
	var out []model.Container
	for _, c := range p.Spec.Containers {
		req, lim := c.Resources.Requests, c.Resources.Limits
		if len(req) == 0 && len(lim) == 0 {
			continue
		}
		out = append(out, model.Container{
			Cluster:        l.Cluster,
			PodUID:         string(p.UID),
			Name:           c.Name,
			CPURequest:     req.Cpu().MilliValue(),
			CPULimit:       lim.Cpu().MilliValue(),
			MemoryRequest:  req.Memory().Value(),
			MemoryLimit:    lim.Memory().Value(),
			StorageRequest: req.StorageEphemeral().Value(),
			StorageLimit:   lim.StorageEphemeral().Value(),
		})
	}
	return out
}

// JobOf is the owner reference of the Job that owns p, or nil.
func JobOf(p *corev1.Pod) *metav1.OwnerReference { return owner(p.OwnerReferences, "Job") }
