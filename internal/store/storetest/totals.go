package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

func sortTotals(ts []store.Total) {
	slices.SortFunc(ts, func(a, b store.Total) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.CronJob, b.CronJob), cmp.Compare(a.Class, b.Class))
	})
}

// testTotalsReads covers FailureReasons, PodsAt, OldestPending and
// LastSucceeded on a
// small hand-made history.
func (s suite) testTotalsReads(t *testing.T) {
	ctx := context.Background()
	st := s.store(t)
	a := store.Group{Cluster: "east", Namespace: "ns", CronJob: "a"}
	b := store.Group{Cluster: "west", Namespace: "ns", CronJob: ""}
	mins := func(n int) time.Time { return at(time.Duration(n) * minute) }
	pod := func(g store.Group, uid, phase, reason string, created, pendingUntil, finished, deleted int) model.Pod {
		p := model.Pod{Cluster: g.Cluster, Namespace: g.Namespace, CronJob: g.CronJob, UID: uid, Phase: phase, Reason: reason,
			CreatedAt: mins(created)}
		if pendingUntil >= 0 {
			p.PendingUntil = mins(pendingUntil)
		}
		if finished >= 0 {
			p.FinishedAt = mins(finished)
		}
		if deleted >= 0 {
			p.DeletedAt = mins(deleted)
		}
		return p
	}
	term := func(g store.Group, uid, container string, attempt int32, reason string, finished int) model.Termination {
		return model.Termination{Cluster: g.Cluster, PodUID: uid, Container: container, Attempt: attempt, Reason: reason,
			FinishedAt: mins(finished)}
	}
	write(t, st, model.Facts{
		Pods: []model.Pod{
			pod(a, "evicted", model.PhaseFailed, "Evicted", 0, 1, 5, -1),
			pod(a, "oom", model.PhaseFailed, "", 0, 1, 6, -1),
			pod(a, "err", model.PhaseFailed, "", 0, 1, 7, -1),
			pod(a, "bare", model.PhaseFailed, "", 0, 8, 8, -1),
			pod(a, "ok", model.PhaseSucceeded, "", 0, 1, 9, -1),
			pod(b, "oom2", model.PhaseFailed, "", 0, 1, 9, -1),
			pod(a, "running", model.PhaseRunning, "", 0, 2, -1, -1),
			pod(a, "gone", model.PhaseRunning, "", 0, 2, -1, 30),      // deleted while running: not running
			pod(b, "pending", model.PhasePending, "", 10, -1, -1, -1), // pending from minute 10 on
			pod(b, "longpending", model.PhasePending, "", -600, 300, -1, -1),
		},
		Terminations: []model.Termination{
			term(a, "evicted", "main", 0, model.ReasonOOMKilled, 5), // the pod's own reason wins
			term(a, "oom", "main", 0, "Error", 3),
			term(a, "oom", "main", 1, model.ReasonOOMKilled, 6), // any OOM kill
			term(a, "err", "side", 0, model.ReasonOOMKilled, 4),
			term(a, "err", "main", 0, "Error", 7),
			term(a, "bare", "main", 0, "Error", 7), // no OOM kill
			term(b, "oom2", "main", 0, model.ReasonOOMKilled, 9),
		},
		Runs: []model.Run{
			{Cluster: "east", Namespace: "ns", CronJob: "a", UID: "r1", Outcome: model.OutcomeSucceeded, FinishedAt: at(20 * minute)},
			{Cluster: "east", Namespace: "ns", CronJob: "a", UID: "r2", Outcome: model.OutcomeSucceeded, FinishedAt: at(50 * minute)},
			{Cluster: "east", Namespace: "ns", CronJob: "a", UID: "r3", Outcome: model.OutcomeFailed, FinishedAt: at(90 * minute)},
			{Cluster: "west", Namespace: "ns", CronJob: "c", UID: "r4", Outcome: model.OutcomeFailed, FinishedAt: at(10 * minute)},
			{Cluster: "west", Namespace: "ns", CronJob: "", UID: "r5", Outcome: model.OutcomeSucceeded, FinishedAt: at(10 * minute)},
		},
	})

	reasons, err := st.PodFailureTotals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "FailureReasons", []store.Total{
		{Group: a, Class: "ContainerFailed", N: 1},
		{Group: a, Class: "Evicted", N: 1},
		{Group: a, Class: model.ReasonOOMKilled, N: 2},
		{Group: b, Class: model.ReasonOOMKilled, N: 1},
	}, reasons)

	for _, tc := range []struct {
		minute int
		want   []store.Total
	}{
		{0, []store.Total{{Group: a, Class: model.PhasePending, N: 7}, {Group: a, Class: model.PhaseRunning, N: 1},
			{Group: b, Class: model.PhasePending, N: 2}}},
		{1, []store.Total{{Group: a, Class: model.PhasePending, N: 3}, {Group: a, Class: model.PhaseRunning, N: 1},
			{Group: b, Class: model.PhasePending, N: 1}}},
		{60, []store.Total{{Group: a, Class: model.PhaseRunning, N: 1}, {Group: b, Class: model.PhasePending, N: 2}}},
		{400, []store.Total{{Group: a, Class: model.PhaseRunning, N: 1}, {Group: b, Class: model.PhasePending, N: 1}}},
	} {
		got, err := st.PodsAt(ctx, mins(tc.minute))
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("PodsAt minute %d", tc.minute), tc.want, got)
	}

	for _, tc := range []struct {
		minute int
		want   []store.GroupTime
	}{
		{0, []store.GroupTime{{Group: a, At: mins(0)}, {Group: b, At: mins(-600)}}},
		{1, []store.GroupTime{{Group: a, At: mins(0)}, {Group: b, At: mins(-600)}}},
		{60, []store.GroupTime{{Group: b, At: mins(-600)}}},
		{400, []store.GroupTime{{Group: b, At: mins(10)}}},
	} {
		got, err := st.OldestPending(ctx, mins(tc.minute))
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("OldestPending minute %d", tc.minute), tc.want, got)
	}

	last, err := st.LastSucceeded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "LastSucceeded", []store.GroupTime{{Group: a, At: at(50 * minute)}}, last)
}
