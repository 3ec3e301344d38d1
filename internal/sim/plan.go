package sim

import (
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// member is a Spec of the running fleet with what every run of it shares.
type member struct {
	Spec
	podSpec corev1.PodSpec // the defaulted pod template spec
	imageID string
	rng     *rand.Rand // shuffles the deck
	deck    []Outcome  // Behavior's weights as cards, dealt in order
	dealt   int
}

func newMember(sp Spec, rng *rand.Rand) *member {
	sp.validate()
	m := &member{Spec: sp, imageID: imageRepo(sp.Image) + "@" + imageDigest(sp.Image), rng: rng}
	for o := Outcome(0); o < numOutcomes; o++ {
		for range sp.Behavior[o] {
			m.deck = append(m.deck, o)
		}
	}
	m.dealt = len(m.deck)
	policy := corev1.PullIfNotPresent
	if sp.PullAlways {
		policy = corev1.PullAlways
	}
	request := resource.MustParse(sp.Memory)
	limit := *resource.NewQuantity(2*request.Value(), resource.BinarySI)
	m.podSpec = corev1.PodSpec{
		Containers: []corev1.Container{{
			Name:    containerName,
			Image:   sp.Image,
			Command: sp.Command,
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse(sp.CPU),
					corev1.ResourceMemory: request,
				},
				Limits: corev1.ResourceList{corev1.ResourceMemory: limit},
			},
			TerminationMessagePath:   corev1.TerminationMessagePathDefault,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			ImagePullPolicy:          policy,
		}},
		RestartPolicy:                 sp.RestartPolicy,
		AutomountServiceAccountToken:  ptr(false),
		TerminationGracePeriodSeconds: ptr[int64](corev1.DefaultTerminationGracePeriodSeconds),
		DNSPolicy:                     corev1.DNSClusterFirst,
		SecurityContext:               &corev1.PodSecurityContext{},
		SchedulerName:                 corev1.DefaultSchedulerName,
	}
	return m
}

// imageRepo is image without its tag.
func imageRepo(image string) string {
	for i := len(image) - 1; i >= 0 && image[i] != '/'; i-- {
		if image[i] == ':' {
			return image[:i]
		}
	}
	return image
}

// attempt is one planned container run.
type attempt struct {
	run    time.Duration // how long it runs; negative: until killed
	exit   int32
	reason string // termination reason: Completed, Error or OOMKilled
	evict  bool   // the kubelet evicts the pod after run instead
}

// plan is what will happen to a run, drawn when it is scheduled.
type plan struct {
	outcome   Outcome
	attempts  []attempt     // in order; under Never each is a new pod
	unsched   time.Duration // the first pod is unschedulable this long; negative: forever
	pullFails bool          // the first pod's image never pulls
	flash     bool          // the pod lives under a second
}

func (m *member) plan(rng *rand.Rand) plan {
	p := plan{outcome: m.deal()}
	onFailure := m.RestartPolicy == corev1.RestartPolicyOnFailure
	limit := int(m.BackoffLimit)
	// The most failed attempts a run survives: under Never the Job fails
	// when failed pods exceed the limit, under OnFailure when the restarts
	// of a pod reach it.
	survivable := limit
	if onFailure {
		survivable = limit - 1
	}
	ok := func() attempt { return attempt{run: m.runtime(rng), reason: reasonCompleted} }
	part := func(num, den time.Duration) time.Duration {
		return max(time.Second, (m.runtime(rng) * num / den).Truncate(time.Second))
	}
	crash := func() attempt { return attempt{run: part(1, 4), exit: 1, reason: reasonError} }
	oom := func() attempt { return attempt{run: part(3, 5), exit: 137, reason: reasonOOMKilled} }
	recoverAfter := func(n int, fail func() attempt) {
		for i := 0; i < min(n, survivable); i++ {
			p.attempts = append(p.attempts, fail())
		}
		p.attempts = append(p.attempts, ok())
	}
	failUntilLimit := func(fail func() attempt) {
		n := limit + 1
		if onFailure {
			n = limit
		}
		for i := 0; i < n; i++ {
			p.attempts = append(p.attempts, fail())
		}
		if onFailure { // restartCount reaches the limit as this one starts
			p.attempts = append(p.attempts, attempt{run: -1})
		}
	}
	switch p.outcome {
	case Succeed:
		p.attempts = append(p.attempts, ok())
	case Flash:
		p.flash = true
		p.attempts = append(p.attempts, attempt{reason: reasonCompleted})
	case Retried:
		recoverAfter(1, crash)
	case ErrorExit:
		failUntilLimit(crash)
	case OOMKilled:
		failUntilLimit(oom)
	case OOMRestart:
		recoverAfter(1, oom)
	case CrashLoop:
		recoverAfter(2+rng.IntN(3), crash)
	case ImagePull:
		p.pullFails = true
	case Evicted:
		p.attempts = append(p.attempts, attempt{run: part(1, 2), exit: 137, reason: reasonError, evict: true}, ok())
	case Deadline:
		p.attempts = append(p.attempts, attempt{run: -1})
	case Unschedulable:
		p.unsched = time.Duration(60+rng.IntN(241)) * time.Second
		p.attempts = append(p.attempts, ok())
	case NeverScheduled:
		p.unsched = -1
	}
	p.fit(m.ActiveDeadline)
	return p
}

// fit shortens the attempts of a run that should end on its own so that it
// ends well within deadline: a pod must never be killed for the deadline
// in the middle of an outcome meant to end otherwise.
func (p *plan) fit(deadline time.Duration) {
	if deadline <= 0 || p.outcome.needsDeadline() {
		return
	}
	overhead := max(p.unsched, 0)
	var total time.Duration
	for i, a := range p.attempts {
		overhead += 30*time.Second + min(10*time.Second<<i, 5*time.Minute)
		if a.run > 0 {
			total += a.run
		}
	}
	budget := deadline*6/10 - overhead
	if total <= budget {
		return
	}
	for i := range p.attempts {
		if a := &p.attempts[i]; a.run > 0 {
			a.run = max(time.Second, (a.run * max(budget, 0) / total).Truncate(time.Second))
		}
	}
}

// deal gives the next run its outcome: the next card of a deck holding each
// outcome as many times as its weight, shuffled anew when used up. So the
// weights hold exactly over each deck, not only on average.
func (m *member) deal() Outcome {
	if m.dealt == len(m.deck) {
		m.rng.Shuffle(len(m.deck), func(i, j int) { m.deck[i], m.deck[j] = m.deck[j], m.deck[i] })
		m.dealt = 0
	}
	m.dealt++
	return m.deck[m.dealt-1]
}

// runtime draws an attempt's duration: 50%–150% of the Spec's Runtime,
// whole seconds, at least one.
func (m *member) runtime(rng *rand.Rand) time.Duration {
	d := time.Duration(float64(m.Runtime) * (0.5 + rng.Float64()))
	return max(time.Second, d.Truncate(time.Second))
}

func ptr[T any](v T) *T { return &v }
