package sim

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestPlan(t *testing.T) {
	base := Spec{
		Namespace: "ns", Name: "job", Schedule: "@hourly", Image: "registry.example/x:1", CPU: "1", Memory: "1Gi",
		BackoffLimit: 3, ActiveDeadline: 10 * time.Minute, Runtime: 4 * time.Minute,
	}
	// shape summarizes the attempts: one letter each, ok, Error, OOM,
	// evicted, or running until killed.
	shape := func(p plan) string {
		b := []byte{}
		for _, a := range p.attempts {
			switch {
			case a.evict:
				b = append(b, 'v')
			case a.run < 0:
				b = append(b, 'k')
			case a.reason == reasonOOMKilled:
				b = append(b, 'm')
			case a.exit != 0:
				b = append(b, 'e')
			default:
				b = append(b, 'o')
			}
		}
		return string(b)
	}
	for _, tc := range []struct {
		outcome Outcome
		policy  corev1.RestartPolicy
		want    []string // possible shapes
	}{
		{Succeed, corev1.RestartPolicyNever, []string{"o"}},
		{Flash, corev1.RestartPolicyNever, []string{"o"}},
		{Retried, corev1.RestartPolicyOnFailure, []string{"eo"}},
		{ErrorExit, corev1.RestartPolicyNever, []string{"eeee"}},     // limit+1 failed pods
		{ErrorExit, corev1.RestartPolicyOnFailure, []string{"eeek"}}, // restartCount reaches the limit on the last
		{OOMKilled, corev1.RestartPolicyNever, []string{"mmmm"}},
		{OOMKilled, corev1.RestartPolicyOnFailure, []string{"mmmk"}},
		{OOMRestart, corev1.RestartPolicyOnFailure, []string{"mo"}},
		{CrashLoop, corev1.RestartPolicyOnFailure, []string{"eeo"}}, // at most limit-1 failures
		{CrashLoop, corev1.RestartPolicyNever, []string{"eeo", "eeeo"}},
		{ImagePull, corev1.RestartPolicyNever, []string{""}},
		{Evicted, corev1.RestartPolicyOnFailure, []string{"vo"}},
		{Deadline, corev1.RestartPolicyNever, []string{"k"}},
		{Unschedulable, corev1.RestartPolicyNever, []string{"o"}},
		{NeverScheduled, corev1.RestartPolicyNever, []string{""}},
	} {
		t.Run(tc.outcome.String()+"/"+string(tc.policy), func(t *testing.T) {
			sp := base
			sp.RestartPolicy = tc.policy
			sp.Behavior = Mix{tc.outcome: 1}
			m := newMember(sp, New(Config{Start: monday}).newRand(1))
			for i := range 50 {
				p := m.plan(m.rng)
				if got := shape(p); !contains(tc.want, got) {
					t.Fatalf("draw %d: attempts %q, want one of %q", i, got, tc.want)
				}
				if p.flash != (tc.outcome == Flash) || p.pullFails != (tc.outcome == ImagePull) ||
					(p.unsched < 0) != (tc.outcome == NeverScheduled) || (p.unsched > 0) != (tc.outcome == Unschedulable) {
					t.Fatalf("draw %d: %+v", i, p)
				}
				var total time.Duration
				for _, a := range p.attempts {
					if a.run > 0 {
						total += a.run
					}
					if a.run > 0 && a.run%time.Second != 0 || a.run == 0 && !p.flash {
						t.Fatalf("draw %d: attempt of %v", i, a.run)
					}
				}
				// Runs meant to end on their own fit well within the deadline.
				if !tc.outcome.needsDeadline() && total+max(p.unsched, 0) > sp.ActiveDeadline*6/10 {
					t.Fatalf("draw %d: %v of attempts and %v unschedulable for a deadline of %v", i, total, p.unsched, sp.ActiveDeadline)
				}
			}
		})
	}
}

func TestDeckKeepsWeights(t *testing.T) {
	sp := DefaultFleet()[1]
	m := newMember(sp, New(Config{Start: monday}).newRand(9))
	for deck := range 3 {
		got := map[Outcome]int{}
		for range 100 {
			got[m.deal()]++
		}
		for o, w := range sp.Behavior {
			if got[o] != w {
				t.Fatalf("deck %d: %v dealt %d times, weight %d", deck, o, got[o], w)
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
