package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/batchlens/batchlens/internal/model"
)

// Job condition messages, as the job controller writes them, and the
// unprefixed labels the API server still adds beside the batch.kubernetes.io ones.
const (
	legacyControllerUIDLabel = "controller-uid"
	legacyJobNameLabel       = "job-name"

	msgCompletions  = "Reached expected number of succeeded pods"
	msgBackoffLimit = "Job has reached the specified backoff limit"
	msgDeadline     = "Job was active longer than specified deadline"
)

// run is one Job and what the job controller knows of it.
type run struct {
	s    *Sim
	m    *member
	cj   *cronJob // nil for a Job of its own
	rng  *rand.Rand
	plan plan
	attr attr
	fact int // index in the Truth's runs

	name      string
	createdRV string // the Job's resourceVersion when created
	obj       *batchv1.Job
	rec       recorder
	labels    map[string]string
	pods      []*pod
	next      int // index of the plan's next attempt

	succeeded, failed int32
	failing           string // reason of the FailureTarget condition, once set
	outcome           string // model.OutcomeSucceeded or model.OutcomeFailed, once finished
	deleted           bool
}

func (s *Sim) newRun(m *member, cj *cronJob) *run {
	s.runs++
	r := &run{s: s, m: m, cj: cj, rng: s.newRand(s.runs), attr: attr{ns: m.Namespace}}
	if cj != nil {
		r.attr.cronJob = m.Name
	}
	r.plan = m.plan(r.rng)
	return r
}

// jobTemplateSpec is the spec a CronJob's jobTemplate holds.
func (m *member) jobTemplateSpec() batchv1.JobSpec {
	spec := batchv1.JobSpec{
		BackoffLimit: ptr(m.BackoffLimit),
		Template:     corev1.PodTemplateSpec{Spec: *m.podSpec.DeepCopy()},
	}
	if ttl := m.TTLAfterFinished; ttl != nil {
		spec.TTLSecondsAfterFinished = ptr(*ttl)
	}
	if m.ActiveDeadline > 0 {
		spec.ActiveDeadlineSeconds = ptr(int64(m.ActiveDeadline / time.Second))
	}
	return spec
}

// create makes the Job: the cronjob controller's or a pipeline's POST.
// scheduled is the CronJob's schedule time, zero for a Job of its own.
func (r *run) create(scheduled time.Time) {
	s := r.s
	uid := s.newUID()
	if r.cj != nil {
		r.name = fmt.Sprintf("%s-%d", r.m.Name, scheduled.Unix()/60)
	} else {
		r.name = r.m.Name + "-" + suffix(r.rng)
	}
	r.labels = map[string]string{
		batchv1.ControllerUidLabel: string(uid),
		batchv1.JobNameLabel:       r.name,
		legacyControllerUIDLabel:   string(uid),
		legacyJobNameLabel:         r.name,
	}
	spec := r.m.jobTemplateSpec()
	spec.Parallelism = ptr[int32](1)
	spec.Completions = ptr[int32](1)
	spec.CompletionMode = ptr(batchv1.NonIndexedCompletion)
	spec.Suspend = ptr(false)
	spec.ManualSelector = ptr(false)
	spec.PodReplacementPolicy = ptr(batchv1.TerminatingOrFailed)
	spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: string(uid)}}
	spec.Template.Labels = copyLabels(r.labels)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:              r.name,
			Namespace:         r.m.Namespace,
			UID:               uid,
			ResourceVersion:   s.nextRV(),
			Generation:        1,
			CreationTimestamp: metav1.NewTime(s.now),
			Labels:            copyLabels(r.labels),
		},
		Spec: spec,
	}
	if c := r.cj; c != nil {
		job.Annotations = map[string]string{batchv1.CronJobScheduledTimestampAnnotation: scheduled.Format(time.RFC3339)}
		job.OwnerReferences = []metav1.OwnerReference{{
			APIVersion:         "batch/v1",
			Kind:               "CronJob",
			Name:               c.obj.Name,
			UID:                c.obj.UID,
			Controller:         ptr(true),
			BlockOwnerDeletion: ptr(true),
		}}
	} else {
		job.GenerateName = r.m.Name + "-"
	}
	r.obj, r.createdRV = job, job.ResourceVersion
	s.emit(Create, job)
	r.fact = s.truth.runCreated(r.attr, uid, r.plan.outcome, s.now)
	r.rec = newRecorder("job-controller", "", corev1.ObjectReference{
		Kind: "Job", Namespace: job.Namespace, Name: job.Name, UID: job.UID, APIVersion: "batch/v1",
	}, r.attr)
	s.after(0, r.start)
}

// start is the job controller's first sync: start time, first pod, deadline.
func (r *run) start() {
	if d := r.m.ActiveDeadline; d > 0 {
		r.s.after(d, r.deadlineExceeded)
	}
	r.newPod()
	r.writeStatus()
}

func (r *run) event(typ, reason, msg string) {
	r.rec.ref.ResourceVersion = r.obj.ResourceVersion
	r.rec.record(r.s, typ, reason, msg, "")
}

// counts is what the job controller counts of the pods not yet counted
// as succeeded or failed.
func (r *run) counts() (active, ready, terminating int32) {
	for _, p := range r.pods {
		switch {
		case p.gone || p.terminal:
		case p.deleting:
			terminating++
		default:
			active++
			if p.running {
				ready++
			}
		}
	}
	return active, ready, terminating
}

// writeStatus updates the Job's status with the current counts and the
// given new conditions, if anything changed.
func (r *run) writeStatus(conds ...batchv1.JobCondition) {
	active, ready, terminating := r.counts()
	old := &r.obj.Status
	if len(conds) == 0 && old.StartTime != nil && old.Active == active && *old.Ready == ready &&
		*old.Terminating == terminating && old.Succeeded == r.succeeded && old.Failed == r.failed {
		return
	}
	job := r.obj.DeepCopy()
	st := &job.Status
	if st.StartTime == nil {
		st.StartTime = ptr(metav1.NewTime(r.s.now))
		st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	st.Active, st.Ready, st.Terminating = active, ptr(ready), ptr(terminating)
	st.Succeeded, st.Failed = r.succeeded, r.failed
	for _, c := range conds {
		st.Conditions = append(st.Conditions, c)
		if c.Type == batchv1.JobComplete {
			st.CompletionTime = ptr(c.LastTransitionTime)
		}
	}
	job.ResourceVersion = r.s.nextRV()
	r.obj = job
	r.s.emit(Update, job)
}

func (r *run) condition(typ batchv1.JobConditionType, reason, msg string) batchv1.JobCondition {
	now := metav1.NewTime(r.s.now)
	return batchv1.JobCondition{Type: typ, Status: corev1.ConditionTrue, LastProbeTime: now, LastTransitionTime: now, Reason: reason, Message: msg}
}

// podTerminal is the job controller seeing pod p reach Succeeded or Failed
// on its own (not deleted by the controller).
func (r *run) podTerminal(p *pod) {
	if !p.counted {
		p.counted = true
		if p.phase == corev1.PodSucceeded {
			r.succeeded++
		} else {
			r.failed++
		}
		p.removeFinalizer()
	}
	switch {
	case r.outcome != "":
	case r.failing != "":
		r.maybeFinishFailed()
	case p.phase == corev1.PodSucceeded:
		r.complete()
	case r.failed > r.m.BackoffLimit:
		r.fail(batchv1.JobReasonBackoffLimitExceeded)
	default:
		r.writeStatus()
		r.s.after(podBackoff(r.failed), r.replace)
	}
}

// podChanged is the job controller seeing a pod's readiness or restart
// count change. Under OnFailure, restarts reaching the backoff limit fail
// the Job.
func (r *run) podChanged() {
	if r.outcome == "" && r.failing == "" && r.m.RestartPolicy == corev1.RestartPolicyOnFailure {
		var restarts int32
		for _, p := range r.pods {
			if !p.gone && !p.terminal && !p.deleting {
				restarts += p.restarts
			}
		}
		if restarts >= r.m.BackoffLimit {
			r.fail(batchv1.JobReasonBackoffLimitExceeded)
			return
		}
	}
	r.writeStatus()
}

// podGone is the job controller seeing a pod it deleted disappear.
func (r *run) podGone() {
	if r.failing != "" && r.outcome == "" {
		r.maybeFinishFailed()
		return
	}
	r.writeStatus()
}

// podBackoff is the delay before replacing the n-th failed pod.
func podBackoff(n int32) time.Duration {
	return min(10*time.Second<<(n-1), 10*time.Minute)
}

func (r *run) replace() {
	if r.outcome != "" || r.failing != "" {
		return
	}
	r.newPod()
	r.writeStatus()
}

func (r *run) deadlineExceeded() {
	if r.outcome == "" && r.failing == "" {
		r.fail(batchv1.JobReasonDeadlineExceeded)
	}
}

// fail marks the Job as failing for reason: it deletes the active pods and
// adds FailureTarget, then Failed once no pod is left terminating.
func (r *run) fail(reason string) {
	r.failing = reason
	for _, p := range r.pods {
		if !p.gone && !p.terminal && !p.deleting {
			p.kill()
		}
	}
	target := r.condition(batchv1.JobFailureTarget, reason, failMessage(reason))
	if _, _, terminating := r.counts(); terminating == 0 {
		r.finishFailed(target)
		return
	}
	r.writeStatus(target)
}

func (r *run) maybeFinishFailed() {
	if active, _, terminating := r.counts(); active == 0 && terminating == 0 {
		r.finishFailed()
		return
	}
	r.writeStatus()
}

func (r *run) finishFailed(conds ...batchv1.JobCondition) {
	msg := failMessage(r.failing)
	r.writeStatus(append(conds, r.condition(batchv1.JobFailed, r.failing, msg))...)
	r.event(eventTypeWarning, r.failing, msg)
	r.finish(model.OutcomeFailed)
}

func (r *run) complete() {
	r.writeStatus(
		r.condition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletions),
		r.condition(batchv1.JobComplete, batchv1.JobReasonCompletionsReached, msgCompletions),
	)
	r.event(eventTypeNormal, "Completed", "Job completed")
	r.finish(model.OutcomeSucceeded)
}

func (r *run) finish(outcome string) {
	r.outcome = outcome
	r.s.truth.runFinished(r.fact, outcome, r.s.now)
	if r.cj != nil {
		r.cj.jobFinished(r)
	}
	if ttl := r.m.TTLAfterFinished; ttl != nil {
		r.s.after(time.Duration(*ttl)*time.Second, r.expire)
	}
}

func failMessage(reason string) string {
	if reason == batchv1.JobReasonDeadlineExceeded {
		return msgDeadline
	}
	return msgBackoffLimit
}

// expire is the TTL-after-finished controller: a foreground deletion, so
// the Job is marked, the garbage collector deletes its pods, then the Job.
func (r *run) expire() {
	if r.deleted {
		return
	}
	job := r.obj.DeepCopy()
	job.ResourceVersion = r.s.nextRV()
	job.DeletionTimestamp = ptr(metav1.NewTime(r.s.now))
	job.DeletionGracePeriodSeconds = ptr[int64](0)
	job.Finalizers = append(job.Finalizers, metav1.FinalizerDeleteDependents)
	r.obj = job
	r.s.emit(Update, job)
	r.collectPods()
	r.remove()
	if r.cj != nil {
		r.cj.forget(r)
	}
}

// remove deletes the Job object.
func (r *run) remove() {
	job := r.obj.DeepCopy()
	job.ResourceVersion = r.s.nextRV()
	r.obj = job
	r.deleted = true
	r.s.emit(Delete, job)
}

// collectPods is the garbage collector deleting the pods of a deleted Job.
// They are all finished, so each goes at once.
func (r *run) collectPods() {
	for _, p := range r.pods {
		if !p.gone {
			p.remove()
		}
	}
}

func copyLabels(l map[string]string) map[string]string {
	c := make(map[string]string, len(l))
	for k, v := range l {
		c[k] = v
	}
	return c
}
