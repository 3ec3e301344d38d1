package ledger

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// lifecycle builds the looks of one pod under restartPolicy OnFailure from
// fuzz bytes: up to 5 attempts, each ending Completed, Error or OOMKilled,
// with or without a CrashLoopBackOff look between attempts.
func lifecycle(data []byte) []look {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	onFailure := func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }
	sched := scheduled(1)
	looks := []look{see(0, pod("p", onFailure))}
	attempts := int32(next()%5) + 1
	clock := 2
	var last *corev1.ContainerState
	for a := int32(0); a < attempts; a++ {
		start := clock
		cs := corev1.ContainerStatus{RestartCount: a, State: running(start)}
		if last != nil {
			cs.LastTerminationState = *last
		}
		looks = append(looks, see(clock, pod("p", onFailure, sched, phase(corev1.PodRunning), status(cs))))
		clock += int(next()%20) + 1
		reason, code := "Error", int32(1)
		switch next() % 3 {
		case 0:
			reason, code = "OOMKilled", 137
		case 1:
			if a == attempts-1 {
				reason, code = "Completed", 0
			}
		}
		end := terminated(reason, code, start, clock)
		final := a == attempts-1
		ph := corev1.PodRunning
		if final {
			ph = corev1.PodFailed
			if code == 0 {
				ph = corev1.PodSucceeded
			}
		}
		cs.State = end
		looks = append(looks, see(clock, pod("p", onFailure, sched, phase(ph), status(cs))))
		if !final && next()%2 == 0 {
			clock++
			cs.State, cs.LastTerminationState = waiting("CrashLoopBackOff"), end
			looks = append(looks, see(clock, pod("p", onFailure, sched, phase(corev1.PodRunning), status(cs))))
		}
		last = &end
		clock += int(next()%10) + 1
	}
	return looks
}

// FuzzPodUpdates delivers a random selection of a pod's looks, with
// duplicates and in random order, and checks that the store ends up exactly
// as if the distinct looks had arrived once, in order: no panic, no double
// count.
func FuzzPodUpdates(f *testing.F) {
	f.Add([]byte{3, 0, 5, 1, 0, 2, 7, 1}, []byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{4, 1, 2, 0, 9, 1, 1, 3, 0, 2, 2}, []byte{9, 3, 3, 1, 0, 8, 8})
	f.Add([]byte{0}, []byte{1, 1, 1})
	r := newReplayer(f)
	f.Fuzz(func(t *testing.T, life, delivery []byte) {
		if len(delivery) > 64 {
			delivery = delivery[:64]
		}
		looks := lifecycle(life)
		var got []look
		picked := map[int]bool{}
		for _, b := range delivery {
			i := int(b) % len(looks)
			got = append(got, looks[i])
			picked[i] = true
		}
		if len(got) == 0 {
			return
		}
		var once []look
		for i, l := range looks {
			if picked[i] {
				once = append(once, l)
			}
		}
		want := r.replay(t, once)
		if diff := cmp.Diff(want, r.replay(t, got)); diff != "" {
			t.Fatalf("delivery order changed the ledger (-once in order +as delivered):\n%s", diff)
		}
		var maxRestarts int32
		for _, l := range once {
			for _, cs := range l.obj.(*corev1.Pod).Status.ContainerStatuses {
				maxRestarts = max(maxRestarts, cs.RestartCount)
			}
		}
		if want.Counts[store.Restarts] != int64(maxRestarts) {
			t.Errorf("restarts = %d, the highest restartCount delivered is %d", want.Counts[store.Restarts], maxRestarts)
		}
		for _, m := range []store.Metric{store.PodsFinished, store.PodsOOM, store.PodsCrashLoop, store.PodsFailed} {
			if want.Counts[m] > 1 {
				t.Errorf("%s = %d for one pod", m, want.Counts[m])
			}
		}
	})
}

// FuzzPodFacts feeds the ledger arbitrary container statuses and text — any
// restartCount, any mix of state and lastState, hostile strings — and checks
// the facts' invariants: no panic, text valid and bounded, each natural key
// once, restart indices exactly 1..restartCount (minus a restart created but
// not started), attempts within 0..restartCount. It runs the ledger alone,
// so it fuzzes fast; FuzzPodUpdates checks the store side.
func FuzzPodFacts(f *testing.F) {
	f.Add(int32(3), uint8(2), uint8(1), "OOMKilled", "<script>alert(1)</script>", "Running")
	f.Add(int32(0), uint8(1), uint8(0), "Error", "\xff\xfe", "Failed")
	f.Add(int32(-1), uint8(0), uint8(2), "", strings.Repeat("x", 5000), "")
	f.Fuzz(func(t *testing.T, restarts int32, state, last uint8, reason, text, ph string) {
		cs := corev1.ContainerStatus{RestartCount: restarts}
		switch state % 4 {
		case 1:
			cs.State = running(5)
		case 2:
			cs.State = terminated(reason, 1, 5, 9)
			cs.State.Terminated.Message = text
		case 3:
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: text}}
		}
		if last%2 == 1 {
			cs.LastTerminationState = terminated(reason, 137, 1, 4)
		}
		p := pod("p", phase(corev1.PodPhase(ph)), status(cs), func(p *corev1.Pod) { p.Status.Message, p.Status.Reason = text, reason })
		facts := (&Ledger{Cluster: "c"}).Pod(p, state%5 == 0, sec(60))
		texts := []string{facts.Pods[0].Message, facts.Pods[0].Reason}
		keys := map[string]bool{}
		key := func(k string) {
			if keys[k] {
				t.Fatalf("key %s twice in one look", k)
			}
			keys[k] = true
		}
		for _, x := range facts.Terminations {
			key(fmt.Sprintf("t/%d", x.Attempt))
			if x.Attempt < 0 || x.Attempt > max(restarts, 0) {
				t.Errorf("attempt %d outside 0..%d", x.Attempt, restarts)
			}
			texts = append(texts, x.Message, x.Reason)
		}
		for _, x := range facts.Waits {
			key("w/" + x.Reason)
			texts = append(texts, x.Message, x.Reason)
		}
		for i, x := range facts.Restarts {
			key(fmt.Sprintf("r/%d", x.Index))
			if x.Index != int32(i+1) || x.At.IsZero() {
				t.Errorf("restart %d: %+v", i, x)
			}
		}
		if n := int32(len(facts.Restarts)); n != max(restarts, 0) && n != restarts-1 {
			t.Errorf("%d restarts for restartCount %d", n, restarts)
		}
		for _, s := range texts {
			if len(s) > model.MaxMessage || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Errorf("text not cleaned: %q", s)
			}
		}
	})
}
