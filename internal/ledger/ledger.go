// Package ledger turns Kubernetes objects into facts (package model).
//
// The ledger is pure: each function derives facts from one object as seen at
// one moment, without memory of earlier looks. Exactly-once counting comes
// from the facts' natural keys and the store's idempotent merge, so a relist,
// a replayed or duplicated update, or a restart of batchlens never counts
// twice. What a single look cannot show (a CrashLoopBackOff wait has no
// timestamp of its own, a deletion has none either) is stamped with the
// observation time `now` that the caller passes: the wall clock when watching
// a cluster, the simulated clock when replaying history.
package ledger

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/batchlens/batchlens/internal/model"
)

// ScheduledAnnotation is set by the CronJob controller on the Jobs it creates.
const ScheduledAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

// Ledger derives facts for one cluster.
type Ledger struct {
	// Cluster is written into every fact.
	Cluster string
	// CronJobOf, when set, names the CronJob owning the Job (namespace,
	// name, uid), or "" when unknown. The store also back-fills a pod's
	// CronJob from its run, so this is an optimisation, not a requirement.
	CronJobOf func(namespace, jobName, jobUID string) string
}

// CronJob derives the facts of a CronJob; deleted marks its deletion, seen at now.
func (l *Ledger) CronJob(cj *batchv1.CronJob, deleted bool, now time.Time) model.Facts {
	c := model.CronJob{
		Cluster:   l.Cluster,
		Namespace: cj.Namespace,
		Name:      cj.Name,
		UID:       string(cj.UID),
		Schedule:  clean(cj.Spec.Schedule),
		Suspend:   cj.Spec.Suspend != nil && *cj.Spec.Suspend,
		CreatedAt: ts(&cj.CreationTimestamp),
	}
	if deleted {
		c.DeletedAt = now.UTC()
	}
	return model.Facts{CronJobs: []model.CronJob{c}}
}

// Job derives the facts of a Job (a run); deleted marks its deletion, seen at now.
func (l *Ledger) Job(j *batchv1.Job, deleted bool, now time.Time) model.Facts {
	r := model.Run{
		Cluster:   l.Cluster,
		Namespace: j.Namespace,
		UID:       string(j.UID),
		Name:      j.Name,
		CronJob:   CronJobOf(j),
		CreatedAt: ts(&j.CreationTimestamp),
		StartedAt: ts(j.Status.StartTime),
		Succeeded: j.Status.Succeeded,
		Failed:    j.Status.Failed,
	}
	if v, ok := j.Annotations[ScheduledAnnotation]; ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			r.ScheduledAt = t.UTC()
		}
	}
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			r.Outcome = model.OutcomeSucceeded
			r.FinishedAt = ts(j.Status.CompletionTime)
			if r.FinishedAt.IsZero() {
				r.FinishedAt = ts(&c.LastTransitionTime)
			}
		case batchv1.JobFailed:
			r.Outcome = model.OutcomeFailed
			r.FinishedAt = ts(&c.LastTransitionTime)
			r.Reason = clean(c.Reason)
			r.Message = clean(c.Message)
		}
	}
	if r.Outcome != "" && r.FinishedAt.IsZero() {
		r.FinishedAt = now.UTC()
	}
	if deleted {
		r.DeletedAt = now.UTC()
	}
	return model.Facts{Runs: []model.Run{r}}
}

// CronJobOf names the CronJob that owns j, or "" for a Job created on its
// own. The watcher resolves pods through it too, so there is one rule.
func CronJobOf(j *batchv1.Job) string { return ownerName(j.OwnerReferences, "CronJob") }

// ownerName returns the name of the controlling owner of the given kind, or
// of the first owner of that kind when none is marked controller.
func ownerName(refs []metav1.OwnerReference, kind string) string {
	ref := owner(refs, kind)
	if ref == nil {
		return ""
	}
	return ref.Name
}

func owner(refs []metav1.OwnerReference, kind string) *metav1.OwnerReference {
	var first *metav1.OwnerReference
	for i := range refs {
		if refs[i].Kind != kind {
			continue
		}
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
		if first == nil {
			first = &refs[i]
		}
	}
	return first
}

// Event derives the facts of an Event. Both shapes are understood: the legacy
// recorder's (firstTimestamp, lastTimestamp, count) and the events.k8s.io
// one's (eventTime, series).
func (l *Ledger) Event(e *corev1.Event, now time.Time) model.Facts {
	ev := model.Event{
		Cluster:      l.Cluster,
		UID:          string(e.UID),
		Namespace:    e.Namespace,
		InvolvedKind: e.InvolvedObject.Kind,
		InvolvedName: e.InvolvedObject.Name,
		InvolvedUID:  string(e.InvolvedObject.UID),
		Type:         clean(e.Type),
		Reason:       clean(e.Reason),
		Message:      clean(e.Message),
		Source:       clean(e.Source.Component),
		Count:        e.Count,
		FirstSeen:    ts(&e.FirstTimestamp),
		LastSeen:     ts(&e.LastTimestamp),
	}
	if ev.Source == "" {
		ev.Source = clean(e.ReportingController)
	}
	if et := e.EventTime.Time; !et.IsZero() {
		ev.FirstSeen = minTime(ev.FirstSeen, et.UTC())
		ev.LastSeen = maxTime(ev.LastSeen, et.UTC())
	}
	if s := e.Series; s != nil {
		if s.Count > ev.Count {
			ev.Count = s.Count
		}
		ev.LastSeen = maxTime(ev.LastSeen, s.LastObservedTime.Time.UTC())
	}
	if ev.Count < 1 {
		ev.Count = 1
	}
	if ev.FirstSeen.IsZero() {
		ev.FirstSeen = ts(&e.CreationTimestamp)
	}
	if ev.FirstSeen.IsZero() {
		ev.FirstSeen = now.UTC()
	}
	ev.LastSeen = maxTime(ev.LastSeen, ev.FirstSeen)
	f := model.Facts{Events: []model.Event{ev}}
	if r, ok := l.runOfEvent(&ev); ok {
		f.Runs = []model.Run{r}
	}
	return f
}

// jobOutcomes are the reasons of the events the Job controller records when
// it finishes a Job (the reasons of its Complete and Failed conditions).
var jobOutcomes = map[string]string{
	"Completed":                               model.OutcomeSucceeded,
	batchv1.JobReasonBackoffLimitExceeded:     model.OutcomeFailed,
	batchv1.JobReasonDeadlineExceeded:         model.OutcomeFailed,
	batchv1.JobReasonPodFailurePolicy:         model.OutcomeFailed,
	batchv1.JobReasonMaxFailedIndexesExceeded: model.OutcomeFailed,
	batchv1.JobReasonFailedIndexes:            model.OutcomeFailed,
}

// runOfEvent reads a run's outcome from the Job controller's final event
// about it. The Job itself usually tells first; the event matters when the
// Job was deleted (ttlSecondsAfterFinished) while batchlens could not watch,
// for the event outlives it (an hour by default). The event's first time is
// the finish: the controller records it in the sync that sets the condition.
func (l *Ledger) runOfEvent(ev *model.Event) (model.Run, bool) {
	outcome, ok := jobOutcomes[ev.Reason]
	if !ok || ev.InvolvedKind != "Job" || ev.Source != "job-controller" || ev.InvolvedUID == "" {
		return model.Run{}, false
	}
	r := model.Run{Cluster: l.Cluster, Namespace: ev.Namespace, UID: ev.InvolvedUID, Name: ev.InvolvedName,
		Outcome: outcome, FinishedAt: ev.FirstSeen, Inferred: true}
	if outcome == model.OutcomeFailed {
		r.Reason, r.Message = ev.Reason, ev.Message
	}
	return r, true
}

// Object derives the facts of any watched object: a CronJob, Job, Pod or
// Event. ok is false for other types and for deleted Events (an Event's
// expiry says nothing about the workload; its facts stay).
func (l *Ledger) Object(obj any, deleted bool, now time.Time) (f model.Facts, ok bool) {
	switch o := obj.(type) {
	case *batchv1.CronJob:
		return l.CronJob(o, deleted, now), true
	case *batchv1.Job:
		return l.Job(o, deleted, now), true
	case *corev1.Pod:
		return l.Pod(o, deleted, now), true
	case *corev1.Event:
		if deleted {
			return model.Facts{}, false
		}
		return l.Event(o, now), true
	}
	return model.Facts{}, false
}
