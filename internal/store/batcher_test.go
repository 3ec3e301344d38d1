package store_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlite"
)

func TestBatcher(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, t.TempDir()+"/b.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := store.NewBatcher(s, slog.New(slog.NewTextHandler(io.Discard, nil)), 3, time.Hour)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := model.Pod{Cluster: "c", UID: "p", Namespace: "ns", Name: "p", CreatedAt: t0, Phase: model.PhaseRunning}
	term := model.Termination{Cluster: "c", PodUID: "p", Container: "main", Reason: "OOMKilled", ExitCode: 137, FinishedAt: t0.Add(time.Minute)}
	restart := model.Restart{Cluster: "c", PodUID: "p", Container: "main", Index: 1, At: t0.Add(2 * time.Minute)}
	look := model.Facts{Pods: []model.Pod{pod}, Terminations: []model.Termination{term}, Restarts: []model.Restart{restart}}

	steps := []struct {
		name        string
		add         model.Facts
		wantWritten uint64 // after Add and Flush
	}{
		{"first look is written (3 facts fill the batch)", look, 3},
		{"the same look again writes nothing", look, 3},
		{"a changed pod is written, its unchanged evidence is not", model.Facts{
			Pods:         []model.Pod{{Cluster: "c", UID: "p", Namespace: "ns", Name: "p", CreatedAt: t0, Phase: model.PhaseFailed}},
			Terminations: []model.Termination{term}, Restarts: []model.Restart{restart}}, 4},
		{"events and waits are always written", model.Facts{Waits: []model.Waiting{{Cluster: "c", PodUID: "p", Container: "main", Reason: "CrashLoopBackOff", FirstSeen: t0, LastSeen: t0}}}, 5},
	}
	for _, st := range steps {
		if err := b.Add(ctx, st.add); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := b.Written(); got != st.wantWritten {
			t.Errorf("%s: written = %d, want %d", st.name, got, st.wantWritten)
		}
	}
	got, err := s.Pod(ctx, "c", "p")
	if err != nil || got.Phase != model.PhaseFailed {
		t.Errorf("pod = %+v, %v", got, err)
	}
	c, err := s.Count(ctx, store.PodsOOM, store.Buckets{From: t0, To: t0.Add(time.Hour), Step: time.Hour}, store.Filter{})
	if err != nil || c[0] != 1 {
		t.Errorf("pods_oom = %v, %v", c, err)
	}
}
