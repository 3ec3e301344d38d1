package sim

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The kubelet: what it does with a pod bound to its node, and the status
// it writes.

// admit is the kubelet taking the pod: its first status, then the sandbox
// and the image. A flash pod's only status comes when it has finished.
func (p *pod) admit() {
	if p.flash {
		p.image(p.startContainer)
		return
	}
	p.update(p.kubeletStatus)
	p.later(time.Second, func() { p.image(p.startContainer) })
}

// kubeletStatus fills in what the kubelet's first status has, if missing.
func (p *pod) kubeletStatus(o *corev1.Pod) {
	st := &o.Status
	if st.StartTime != nil {
		return
	}
	now := p.s.now
	st.StartTime = ptr(metav1.NewTime(now))
	st.HostIP = p.node.ip
	st.HostIPs = []corev1.HostIP{{IP: p.node.ip}}
	st.ObservedGeneration = 1
	notReady := "containers with unready status: [" + containerName + "]"
	scheduled := st.Conditions
	st.Conditions = nil
	setCondition(st, now, corev1.PodReadyToStartContainers, corev1.ConditionFalse, "", "")
	setCondition(st, now, corev1.PodInitialized, corev1.ConditionTrue, "", "")
	setCondition(st, now, corev1.PodReady, corev1.ConditionFalse, reasonNotReady, notReady)
	setCondition(st, now, corev1.ContainersReady, corev1.ConditionFalse, reasonNotReady, notReady)
	st.Conditions = append(st.Conditions, scheduled...)
	c := &o.Spec.Containers[0]
	st.ContainerStatuses = []corev1.ContainerStatus{{
		Name:    containerName,
		State:   corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}},
		Image:   c.Image,
		Started: ptr(false),
	}}
}

// sandbox gives the pod its IP and PodReadyToStartContainers, once.
func (p *pod) sandbox(o *corev1.Pod) {
	st := &o.Status
	if st.PodIP != "" {
		return
	}
	ip := p.node.nextPodIP()
	st.PodIP, st.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	setCondition(st, p.s.now, corev1.PodReadyToStartContainers, corev1.ConditionTrue, "", "")
}

// image makes sure the image is on the node, then calls then.
func (p *pod) image(then func()) {
	s, r := p.s, p.r
	img := r.m.Image
	key := pullKey{node: p.node.name, image: img}
	if p.flash || !r.m.PullAlways && s.pulled[key] {
		s.pulled[key] = true
		p.containerEvent(eventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine and can be accessed by the pod", img))
		then()
		return
	}
	p.containerEvent(eventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", img))
	d := time.Duration(1+r.rng.IntN(3)) * time.Second // layers cached
	if !s.pulled[key] {
		d = time.Duration(8+r.rng.IntN(30)) * time.Second
	}
	p.later(d, func() {
		if r.plan.pullFails && p == r.pods[0] {
			p.pullFailed(0)
			return
		}
		s.pulled[key] = true
		took := d - time.Duration(r.rng.IntN(900))*time.Millisecond
		p.containerEvent(eventTypeNormal, "Pulled", fmt.Sprintf(
			"Successfully pulled image %q in %s (%s including waiting). Image size: %d bytes.", img, took, took, imageSize(img)))
		then()
	})
}

// pullFailed is the k-th failed pull: ErrImagePull, then ImagePullBackOff
// until the next try.
func (p *pod) pullFailed(k int) {
	img := p.r.m.Image
	cause := pullError(img)
	p.containerEvent(eventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %s", img, cause))
	p.containerEvent(eventTypeWarning, "Failed", "Error: "+reasonErrImagePull)
	p.update(func(o *corev1.Pod) {
		p.sandbox(o)
		o.Status.ContainerStatuses[0].State = waiting(reasonErrImagePull, cause)
	})
	p.later(time.Second, func() {
		p.containerEvent(eventTypeNormal, "BackOff", fmt.Sprintf("Back-off pulling image %q", img))
		p.containerEvent(eventTypeWarning, "Failed", "Error: "+reasonImagePullBackOff)
		p.update(func(o *corev1.Pod) {
			o.Status.ContainerStatuses[0].State = waiting(reasonImagePullBackOff,
				fmt.Sprintf("Back-off pulling image %q: %s: %s", img, reasonErrImagePull, cause))
		})
	})
	p.later(min(10*time.Second<<k, 5*time.Minute), func() {
		p.containerEvent(eventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", img))
		p.later(time.Duration(1+p.r.rng.IntN(2))*time.Second, func() { p.pullFailed(k + 1) })
	})
}

// startContainer starts the run's next attempt in this pod.
func (p *pod) startContainer() {
	s, r := p.s, p.r
	if r.next >= len(r.plan.attempts) {
		panic(fmt.Sprintf("sim: run %s of outcome %v has no attempt left", r.name, r.plan.outcome))
	}
	p.cur = r.plan.attempts[r.next]
	r.next++
	p.cid, p.started = s.containerID(), s.now
	p.containerEvent(eventTypeNormal, "Created", "Container created")
	p.containerEvent(eventTypeNormal, "Started", "Container started")
	if p.flash {
		p.exited()
		return
	}
	p.update(func(o *corev1.Pod) {
		st := &o.Status
		p.kubeletStatus(o)
		p.sandbox(o)
		cs := &st.ContainerStatuses[0]
		switch {
		case p.unseen != nil:
			cs.LastTerminationState = corev1.ContainerState{Terminated: p.unseen}
		case cs.State.Terminated != nil:
			cs.LastTerminationState = cs.State
		}
		cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(s.now)}}
		cs.Ready, cs.Started, cs.RestartCount = true, ptr(true), p.restarts
		cs.ContainerID, cs.ImageID, cs.Image = p.cid, r.m.imageID, r.m.Image
		st.Phase = corev1.PodRunning
		setCondition(st, s.now, corev1.PodReady, corev1.ConditionTrue, "", "")
		setCondition(st, s.now, corev1.ContainersReady, corev1.ConditionTrue, "", "")
	})
	p.phase, p.running = corev1.PodRunning, true
	p.att = p.attemptStarted()
	s.truth.podLeftPending(p.fact, s.now)
	if p.restarts > 0 {
		s.truth.restart(p.fact, s.now)
	}
	if tm := p.unseen; tm != nil {
		s.truth.terminated(p.fact, tm.Reason, tm.FinishedAt.Time)
		if tm.Reason == reasonOOMKilled {
			s.truth.podOOM(p.fact, tm.FinishedAt.Time)
		}
		p.unseen = nil
	}
	r.podChanged()
	if !p.deleting && p.cur.run > 0 {
		p.later(p.cur.run, p.exited)
	}
}

// exited is the container ending now; the kubelet reports it within a second.
func (p *pod) exited() {
	finished := p.s.now
	if !p.flash {
		p.s.truth.attemptEnded(p.att, finished)
	}
	switch {
	case p.cur.evict:
		p.evict()
	case p.flash:
		p.reportExit(finished)
	default:
		p.later(time.Duration(p.r.rng.IntN(2))*time.Second, func() { p.reportExit(finished) })
	}
}

func (p *pod) reportExit(finished time.Time) {
	s, r, a := p.s, p.r, p.cur
	phase := corev1.PodRunning // OnFailure: the kubelet restarts it
	switch {
	case a.exit == 0:
		phase = corev1.PodSucceeded
	case r.m.RestartPolicy == corev1.RestartPolicyNever:
		phase = corev1.PodFailed
	}
	term := &corev1.ContainerStateTerminated{
		ExitCode: a.exit, Reason: a.reason, StartedAt: metav1.NewTime(p.started),
		FinishedAt: metav1.NewTime(finished), ContainerID: p.cid,
	}
	if phase == corev1.PodRunning && p.failures == 0 && r.rng.IntN(2) == 0 {
		// The first restart comes at once, often before the kubelet's
		// status shows the container stopped.
		p.failures++
		p.unseen = term
		p.restart()
		return
	}
	p.update(func(o *corev1.Pod) {
		st := &o.Status
		p.kubeletStatus(o)
		p.sandbox(o)
		cs := &st.ContainerStatuses[0]
		cs.State = corev1.ContainerState{Terminated: term}
		cs.Ready, cs.Started, cs.RestartCount = false, ptr(false), p.restarts
		cs.ContainerID, cs.ImageID, cs.Image = p.cid, r.m.imageID, r.m.Image
		if phase == corev1.PodRunning {
			notReady := "containers with unready status: [" + containerName + "]"
			setCondition(st, s.now, corev1.PodReady, corev1.ConditionFalse, reasonNotReady, notReady)
			setCondition(st, s.now, corev1.ContainersReady, corev1.ConditionFalse, reasonNotReady, notReady)
			return
		}
		p.terminalStatus(st, phase)
	})
	p.running = false
	s.truth.podLeftPending(p.fact, p.started)
	s.truth.terminated(p.fact, a.reason, finished)
	if a.reason == reasonOOMKilled {
		s.truth.podOOM(p.fact, finished)
	}
	if phase != corev1.PodRunning {
		p.phase, p.terminal = phase, true
		s.truth.podFinished(p.fact, string(phase), finished)
		r.podTerminal(p)
		return
	}
	r.podChanged()
	p.failures++
	if p.failures == 1 { // the first restart comes without back-off
		p.later(time.Second, p.restart)
		return
	}
	backoff := min(10*time.Second<<(p.failures-2), 5*time.Minute)
	msg := fmt.Sprintf("Back-off restarting failed container %s in pod %s", containerName, p.desc())
	p.containerEvent(eventTypeWarning, "BackOff", msg)
	p.later(time.Second, func() { p.crashLoop(backoff) })
	for t := 10 * time.Second; t < backoff && t <= 40*time.Second; t += 10 * time.Second {
		p.later(t, func() { p.containerEvent(eventTypeWarning, "BackOff", msg) })
	}
	p.laterAt(finished.Add(backoff+time.Duration(r.rng.IntN(2))*time.Second), p.restart)
}

// crashLoop is the kubelet's status while it waits out the back-off.
func (p *pod) crashLoop(backoff time.Duration) {
	p.update(func(o *corev1.Pod) {
		cs := &o.Status.ContainerStatuses[0]
		cs.LastTerminationState = cs.State
		cs.State = waiting(reasonCrashLoopBackOff, fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", backoff, containerName, p.desc()))
	})
	p.s.truth.podCrashLoop(p.fact, p.s.now)
}

func (p *pod) restart() {
	p.restarts++
	p.image(p.startContainer)
}

// evict is the kubelet's eviction manager killing the pod for memory pressure.
func (p *pod) evict() {
	s, r := p.s, p.r
	at := s.now
	request := r.m.podSpec.Containers[0].Resources.Requests[corev1.ResourceMemory]
	msg := fmt.Sprintf("The node was low on resource: memory. Threshold quantity: %s, available: %dKi. "+
		"Container %s was using %dKi, request is %s, has larger consumption of memory.",
		evictionThreshold, 60000+r.rng.IntN(40000), containerName, request.Value()/1024*3/2, r.m.Memory)
	p.event(eventTypeWarning, "Evicted", msg, "")
	p.containerEvent(eventTypeNormal, "Killing", "Stopping container "+containerName)
	p.update(func(o *corev1.Pod) {
		st := &o.Status
		cs := &st.ContainerStatuses[0]
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: p.cur.exit, Reason: p.cur.reason, StartedAt: metav1.NewTime(p.started),
			FinishedAt: metav1.NewTime(at), ContainerID: p.cid,
		}}
		cs.Ready, cs.Started = false, ptr(false)
		st.Reason, st.Message = "Evicted", msg
		p.terminalStatus(st, corev1.PodFailed)
		setCondition(st, at, corev1.DisruptionTarget, corev1.ConditionTrue, "TerminationByKubelet", msg)
	})
	p.phase, p.terminal, p.running = corev1.PodFailed, true, false
	s.truth.terminated(p.fact, p.cur.reason, at)
	s.truth.podFinished(p.fact, string(corev1.PodFailed), at)
	r.podTerminal(p)
}

// killed is the kubelet done with a deleted pod: the container stopped at
// stopped (zero if none was running), the pod Failed, then deleted.
func (p *pod) killed(stopped time.Time) {
	s := p.s
	finished := stopped
	p.update(func(o *corev1.Pod) {
		st := &o.Status
		p.kubeletStatus(o)
		cs := &st.ContainerStatuses[0]
		switch {
		case !stopped.IsZero():
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 143, Reason: reasonError, StartedAt: metav1.NewTime(p.started),
				FinishedAt: metav1.NewTime(stopped), ContainerID: p.cid,
			}}
		case cs.State.Terminated != nil:
			finished = cs.State.Terminated.FinishedAt.Time
		default:
			cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 137, Reason: reasonStatusUnknown, Message: msgUnknownContainer,
			}}
		}
		cs.Ready, cs.Started = false, ptr(false)
		p.terminalStatus(st, corev1.PodFailed)
	})
	if !stopped.IsZero() {
		s.truth.terminated(p.fact, reasonError, stopped)
	}
	if finished.IsZero() {
		finished = s.now
	}
	p.phase, p.terminal, p.running = corev1.PodFailed, true, false
	s.truth.podFinished(p.fact, string(corev1.PodFailed), finished)
	p.remove()
	p.r.podGone()
}

// terminalStatus sets the phase and conditions of a finished pod.
func (p *pod) terminalStatus(st *corev1.PodStatus, phase corev1.PodPhase) {
	now := p.s.now
	st.Phase = phase
	reason := reasonPodFailed
	if phase == corev1.PodSucceeded {
		reason = reasonPodCompleted
		setCondition(st, now, corev1.PodInitialized, corev1.ConditionTrue, reasonPodCompleted, "")
	}
	setCondition(st, now, corev1.PodReadyToStartContainers, corev1.ConditionFalse, "", "")
	setCondition(st, now, corev1.PodReady, corev1.ConditionFalse, reason, "")
	setCondition(st, now, corev1.ContainersReady, corev1.ConditionFalse, reason, "")
}

// setCondition sets a pod condition; its transition time moves only when
// its status changes.
func setCondition(st *corev1.PodStatus, now time.Time, typ corev1.PodConditionType, status corev1.ConditionStatus, reason, msg string) {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type == typ {
			if c.Status != status {
				c.LastTransitionTime = metav1.NewTime(now)
			}
			c.Status, c.Reason, c.Message = status, reason, msg
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{
		Type: typ, Status: status, Reason: reason, Message: msg,
		LastTransitionTime: metav1.NewTime(now), ObservedGeneration: 1,
	})
}

func waiting(reason, msg string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
}

// pullError is what containerd says when the registry cannot be reached.
func pullError(image string) string {
	host, rest, _ := strings.Cut(image, "/")
	repo, tag, _ := strings.Cut(rest, ":")
	return fmt.Sprintf("rpc error: code = DeadlineExceeded desc = failed to pull and unpack image %q: "+
		"failed to resolve reference %q: failed to do request: Head \"https://%s/v2/%s/manifests/%s\": "+
		"dial tcp 10.42.0.53:443: i/o timeout", image, image, host, repo, tag)
}

// imageSize is a stable, plausible size for a data-science image.
func imageSize(image string) int64 {
	var x uint64
	for i := 0; i < len(image); i++ {
		x = mix(x ^ uint64(image[i]))
	}
	return 400_000_000 + int64(x%2_000_000_000)
}
