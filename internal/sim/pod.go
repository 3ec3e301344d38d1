package sim

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	containerName = "main"

	reasonCompleted        = "Completed"
	reasonError            = "Error"
	reasonOOMKilled        = "OOMKilled"
	reasonStatusUnknown    = "ContainerStatusUnknown"
	reasonNotReady         = "ContainersNotReady"
	reasonPodCompleted     = "PodCompleted"
	reasonPodFailed        = "PodFailed"
	reasonCrashLoopBackOff = "CrashLoopBackOff"
	reasonErrImagePull     = "ErrImagePull"
	reasonImagePullBackOff = "ImagePullBackOff"

	msgUnknownContainer = "The container could not be located when the pod was terminated"
	evictionThreshold   = "100Mi"
)

// pod is one Pod and what the scheduler and the kubelet know of it.
type pod struct {
	s    *Sim
	r    *run
	obj  *corev1.Pod
	rec  recorder // the kubelet's, once bound
	node *node
	fact int // index in the Truth's pods
	// epoch cancels the kubelet's and scheduler's pending work when the
	// job controller deletes the pod.
	epoch int
	sched *series // the scheduler's FailedScheduling series
	flash bool

	phase    corev1.PodPhase
	running  bool // the container runs (and, without probes, is ready)
	restarts int32
	failures int // failed attempts, for the crash-loop back-off
	cur      attempt
	cid      string // current container ID
	att      int    // the current attempt's index in the Truth's attempts
	started  time.Time
	// unseen is a termination the kubelet never reported: the container
	// was restarted between two looks, so it shows only as the last state
	// of the next attempt.
	unseen *corev1.ContainerStateTerminated

	bound, deleting, terminal, gone bool
	counted                         bool // the job controller counted it as succeeded or failed
}

// newPod is the job controller creating the run's next pod.
func (r *run) newPod() {
	s := r.s
	p := &pod{s: s, r: r, flash: r.plan.flash, phase: corev1.PodPending}
	name := r.name + "-" + suffix(r.rng)
	p.obj = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			GenerateName:      r.name + "-",
			Namespace:         r.m.Namespace,
			UID:               s.newUID(),
			ResourceVersion:   s.nextRV(),
			Generation:        1,
			CreationTimestamp: metav1.NewTime(s.now),
			Labels:            copyLabels(r.labels),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         "batch/v1",
				Kind:               "Job",
				Name:               r.name,
				UID:                r.obj.UID,
				Controller:         ptr(true),
				BlockOwnerDeletion: ptr(true),
			}},
			Finalizers: []string{batchv1.JobTrackingFinalizer},
		},
		Spec:   r.podSpec(),
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable},
	}
	r.pods = append(r.pods, p)
	s.emit(Create, p.obj)
	p.fact = s.truth.podCreated(r.attr, s.now)
	r.event(eventTypeNormal, "SuccessfulCreate", "Created pod: "+name)
	if len(r.pods) == 1 && r.plan.unsched != 0 {
		p.later(0, p.unschedulable)
	} else {
		p.later(0, p.bind)
	}
}

// podSpec is the template's spec as admission completes it: the default
// tolerations and priority. The template does not mount the service account
// token (batch models do not call the API), so there is no token volume.
func (r *run) podSpec() corev1.PodSpec {
	spec := *r.m.podSpec.DeepCopy()
	spec.ServiceAccountName = "default"
	spec.DeprecatedServiceAccount = "default"
	spec.Tolerations = []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr[int64](300)},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr[int64](300)},
	}
	spec.Priority = ptr[int32](0)
	spec.EnableServiceLinks = ptr(true)
	spec.PreemptionPolicy = ptr(corev1.PreemptLowerPriority)
	return spec
}

// later runs fn after d unless the pod is deleted by then.
func (p *pod) later(d time.Duration, fn func()) { p.laterAt(p.s.now.Add(d), fn) }

func (p *pod) laterAt(t time.Time, fn func()) {
	epoch := p.epoch
	p.s.at(t, func() {
		if p.epoch == epoch {
			fn()
		}
	})
}

// update writes a new version of the pod, changed by mutate.
func (p *pod) update(mutate func(*corev1.Pod)) {
	o := p.obj.DeepCopy()
	mutate(o)
	o.ResourceVersion = p.s.nextRV()
	p.obj = o
	p.s.emit(Update, o)
	p.s.truth.waitShown(p.fact, o, p.s.now)
}

// remove deletes the pod object for good.
func (p *pod) remove() {
	o := p.obj.DeepCopy()
	o.Finalizers = nil
	o.ResourceVersion = p.s.nextRV()
	p.obj = o
	p.gone = true
	p.s.emit(Delete, o)
	p.s.truth.podLeftPending(p.fact, p.s.now)
}

func (p *pod) removeFinalizer() {
	p.update(func(o *corev1.Pod) { o.Finalizers = nil })
}

func (p *pod) ref() corev1.ObjectReference {
	return corev1.ObjectReference{
		Kind: "Pod", Namespace: p.obj.Namespace, Name: p.obj.Name, UID: p.obj.UID,
		APIVersion: "v1", ResourceVersion: p.obj.ResourceVersion,
	}
}

// desc is how the kubelet names a pod in messages (format.Pod).
func (p *pod) desc() string {
	return fmt.Sprintf("%s_%s(%s)", p.obj.Name, p.obj.Namespace, p.obj.UID)
}

// event records a kubelet event about the pod.
func (p *pod) event(typ, reason, msg, fieldPath string) {
	p.rec.ref.ResourceVersion = p.obj.ResourceVersion
	p.rec.record(p.s, typ, reason, msg, fieldPath)
}

func (p *pod) containerEvent(typ, reason, msg string) { p.event(typ, reason, msg, containerField) }

// The scheduler.

func (p *pod) unschedulable() {
	n := len(p.s.nodes)
	msg := fmt.Sprintf("0/%d nodes are available: %d Insufficient memory. preemption: 0/%d nodes are available: %d No preemption victims found for incoming pod.", n, n, n, n)
	p.update(func(o *corev1.Pod) {
		setCondition(&o.Status, p.s.now, corev1.PodScheduled, corev1.ConditionFalse, corev1.PodReasonUnschedulable, msg)
	})
	p.s.failedScheduling(p, msg)
	if d := p.r.plan.unsched; d > 0 {
		p.later(d, p.bind)
	}
	p.retrySchedule(msg)
}

// retrySchedule is the scheduler trying the pod again now and then.
func (p *pod) retrySchedule(msg string) {
	p.later(time.Duration(30+p.r.rng.IntN(61))*time.Second, func() {
		if !p.bound {
			p.s.failedScheduling(p, msg)
			p.retrySchedule(msg)
		}
	})
}

func (p *pod) bind() {
	s, r := p.s, p.r
	n := s.nodes[r.rng.IntN(len(s.nodes))]
	p.node, p.bound = n, true
	p.update(func(o *corev1.Pod) {
		o.Spec.NodeName = n.name
		setCondition(&o.Status, s.now, corev1.PodScheduled, corev1.ConditionTrue, "", "")
	})
	_, _ = s.schedulerEvent(p, eventTypeNormal, "Scheduled", "Binding",
		fmt.Sprintf("Successfully assigned %s/%s to %s", p.obj.Namespace, p.obj.Name, n.name))
	p.rec = newRecorder("kubelet", n.name, corev1.ObjectReference{
		Kind: "Pod", Namespace: p.obj.Namespace, Name: p.obj.Name, UID: p.obj.UID, APIVersion: "v1",
	}, r.attr)
	if p.flash {
		p.admit()
		return
	}
	p.later(time.Duration(r.rng.IntN(2))*time.Second, p.admit)
}

// kill is the job controller deleting the pod: it counts it as failed and
// drops its finalizer at once. An unscheduled pod goes right away; on a
// node, the kubelet stops the container, reports Failed, then deletes it.
func (p *pod) kill() {
	s, r := p.s, p.r
	p.epoch++
	p.deleting, p.counted = true, true
	r.failed++
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if !p.bound {
		grace = 0
	}
	p.update(func(o *corev1.Pod) {
		o.DeletionTimestamp = ptr(metav1.NewTime(s.now.Add(time.Duration(grace) * time.Second)))
		o.DeletionGracePeriodSeconds = ptr(grace)
	})
	r.event(eventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.obj.Name)
	if !p.bound {
		p.remove() // dropping the last finalizer of a pod due for deletion deletes it
		return
	}
	p.removeFinalizer()
	if p.running {
		p.containerEvent(eventTypeNormal, "Killing", "Stopping container "+containerName)
		at := s.now.Add(time.Duration(1+r.rng.IntN(3)) * time.Second)
		s.truth.attemptEnded(p.att, at)
		p.laterAt(at, func() { p.killed(at) })
		return
	}
	p.later(time.Second, func() { p.killed(time.Time{}) })
}
