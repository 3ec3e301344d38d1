package sim

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// runView is one run as the ops show it.
type runView struct {
	job      *batchv1.Job // last version
	versions []*batchv1.Job
	deleted  time.Time
	pods     []*podView
}

type podView struct {
	versions []*corev1.Pod
	ats      []time.Time
	deleted  time.Time
	events   []*corev1.Event // last version of each event about the pod
}

func (p *podView) last() *corev1.Pod { return p.versions[len(p.versions)-1] }

// anyVersion reports whether some version of the pod satisfies f.
func (p *podView) anyVersion(f func(*corev1.Pod) bool) bool {
	for _, v := range p.versions {
		if f(v) {
			return true
		}
	}
	return false
}

func (p *podView) hasEvent(reason string) bool {
	for _, e := range p.events {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

func views(ops []Op) []*runView {
	var runs []*runView
	byJob := map[types.UID]*runView{}
	byPod := map[types.UID]*podView{}
	podEvents := map[types.UID]map[types.UID]*corev1.Event{}
	for _, op := range ops {
		switch o := op.Object.(type) {
		case *batchv1.Job:
			r := byJob[o.UID]
			if r == nil {
				r = &runView{}
				byJob[o.UID] = r
				runs = append(runs, r)
			}
			r.job = o
			r.versions = append(r.versions, o)
			if op.Verb == Delete {
				r.deleted = op.At
			}
		case *corev1.Pod:
			p := byPod[o.UID]
			if p == nil {
				p = &podView{}
				byPod[o.UID] = p
				r := byJob[o.OwnerReferences[0].UID]
				r.pods = append(r.pods, p)
			}
			p.versions = append(p.versions, o)
			p.ats = append(p.ats, op.At)
			if op.Verb == Delete {
				p.deleted = op.At
			}
		case *corev1.Event:
			if o.InvolvedObject.Kind == "Pod" {
				if podEvents[o.InvolvedObject.UID] == nil {
					podEvents[o.InvolvedObject.UID] = map[types.UID]*corev1.Event{}
				}
				podEvents[o.InvolvedObject.UID][o.UID] = o
			}
		}
	}
	for uid, p := range byPod {
		for _, e := range podEvents[uid] {
			p.events = append(p.events, e)
		}
	}
	return runs
}

func jobCondition(j *batchv1.Job, typ batchv1.JobConditionType) *batchv1.JobCondition {
	for i, c := range j.Status.Conditions {
		if c.Type == typ {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func failedWith(j *batchv1.Job, reason string) bool {
	c := jobCondition(j, batchv1.JobFailed)
	return c != nil && c.Reason == reason
}

func completed(j *batchv1.Job) bool { return jobCondition(j, batchv1.JobComplete) != nil }

func terminated(p *corev1.Pod) *corev1.ContainerStateTerminated {
	if len(p.Status.ContainerStatuses) == 0 {
		return nil
	}
	return p.Status.ContainerStatuses[0].State.Terminated
}

func lastTerminated(p *corev1.Pod) *corev1.ContainerStateTerminated {
	if len(p.Status.ContainerStatuses) == 0 {
		return nil
	}
	return p.Status.ContainerStatuses[0].LastTerminationState.Terminated
}

func waitingReason(p *corev1.Pod) string {
	if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
		return ""
	}
	return p.Status.ContainerStatuses[0].State.Waiting.Reason
}

func restartCount(p *corev1.Pod) int32 {
	if len(p.Status.ContainerStatuses) == 0 {
		return 0
	}
	return p.Status.ContainerStatuses[0].RestartCount
}

// terminatedWith reports whether some version shows a termination, current
// or last, with that reason and exit code.
func (p *podView) terminatedWith(reason string, exit int32) bool {
	return p.anyVersion(func(v *corev1.Pod) bool {
		for _, tm := range []*corev1.ContainerStateTerminated{terminated(v), lastTerminated(v)} {
			if tm != nil && tm.Reason == reason && tm.ExitCode == exit {
				return true
			}
		}
		return false
	})
}

func (p *podView) crashLooped() bool {
	return p.anyVersion(func(v *corev1.Pod) bool { return waitingReason(v) == reasonCrashLoopBackOff })
}

// outcomeCheck recognizes one outcome from the objects of a run.
type outcomeCheck struct {
	name string
	is   func(r *runView) bool
}

func outcomeChecks() []outcomeCheck {
	onFailure := func(r *runView) bool {
		return r.job.Spec.Template.Spec.RestartPolicy == corev1.RestartPolicyOnFailure
	}
	anyPod := func(r *runView, f func(*podView) bool) bool {
		for _, p := range r.pods {
			if f(p) {
				return true
			}
		}
		return false
	}
	return []outcomeCheck{
		{"success", func(r *runView) bool {
			return completed(r.job) && len(r.pods) == 1 && restartCount(r.pods[0].last()) == 0
		}},
		{"pod living under a second, never seen Running", func(r *runView) bool {
			return completed(r.job) && anyPod(r, func(p *podView) bool {
				created := p.versions[0].CreationTimestamp.Time
				for i, v := range p.versions {
					if v.Status.Phase == corev1.PodRunning {
						return false
					}
					if v.Status.Phase == corev1.PodSucceeded {
						tm := terminated(v)
						return p.ats[i].Equal(created) && tm.StartedAt.Time.Equal(created) && tm.FinishedAt.Time.Equal(created)
					}
				}
				return false
			})
		}},
		{"exit 1, then success", func(r *runView) bool {
			return completed(r.job) && anyPod(r, func(p *podView) bool { return p.terminatedWith(reasonError, 1) })
		}},
		{"OOMKilled under Never, Job fails after backoffLimit+1 pods", func(r *runView) bool {
			return !onFailure(r) && failedWith(r.job, batchv1.JobReasonBackoffLimitExceeded) &&
				r.job.Status.Failed == *r.job.Spec.BackoffLimit+1 && len(r.pods) == int(r.job.Status.Failed) &&
				!anyPod(r, func(p *podView) bool { return !p.terminatedWith(reasonOOMKilled, 137) })
		}},
		{"exit 1 until the backoff limit under Never", func(r *runView) bool {
			return !onFailure(r) && failedWith(r.job, batchv1.JobReasonBackoffLimitExceeded) &&
				anyPod(r, func(p *podView) bool { return p.terminatedWith(reasonError, 1) })
		}},
		{"OnFailure crash loop that ends in success", func(r *runView) bool {
			return onFailure(r) && completed(r.job) && anyPod(r, func(p *podView) bool {
				return p.crashLooped() && restartCount(p.last()) >= 2 && p.last().Status.Phase == corev1.PodSucceeded
			})
		}},
		{"OnFailure crash loop that hits the backoff limit", func(r *runView) bool {
			return onFailure(r) && failedWith(r.job, batchv1.JobReasonBackoffLimitExceeded) &&
				anyPod(r, func(p *podView) bool {
					return p.crashLooped() && p.hasEvent("BackOff") && restartCount(p.last()) == *r.job.Spec.BackoffLimit
				})
		}},
		{"OOMKilled, restarted under OnFailure, then success", func(r *runView) bool {
			return onFailure(r) && completed(r.job) && anyPod(r, func(p *podView) bool {
				return p.anyVersion(func(v *corev1.Pod) bool {
					tm := lastTerminated(v)
					return tm != nil && tm.Reason == reasonOOMKilled && tm.ExitCode == 137 && restartCount(v) >= 1 &&
						v.Status.ContainerStatuses[0].State.Running != nil
				})
			})
		}},
		{"image never pulls, DeadlineExceeded, pod deleted", func(r *runView) bool {
			return failedWith(r.job, batchv1.JobReasonDeadlineExceeded) && anyPod(r, func(p *podView) bool {
				return p.anyVersion(func(v *corev1.Pod) bool { return waitingReason(v) == reasonErrImagePull }) &&
					p.anyVersion(func(v *corev1.Pod) bool { return waitingReason(v) == reasonImagePullBackOff }) &&
					!p.anyVersion(func(v *corev1.Pod) bool { return v.Status.Phase == corev1.PodRunning }) &&
					p.last().Status.Phase == corev1.PodFailed && !p.deleted.IsZero() && p.hasEvent("Failed")
			})
		}},
		{"evicted, then replaced", func(r *runView) bool {
			return completed(r.job) && r.job.Status.Failed == 1 && anyPod(r, func(p *podView) bool {
				last := p.last()
				return last.Status.Phase == corev1.PodFailed && last.Status.Reason == "Evicted" &&
					strings.HasPrefix(last.Status.Message, "The node was low on resource: memory.") &&
					podCondition(last, corev1.DisruptionTarget) == corev1.ConditionTrue && p.hasEvent("Evicted")
			})
		}},
		{"activeDeadlineSeconds exceeded while running", func(r *runView) bool {
			return failedWith(r.job, batchv1.JobReasonDeadlineExceeded) && anyPod(r, func(p *podView) bool {
				return p.anyVersion(func(v *corev1.Pod) bool { return v.Status.Phase == corev1.PodRunning }) &&
					p.terminatedWith(reasonError, 143) && p.hasEvent("Killing") && !p.deleted.IsZero()
			})
		}},
		{"unschedulable for a while, then scheduled and run", func(r *runView) bool {
			return completed(r.job) && anyPod(r, func(p *podView) bool {
				return p.anyVersion(func(v *corev1.Pod) bool {
					for _, c := range v.Status.Conditions {
						if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonUnschedulable {
							return true
						}
					}
					return false
				}) && p.last().Spec.NodeName != "" && p.hasEvent("FailedScheduling") && p.hasEvent("Scheduled")
			})
		}},
		{"never scheduled, deleted while Pending", func(r *runView) bool {
			return failedWith(r.job, batchv1.JobReasonDeadlineExceeded) && anyPod(r, func(p *podView) bool {
				return !p.deleted.IsZero() && p.last().Status.Phase == corev1.PodPending && p.last().Spec.NodeName == ""
			})
		}},
		{"OOM-killed and restarted between two looks", func(r *runView) bool {
			return onFailure(r) && anyPod(r, func(p *podView) bool {
				return p.terminatedWith(reasonOOMKilled, 137) && !p.anyVersion(func(v *corev1.Pod) bool {
					tm := terminated(v)
					return tm != nil && tm.Reason == reasonOOMKilled
				})
			})
		}},
		{"a container's end reported a second after it", func(r *runView) bool {
			return anyPod(r, func(p *podView) bool {
				for i, v := range p.versions {
					if tm := terminated(v); tm != nil && !tm.FinishedAt.IsZero() && tm.FinishedAt.Time.Before(p.ats[i]) && i > 0 && terminated(p.versions[i-1]) == nil {
						return true
					}
				}
				return false
			})
		}},
		{"deleted by ttlSecondsAfterFinished, with its pods", func(r *runView) bool {
			ttl := r.job.Spec.TTLSecondsAfterFinished
			if ttl == nil || r.deleted.IsZero() || len(r.versions) < 2 {
				return false
			}
			finished := r.job.Status.Conditions[len(r.job.Status.Conditions)-1].LastTransitionTime.Time
			marked := r.versions[len(r.versions)-2]
			return r.deleted.Sub(finished) == time.Duration(*ttl)*time.Second && marked.DeletionTimestamp != nil &&
				!anyPod(r, func(p *podView) bool { return p.deleted.IsZero() || p.deleted.After(r.deleted) })
		}},
	}
}

// TestOutcomesWithinSixHours checks that within six hours from Monday
// midnight (outside banking hours) the default fleet shows, in its objects,
// every outcome the simulator promises, for several seeds.
func TestOutcomesWithinSixHours(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		_, ops := simulate(t, seed, 6*time.Hour)
		runs := views(ops)
		for _, c := range outcomeChecks() {
			n := 0
			for _, r := range runs {
				if c.is(r) {
					n++
				}
			}
			if n == 0 {
				t.Errorf("seed %d: no run %s among %d in six hours", seed, c.name, len(runs))
			}
		}
	}
}

// TestRepeatedEvents checks the event correlation: a repeated kubelet event
// is one Event whose count rises, and the every-minute CronJob's events are
// combined and throttled as client-go does it.
func TestRepeatedEvents(t *testing.T) {
	_, ops := simulate(t, 1, 12*time.Hour) // banking hours start at 08:00
	type history struct{ creates, updates, maxCount int32 }
	byReason := map[string]*history{}
	combined := 0
	aboutWireScreening := 0
	for _, op := range ops {
		e, ok := op.Object.(*corev1.Event)
		if !ok || op.Verb == Delete { // expiry after the TTL: not a write of the recorder
			continue
		}
		h := byReason[e.Reason]
		if h == nil {
			h = &history{}
			byReason[e.Reason] = h
		}
		if op.Verb == Create {
			h.creates++
		} else {
			h.updates++
		}
		h.maxCount = max(h.maxCount, e.Count, func() int32 {
			if e.Series != nil {
				return e.Series.Count
			}
			return 0
		}())
		if e.InvolvedObject.Kind == "CronJob" && e.InvolvedObject.Name == "wire-screening" {
			aboutWireScreening++
			if strings.HasPrefix(e.Message, combinedEvents) {
				combined++
			}
		}
	}
	for _, reason := range []string{"BackOff", "Pulled", "Created", "Started", "FailedScheduling", "Failed", "Pulling"} {
		if h := byReason[reason]; h == nil || h.updates == 0 || h.maxCount < 2 {
			t.Errorf("%s events: %+v, want some repeated on one Event", reason, h)
		}
	}
	if combined == 0 {
		t.Error("no combined event about the every-minute CronJob")
	}
	// Four hours of banking: 240 runs, three events each, but the spam
	// filter lets 25 through, then one per five minutes.
	if limit := 25 + 4*60/5 + 1; aboutWireScreening > limit {
		t.Errorf("%d events about wire-screening, want at most %d", aboutWireScreening, limit)
	}
}
