package sim

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/batchlens/batchlens/internal/model"
)

// History limits: the API's defaults.
const (
	successfulJobsHistory = 3
	failedJobsHistory     = 1
)

// cronJob is one CronJob and what the cronjob controller knows of it.
type cronJob struct {
	s      *Sim
	m      *member
	sched  cron.Schedule
	obj    *batchv1.CronJob
	rec    recorder
	active []*run
	done   []*run // finished Jobs not yet deleted
}

func (s *Sim) createCronJob(m *member, sched cron.Schedule) {
	c := &cronJob{s: s, m: m, sched: sched}
	c.obj = &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{
			Name:              m.Name,
			Namespace:         m.Namespace,
			UID:               s.newUID(),
			ResourceVersion:   s.nextRV(),
			Generation:        1,
			CreationTimestamp: metav1.NewTime(s.now),
		},
		Spec: batchv1.CronJobSpec{
			Schedule:                   m.Schedule,
			ConcurrencyPolicy:          batchv1.AllowConcurrent,
			Suspend:                    ptr(false),
			SuccessfulJobsHistoryLimit: ptr[int32](successfulJobsHistory),
			FailedJobsHistoryLimit:     ptr[int32](failedJobsHistory),
			JobTemplate:                batchv1.JobTemplateSpec{Spec: m.jobTemplateSpec()},
		},
	}
	s.emit(Create, c.obj)
	c.rec = newRecorder("cronjob-controller", "", corev1.ObjectReference{
		Kind: "CronJob", Namespace: m.Namespace, Name: m.Name, UID: c.obj.UID, APIVersion: "batch/v1",
	}, attr{ns: m.Namespace, cronJob: m.Name})
	s.at(sched.Next(s.now), c.tick)
}

// tick is a schedule time: the controller creates the Job within a second.
func (c *cronJob) tick() {
	s := c.s
	scheduled := s.now
	r := s.newRun(c.m, c)
	s.after(time.Duration(r.rng.IntN(2))*time.Second, func() {
		r.create(scheduled)
		c.active = append(c.active, r)
		c.event("SuccessfulCreate", "Created job "+r.name)
		c.updateStatus(func(st *batchv1.CronJobStatus) {
			st.LastScheduleTime = ptr(metav1.NewTime(scheduled))
		})
	})
	s.at(c.sched.Next(scheduled), c.tick)
}

// jobFinished is the controller seeing one of its Jobs finish: it notes
// it, deletes Jobs beyond the history limits and updates its status.
func (c *cronJob) jobFinished(r *run) {
	c.active = slices.DeleteFunc(c.active, func(x *run) bool { return x == r })
	cond := batchv1.JobComplete
	if r.outcome == model.OutcomeFailed {
		cond = batchv1.JobFailed
	}
	c.event("SawCompletedJob", fmt.Sprintf("Saw completed job: %s, condition: %s", r.name, cond))
	c.done = append(c.done, r)
	c.cleanup()
	c.updateStatus(func(st *batchv1.CronJobStatus) {
		if completed := r.obj.Status.CompletionTime; completed != nil &&
			(st.LastSuccessfulTime == nil || completed.After(st.LastSuccessfulTime.Time)) {
			st.LastSuccessfulTime = completed.DeepCopy()
		}
	})
}

// cleanup deletes the oldest finished Jobs beyond the history limits, in
// the background: the Job goes at once, the garbage collector deletes its
// pods right after.
func (c *cronJob) cleanup() {
	var ok, failed []*run
	for _, r := range c.done {
		if r.outcome == model.OutcomeSucceeded {
			ok = append(ok, r)
		} else {
			failed = append(failed, r)
		}
	}
	var gone []*run
	for _, l := range []struct {
		runs  []*run
		limit int
	}{{ok, successfulJobsHistory}, {failed, failedJobsHistory}} {
		if len(l.runs) <= l.limit {
			continue
		}
		slices.SortFunc(l.runs, func(a, b *run) int {
			return cmp.Or(a.obj.Status.StartTime.Compare(b.obj.Status.StartTime.Time), cmp.Compare(a.name, b.name))
		})
		gone = append(gone, l.runs[:len(l.runs)-l.limit]...)
	}
	for _, r := range gone {
		r.remove()
		c.event("SuccessfulDelete", "Deleted job "+r.name)
		c.forget(r)
		c.s.after(0, r.collectPods)
	}
}

// forget drops a deleted Job from the history.
func (c *cronJob) forget(r *run) {
	c.done = slices.DeleteFunc(c.done, func(x *run) bool { return x == r })
}

func (c *cronJob) event(reason, msg string) {
	c.rec.ref.ResourceVersion = c.obj.ResourceVersion
	c.rec.record(c.s, eventTypeNormal, reason, msg, "")
}

// updateStatus writes the CronJob's status: the active Jobs and whatever
// mutate changes.
func (c *cronJob) updateStatus(mutate func(*batchv1.CronJobStatus)) {
	cj := c.obj.DeepCopy()
	cj.Status.Active = nil
	for _, r := range c.active {
		cj.Status.Active = append(cj.Status.Active, corev1.ObjectReference{
			Kind: "Job", Namespace: r.obj.Namespace, Name: r.name, UID: r.obj.UID,
			APIVersion: "batch/v1", ResourceVersion: r.createdRV,
		})
	}
	mutate(&cj.Status)
	cj.ResourceVersion = c.s.nextRV()
	c.obj = cj
	c.s.emit(Update, cj)
}

// startGenerator creates a plain Job about every m.Every (±30%).
func (s *Sim) startGenerator(m *member, stream uint64) {
	rng := s.newRand(stream | 1<<63)
	every := func() time.Duration {
		d := time.Duration(float64(m.Every) * (0.7 + 0.6*rng.Float64()))
		return max(time.Second, d.Truncate(time.Second))
	}
	var next func()
	next = func() {
		s.newRun(m, nil).create(time.Time{})
		s.after(every(), next)
	}
	s.after(every(), next)
}
