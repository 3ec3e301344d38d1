package ledger

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// TestHostileTextStored sends an Event and a pod whose texts are 1 MB long,
// hold HTML and invalid UTF-8, through the ledger into the store, and reads
// them back bounded, valid, and otherwise unchanged (HTML is data, not
// markup: escaping is the renderer's job).
func TestHostileTextStored(t *testing.T) {
	hostile := `<script>alert(1)</script><img src=x onerror=alert(2)>` + "\xff\xfe" + strings.Repeat("A", 1<<20)
	ev := &corev1.Event{}
	ev.UID, ev.Namespace, ev.Name = "ev-hostile", "ml", "p.1"
	ev.InvolvedObject = corev1.ObjectReference{Kind: "Pod", Name: "p", UID: "pod-p", Namespace: "ml"}
	ev.Type, ev.Reason, ev.Message = "Warning", "BackOff", hostile
	ev.FirstTimestamp, ev.LastTimestamp, ev.Count = at(10), at(10), 1
	p := pod("p", phase(corev1.PodFailed), status(corev1.ContainerStatus{State: terminated("Error", 1, 1, 5)}),
		func(p *corev1.Pod) { p.Status.Message = hostile })
	p.Status.ContainerStatuses[0].State.Terminated.Message = hostile

	r := newReplayer(t)
	st := r.replay(t, []look{see(10, ev), see(10, p)})
	evs, err := r.s.RecentEvents(context.Background(), sec(0), sec(60), store.Filter{Cluster: "c1"} /* the replayer's first cluster */, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("want the event back, got %d", len(evs))
	}
	terms := st.Evidence["pod-p"][0].([]model.Termination)
	for name, s := range map[string]string{"event": evs[0].Message, "pod": st.Pods[0].Message, "termination": terms[0].Message} {
		if len(s) > model.MaxMessage || !utf8.ValidString(s) {
			t.Errorf("%s message: %d bytes, valid UTF-8 %v", name, len(s), utf8.ValidString(s))
		}
		if !strings.HasPrefix(s, `<script>alert(1)</script><img src=x onerror=alert(2)>`+"\uFFFD") || !strings.HasSuffix(s, "…") {
			t.Errorf("%s message changed beyond cleaning: %.80q…", name, s)
		}
	}
}
