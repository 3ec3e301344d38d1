package query

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/dashboard"
	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlite"
)

// at is 2025-06-01 12:mm:ss UTC; negative minutes reach back before noon.
func at(mm, ss int) time.Time {
	return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second)
}

// fleet is a small history with every widget's edge cases. The range
// used by the tests is [12:00, 12:10), in ten buckets of one minute.
//
//	runs (c1 unless noted)   created   finished
//	r0 etl                   11:50     12:01:00 Succeeded
//	r1 etl                   12:00:30  12:03:00 Succeeded
//	r2 etl                   12:02:10  12:05:00 Failed
//	r3 train                 12:04:00  -
//	r4 (no CronJob)          12:04:30  12:06:00 Succeeded
//	r5 etl                   12:10:00  -           (at to: outside)
//	r6 (no CronJob)          11:54:00  -
//	r7 score (c2)            12:07:10  12:08:30 Failed
//
//	pods   run  created   pending until  finished
//	p1     r1   12:00:31  12:00:40       12:02:50 Succeeded
//	p2     r2   12:02:11  12:02:30       12:04:50 Failed; OOM 12:02:45, 12:03:30; restarts 12:02:46, 12:03:40; CrashLoop 12:02:50, 12:03:45
//	p3     r3   12:04:01  -              -
//	p4     r4   12:04:31  12:05:10       12:05:55 Succeeded
//	p5     r2   12:03:35  12:06:30 (deleted while Pending; CronJob left to the store)
//	p6     r6   11:56:00  11:56:10       -        OOM 11:59:00, 12:01:20; restarts 11:59:05, 12:01:25; CrashLoop 11:59:10, 12:01:30
//	p7     r6   11:55:00  12:01:30       -
//	p8     r7   12:07:11  12:07:30       12:08:20 Failed; OOM 12:08:20   (c2)
//	p10    r3   12:07:00  12:09:00       -
//	p11    r3   12:30:00  -              -        (pending after the range only)
//	p12    r3   13:00:45  -              -        (after TestPendingNow's now)
func fleet() model.Facts {
	const c1, c2 = "c1", "c2"
	run := func(cluster, uid, cronjob string, created, finished time.Time, outcome string) model.Run {
		return model.Run{Cluster: cluster, Namespace: "ds", UID: uid, Name: uid, CronJob: cronjob,
			CreatedAt: created, StartedAt: created, FinishedAt: finished, Outcome: outcome}
	}
	pod := func(cluster, uid, job, cronjob string, created, pendingUntil, finished time.Time, phase string) model.Pod {
		return model.Pod{Cluster: cluster, Namespace: "ds", UID: uid, Name: uid, JobUID: job, JobName: job,
			CronJob: cronjob, CreatedAt: created, StartedAt: pendingUntil, PendingUntil: pendingUntil,
			FinishedAt: finished, Phase: phase}
	}
	term := func(cluster, podUID string, attempt int32, reason string, finished time.Time) model.Termination {
		return model.Termination{Cluster: cluster, PodUID: podUID, Container: "main", Attempt: attempt,
			Reason: reason, ExitCode: 137, StartedAt: finished.Add(-5 * time.Second), FinishedAt: finished}
	}
	restart := func(podUID string, index int32, t time.Time) model.Restart {
		return model.Restart{Cluster: c1, PodUID: podUID, Container: "main", Index: index, At: t}
	}
	wait := func(podUID string, attempt int32, t time.Time) model.Waiting {
		return model.Waiting{Cluster: c1, PodUID: podUID, Container: "main", Attempt: attempt,
			Reason: model.ReasonCrashLoopBackOff, FirstSeen: t, LastSeen: t.Add(2 * time.Second)}
	}
	event := func(cluster, uid, kind, name, typ, reason string, count int32, last time.Time) model.Event {
		return model.Event{Cluster: cluster, UID: uid, Namespace: "ds", InvolvedKind: kind, InvolvedName: name,
			InvolvedUID: name, Type: typ, Reason: reason, Message: reason + " of " + name, Count: count,
			FirstSeen: last.Add(-time.Minute), LastSeen: last}
	}
	var none time.Time
	pend := model.PhasePending
	p5 := pod(c1, "p5", "r2", "", at(3, 35), at(6, 30), none, pend)
	p5.DeletedAt = at(6, 30)
	return model.Facts{
		CronJobs: []model.CronJob{
			{Cluster: c1, Namespace: "ds", Name: "etl", UID: "etl", Schedule: "*/5 * * * *", CreatedAt: at(-600, 0)},
			{Cluster: c1, Namespace: "ds", Name: "train", UID: "train", Schedule: "0 * * * *", CreatedAt: at(-600, 0)},
			{Cluster: c2, Namespace: "ds", Name: "score", UID: "score", Schedule: "* * * * *", CreatedAt: at(-600, 0)},
		},
		Runs: []model.Run{
			run(c1, "r0", "etl", at(-10, 0), at(1, 0), model.OutcomeSucceeded),
			run(c1, "r1", "etl", at(0, 30), at(3, 0), model.OutcomeSucceeded),
			run(c1, "r2", "etl", at(2, 10), at(5, 0), model.OutcomeFailed),
			run(c1, "r3", "train", at(4, 0), none, ""),
			run(c1, "r4", "", at(4, 30), at(6, 0), model.OutcomeSucceeded),
			run(c1, "r5", "etl", at(10, 0), none, ""),
			run(c1, "r6", "", at(-6, 0), none, ""),
			run(c2, "r7", "score", at(7, 10), at(8, 30), model.OutcomeFailed),
		},
		Pods: []model.Pod{
			pod(c1, "p1", "r1", "etl", at(0, 31), at(0, 40), at(2, 50), model.PhaseSucceeded),
			pod(c1, "p2", "r2", "etl", at(2, 11), at(2, 30), at(4, 50), model.PhaseFailed),
			pod(c1, "p3", "r3", "train", at(4, 1), none, none, pend),
			pod(c1, "p4", "r4", "", at(4, 31), at(5, 10), at(5, 55), model.PhaseSucceeded),
			p5,
			pod(c1, "p6", "r6", "", at(-4, 0), at(-4, 10), none, model.PhaseRunning),
			pod(c1, "p7", "r6", "", at(-5, 0), at(1, 30), none, model.PhaseRunning),
			pod(c2, "p8", "r7", "score", at(7, 11), at(7, 30), at(8, 20), model.PhaseFailed),
			pod(c1, "p10", "r3", "train", at(7, 0), at(9, 0), none, model.PhaseRunning),
			pod(c1, "p11", "r3", "train", at(30, 0), none, none, pend),
			pod(c1, "p12", "r3", "train", at(60, 45), none, none, pend),
		},
		Terminations: []model.Termination{
			term(c1, "p1", 0, "Completed", at(2, 50)),
			term(c1, "p2", 0, model.ReasonOOMKilled, at(2, 45)),
			term(c1, "p2", 1, model.ReasonOOMKilled, at(3, 30)),
			term(c1, "p2", 2, "Error", at(4, 50)),
			term(c1, "p6", 0, model.ReasonOOMKilled, at(-1, 0)),
			term(c1, "p6", 1, model.ReasonOOMKilled, at(1, 20)),
			term(c2, "p8", 0, model.ReasonOOMKilled, at(8, 20)),
		},
		Restarts: []model.Restart{
			restart("p2", 1, at(2, 46)),
			restart("p2", 2, at(3, 40)),
			restart("p6", 1, at(-1, 5)),
			restart("p6", 2, at(1, 25)),
		},
		Waits: []model.Waiting{
			wait("p2", 1, at(2, 50)),
			wait("p2", 2, at(3, 45)),
			wait("p6", 1, at(-1, 10)),
			wait("p6", 2, at(1, 30)),
		},
		Events: []model.Event{
			event(c1, "e1", "Pod", "p2", "Warning", "BackOff", 3, at(3, 0)),
			event(c1, "e2", "Job", "r2", "Warning", "BackoffLimitExceeded", 1, at(5, 0)),
			event(c1, "e3", "CronJob", "etl", "Normal", "SawCompletedJob", 1, at(3, 5)),
			event(c1, "e4", "Pod", "p1", "Normal", "Scheduled", 1, at(-60, 0)),
			event(c1, "e5", "Pod", "p4", "Normal", "Scheduled", 1, at(6, 0)),
			event(c2, "e6", "Pod", "p8", "Warning", "OOMKilling", 1, at(8, 0)),
			event(c1, "e7", "Pod", "p3", "Normal", "Scheduled", 1, at(10, 0)),
		},
	}
}

// openStore opens a real SQLite store in a temporary directory holding facts.
func openStore(t *testing.T, facts model.Facts) store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "batchlens.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := s.Write(ctx, facts); err != nil {
		t.Fatal(err)
	}
	return s
}

// expect is what one widget must hold, built from the result types so
// that comparing JSON compares every number and null exactly.
type expect = Widget

func num(v float64) *Number { n := Num(v); return &n }
func total(v int64) *int64  { return &v }

// rate is the docs' n ÷ d × 100.
func rate(n, d int64) Number { return Num(100 * float64(n) / float64(d)) }

// pts makes one point per value at the bucket starts of b: an int or a
// Number, or nil for null.
func pts(b store.Buckets, vals ...any) []Point {
	out := make([]Point, len(vals))
	for i, v := range vals {
		out[i].T = b.Start(i)
		switch v := v.(type) {
		case nil:
		case int:
			out[i].V = Num(float64(v))
		case Number:
			out[i].V = v
		default:
			panic(v)
		}
	}
	return out
}

func ev(e model.Event) Event {
	return Event{Time: e.LastSeen, Cluster: e.Cluster, Type: e.Type, Reason: e.Reason, Message: e.Message, Namespace: e.Namespace,
		InvolvedKind: e.InvolvedKind, InvolvedName: e.InvolvedName, InvolvedUID: e.InvolvedUID, Count: e.Count}
}

// numbers is w's JSON without its descriptive fields.
func numbers(t *testing.T, w Widget) string {
	t.Helper()
	w.ID, w.Title, w.Kind, w.Unit, w.Description, w.Available = "", "", "", "", "", false
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// check compares every widget of both dashboards with want; widgets missing
// from want must be unavailable and bare.
func check(t *testing.T, e *Engine, p Params, want map[string]expect) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range []string{"leadership", "engineering"} {
		d, err := e.Dashboard(context.Background(), id, p)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !d.From.Equal(p.From) || !d.To.Equal(p.To) {
			t.Errorf("%s: range [%s, %s), want [%s, %s)", id, d.From, d.To, p.From, p.To)
		}
		for _, s := range d.Sections {
			for _, w := range s.Widgets {
				seen[w.ID] = true
				exp, ok := want[w.ID]
				if !ok && usageWidget(w.ID) {
					continue // TestUsageWidgets checks them
				}
				if w.Available != ok {
					t.Errorf("%s/%s: available = %v", id, w.ID, w.Available)
				}
				if got, want := numbers(t, w), numbers(t, exp); got != want {
					t.Errorf("%s/%s:\n got %s\nwant %s", id, w.ID, got, want)
				}
			}
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("no widget %s", id)
		}
	}
}

func usageWidget(id string) bool {
	for _, d := range dashboard.All() {
		for _, w := range d.Widgets() {
			if w.ID == id {
				return w.Query.Source.Usage()
			}
		}
	}
	return false
}

// TestWidgets checks every number of both dashboards against fleet, worked
// out by hand from docs/widgets.md.
func TestWidgets(t *testing.T) {
	facts := fleet()
	e := New(openStore(t, facts), func() time.Time { return at(60, 0) })
	p := Params{From: at(0, 0), To: at(10, 0)}
	b := store.Buckets{From: p.From, To: p.To, Step: time.Minute}
	evs := facts.Events

	pending := pts(b, 1, 0, 0, 1, 3, 2, 2, 2, 1, 1)
	t.Run("all", func(t *testing.T) {
		check(t, e, p, map[string]expect{
			"jobs":           {Value: num(5), Series: []Series{{"jobs", pts(b, 1, 0, 1, 0, 2, 0, 0, 1, 0, 0)}}},
			"jobs_succeeded": {Value: num(3), Series: []Series{{"jobs_succeeded", pts(b, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0)}}},
			"jobs_failed":    {Value: num(2), Series: []Series{{"jobs_failed", pts(b, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0)}}},
			"success_rate": {Value: ptr(rate(2, 4)), Series: []Series{{"success_rate",
				pts(b, nil, nil, rate(1, 1), nil, rate(0, 1), rate(1, 1), nil, nil, rate(0, 1), nil)}}},
			"failure_rate": {Value: ptr(rate(2, 4)), Series: []Series{{"failure_rate",
				pts(b, nil, nil, rate(0, 1), nil, rate(1, 1), rate(0, 1), nil, nil, rate(1, 1), nil)}}},
			"pods_failed":        {Value: num(2), Series: []Series{{"pods_failed", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0)}}},
			"pods_oom":           {Value: num(2), Series: []Series{{"pods_oom", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0)}}},
			"container_restarts": {Value: num(3), Series: []Series{{"container_restarts", pts(b, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0)}}},
			"pods_crashloop":     {Value: num(1), Series: []Series{{"pods_crashloop", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)}}},
			"pods_pending":       {Value: num(1), Series: []Series{{"pods_pending", pending}}},
			"pods_bad_phase": {
				Series: []Series{{"Pending", pending}, {"Failed", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0)}},
				Values: map[string]Number{"Pending": Num(1), "Failed": Num(2)},
			},
			"top_cronjobs": {Rows: []Row{{"c1", "ds", "etl", 2}, {"c2", "ds", "score", 1}, {"c1", "ds", "train", 1}}},
			"events": {
				Events: []Event{ev(evs[5]), ev(evs[4]), ev(evs[1]), ev(evs[2]), ev(evs[0])},
				Total:  total(5),
			},
			"waiting_reasons": {Series: []Series{{"CrashLoopBackOff", pts(b, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"CrashLoopBackOff": Num(3)}},
			"terminated_reasons": {Series: []Series{
				{"OOMKilled", pts(b, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0)},
				{"Completed", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)},
				{"Error", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"OOMKilled": Num(4), "Completed": Num(1), "Error": Num(1)}},
			"restarts_by_container": {Series: []Series{{"main", pts(b, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"main": Num(3)}},
		})
	})

	t.Run("cluster", func(t *testing.T) {
		p := p
		p.Filter.Cluster = "c1"
		check(t, e, p, map[string]expect{
			"jobs":           {Value: num(4), Series: []Series{{"jobs", pts(b, 1, 0, 1, 0, 2, 0, 0, 0, 0, 0)}}},
			"jobs_succeeded": {Value: num(3), Series: []Series{{"jobs_succeeded", pts(b, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0)}}},
			"jobs_failed":    {Value: num(1), Series: []Series{{"jobs_failed", pts(b, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)}}},
			"success_rate": {Value: ptr(rate(2, 3)), Series: []Series{{"success_rate",
				pts(b, nil, nil, rate(1, 1), nil, rate(0, 1), rate(1, 1), nil, nil, nil, nil)}}},
			"failure_rate": {Value: ptr(rate(1, 3)), Series: []Series{{"failure_rate",
				pts(b, nil, nil, rate(0, 1), nil, rate(1, 1), rate(0, 1), nil, nil, nil, nil)}}},
			"pods_failed":        {Value: num(1), Series: []Series{{"pods_failed", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)}}},
			"pods_oom":           {Value: num(1), Series: []Series{{"pods_oom", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)}}},
			"container_restarts": {Value: num(3), Series: []Series{{"container_restarts", pts(b, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0)}}},
			"pods_crashloop":     {Value: num(1), Series: []Series{{"pods_crashloop", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)}}},
			"pods_pending":       {Value: num(1), Series: []Series{{"pods_pending", pending}}},
			"pods_bad_phase": {
				Series: []Series{{"Pending", pending}, {"Failed", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"Pending": Num(1), "Failed": Num(1)},
			},
			"top_cronjobs": {Rows: []Row{{"c1", "ds", "etl", 2}, {"c1", "ds", "train", 1}}},
			"events":       {Events: []Event{ev(evs[4]), ev(evs[1]), ev(evs[2]), ev(evs[0])}, Total: total(4)},
			"waiting_reasons": {Series: []Series{{"CrashLoopBackOff", pts(b, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"CrashLoopBackOff": Num(3)}},
			"terminated_reasons": {Series: []Series{
				{"OOMKilled", pts(b, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0)},
				{"Completed", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)},
				{"Error", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"OOMKilled": Num(3), "Completed": Num(1), "Error": Num(1)}},
			"restarts_by_container": {Series: []Series{{"main", pts(b, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"main": Num(3)}},
		})
	})

	t.Run("cronjob", func(t *testing.T) {
		p := p
		p.Filter.CronJob = "etl"
		etlPending := pts(b, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0) // p5 only, whose CronJob comes from its run
		check(t, e, p, map[string]expect{
			"jobs":           {Value: num(2), Series: []Series{{"jobs", pts(b, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0)}}},
			"jobs_succeeded": {Value: num(2), Series: []Series{{"jobs_succeeded", pts(b, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0)}}},
			"jobs_failed":    {Value: num(1), Series: []Series{{"jobs_failed", pts(b, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)}}},
			"success_rate": {Value: ptr(rate(1, 2)), Series: []Series{{"success_rate",
				pts(b, nil, nil, rate(1, 1), nil, rate(0, 1), nil, nil, nil, nil, nil)}}},
			"failure_rate": {Value: ptr(rate(1, 2)), Series: []Series{{"failure_rate",
				pts(b, nil, nil, rate(0, 1), nil, rate(1, 1), nil, nil, nil, nil, nil)}}},
			"pods_failed":        {Value: num(1), Series: []Series{{"pods_failed", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)}}},
			"pods_oom":           {Value: num(1), Series: []Series{{"pods_oom", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)}}},
			"container_restarts": {Value: num(2), Series: []Series{{"container_restarts", pts(b, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0)}}},
			"pods_crashloop":     {Value: num(1), Series: []Series{{"pods_crashloop", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)}}},
			"pods_pending":       {Value: num(0), Series: []Series{{"pods_pending", etlPending}}},
			"pods_bad_phase": {
				Series: []Series{{"Pending", etlPending}, {"Failed", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"Pending": Num(0), "Failed": Num(1)},
			},
			"top_cronjobs": {Rows: []Row{{"c1", "ds", "etl", 2}}},
			"events":       {Events: []Event{ev(evs[1]), ev(evs[2]), ev(evs[0])}, Total: total(3)},
			"waiting_reasons": {Series: []Series{{"CrashLoopBackOff", pts(b, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"CrashLoopBackOff": Num(2)}},
			"terminated_reasons": {Series: []Series{
				{"OOMKilled", pts(b, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0)},
				{"Completed", pts(b, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)},
				{"Error", pts(b, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"OOMKilled": Num(2), "Completed": Num(1), "Error": Num(1)}},
			"restarts_by_container": {Series: []Series{{"main", pts(b, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0)}},
				Values: map[string]Number{"main": Num(2)}},
		})
	})

	t.Run("nothing matches", func(t *testing.T) {
		p := p
		p.Filter.Namespace = "other"
		zero := pts(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		null := pts(b, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
		want := map[string]expect{
			"success_rate":   {Value: &Number{}, Series: []Series{{"success_rate", null}}},
			"failure_rate":   {Value: &Number{}, Series: []Series{{"failure_rate", null}}},
			"pods_bad_phase": {Series: []Series{{"Pending", zero}, {"Failed", zero}}, Values: map[string]Number{"Pending": Num(0), "Failed": Num(0)}},
			"top_cronjobs":   {Rows: []Row{}},
			"events":         {Events: []Event{}, Total: total(0)},
		}
		for _, id := range []string{"waiting_reasons", "terminated_reasons", "restarts_by_container"} {
			want[id] = expect{Series: []Series{}, Values: map[string]Number{}}
		}
		for _, id := range []string{"jobs", "jobs_succeeded", "jobs_failed", "pods_failed", "pods_oom",
			"container_restarts", "pods_crashloop", "pods_pending"} {
			want[id] = expect{Value: num(0), Series: []Series{{id, zero}}}
		}
		check(t, e, p, want)
	})
}

// TestPendingNow checks the Pending gauge when the range reaches past now:
// the value is read at now, buckets that have not begun are null.
func TestPendingNow(t *testing.T) {
	s := openStore(t, fleet())
	now := at(60, 30)
	e := New(s, func() time.Time { return now })
	f := func(name string, p Params, value *Number, vals ...any) {
		t.Helper()
		d, err := e.Dashboard(context.Background(), "leadership", p)
		if err != nil {
			t.Fatal(err)
		}
		b := store.Buckets{From: p.From, To: p.To, Step: Step(p.To.Sub(p.From))}
		want := Widget{Value: value, Series: []Series{{"pods_pending", pts(b, vals...)}}}
		for _, w := range d.Sections[0].Widgets {
			if w.ID == "pods_pending" {
				if got, want := numbers(t, w), numbers(t, want); got != want {
					t.Errorf("%s:\n got %s\nwant %s", name, got, want)
				}
			}
		}
	}
	// At 13:00:30 p3 and p11 are Pending (p12 comes at 13:00:45); at 12:25 only p3 is.
	f("reaching past now", Params{From: at(55, 0), To: at(65, 0)}, num(2), 2, 2, 2, 2, 2, 2, nil, nil, nil, nil)
	f("ending before now", Params{From: at(15, 0), To: at(25, 0)}, num(1), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	f("wholly in the future", Params{From: at(70, 0), To: at(75, 0)}, &Number{}, nil, nil, nil, nil, nil)
	f("starting at now", Params{From: now, To: now.Add(3 * time.Minute)}, &Number{}, nil, nil, nil)
}

// TestLastRange runs a last= request end to end: ParseParams, then the
// engine, with the step of a 24h range.
func TestLastRange(t *testing.T) {
	e := New(openStore(t, fleet()), func() time.Time { return at(10, 0) })
	v := map[string][]string{"last": {"24h"}, "cluster": {"c1"}, "namespace": {"ds"}, "cronjob": {"etl"}}
	p, err := ParseParams(v, e.Now())
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Dashboard(context.Background(), "leadership", p)
	if err != nil {
		t.Fatal(err)
	}
	if d.StepSeconds != 15*60 || d.Filters != (Filters{"c1", "ds", "etl"}) || !d.To.Equal(at(10, 0)) || !d.From.Equal(at(10-24*60, 0)) {
		t.Errorf("step %d, filters %+v, range [%s, %s)", d.StepSeconds, d.Filters, d.From, d.To)
	}
	jobs := d.Sections[0].Widgets[0]
	if jobs.ID != "jobs" || len(jobs.Series[0].Points) != 96 || *jobs.Value != Num(3) { // r0, r1, r2
		t.Errorf("jobs over 24h = %v with %d points, want 3 with 96", jobs.Value, len(jobs.Series[0].Points))
	}
}

// countingStore fails or counts the calls of a store.
type countingStore struct {
	store.Store
	fail     store.Metric // Count of this metric fails
	calls    atomic.Int64
	inFlight atomic.Int64
	maxSeen  atomic.Int64
}

func (s *countingStore) enter() func() {
	s.calls.Add(1)
	n := s.inFlight.Add(1)
	for {
		m := s.maxSeen.Load()
		if n <= m || s.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond)
	return func() { s.inFlight.Add(-1) }
}

func (s *countingStore) Count(ctx context.Context, m store.Metric, b store.Buckets, f store.Filter) ([]int64, error) {
	defer s.enter()()
	if m == s.fail {
		return nil, errors.New("disk on fire")
	}
	return s.Store.Count(ctx, m, b, f)
}

func (s *countingStore) PendingAt(ctx context.Context, at []time.Time, f store.Filter) ([]int64, error) {
	defer s.enter()()
	return s.Store.PendingAt(ctx, at, f)
}

func (s *countingStore) TopCronJobs(ctx context.Context, from, to time.Time, f store.Filter, limit int) ([]store.CronJobCount, error) {
	defer s.enter()()
	return s.Store.TopCronJobs(ctx, from, to, f, limit)
}

func (s *countingStore) RecentEvents(ctx context.Context, from, to time.Time, f store.Filter, limit int) ([]model.Event, error) {
	defer s.enter()()
	return s.Store.RecentEvents(ctx, from, to, f, limit)
}

// TestStoreCalls checks that each dashboard asks the store once per
// distinct query, a bounded number at a time.
func TestStoreCalls(t *testing.T) {
	p := Params{From: at(0, 0), To: at(10, 0)}
	for _, c := range []struct {
		id    string
		calls int64 // distinct Count metrics + PendingAt (+ TopCronJobs + RecentEvents)
	}{
		{"leadership", 7 + 1},
		{"engineering", 8 + 1 + 2},
	} {
		s := &countingStore{Store: openStore(t, fleet())}
		e := New(s, func() time.Time { return at(60, 0) })
		if _, err := e.Dashboard(context.Background(), c.id, p); err != nil {
			t.Fatal(err)
		}
		if n := s.calls.Load(); n != c.calls {
			t.Errorf("%s: %d store calls, want %d", c.id, n, c.calls)
		}
		if m := s.maxSeen.Load(); m > maxParallel || m < 2 {
			t.Errorf("%s: %d calls at once, want 2..%d", c.id, m, maxParallel)
		}
	}
}

func TestErrors(t *testing.T) {
	s := &countingStore{Store: openStore(t, model.Facts{}), fail: store.PodsFinished}
	e := New(s, func() time.Time { return at(60, 0) })
	good := Params{From: at(0, 0), To: at(10, 0)}

	_, err := e.Dashboard(context.Background(), "leadership", good)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), "pods_finished") {
		t.Errorf("store failure: err = %v", err)
	}
	var pe *ParamError
	if errors.As(err, &pe) || errors.Is(err, ErrUnknownDashboard) {
		t.Errorf("store failure mistaken for the client's: %v", err)
	}

	if _, err := e.Dashboard(context.Background(), "nope", good); !errors.Is(err, ErrUnknownDashboard) {
		t.Errorf("unknown dashboard: err = %v", err)
	}
	for _, p := range []Params{{}, {From: good.To, To: good.From}, {From: good.From, To: good.From.Add(MaxRange + time.Hour)}} {
		if _, err := e.Dashboard(context.Background(), "engineering", p); !errors.As(err, &pe) {
			t.Errorf("Params %+v: err = %v, want a *ParamError", p, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ok := New(openStore(t, model.Facts{}), nil)
	if _, err := ok.Dashboard(ctx, "engineering", good); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: err = %v", err)
	}
}

// TestUnavailableWidgets checks that widgets without a query carry no numbers.
func TestUnavailableWidgets(t *testing.T) {
	e := New(openStore(t, fleet()), nil)
	d, err := e.Dashboard(context.Background(), "engineering", Params{From: at(0, 0), To: at(10, 0)})
	if err != nil {
		t.Fatal(err)
	}
	def, _ := dashboard.Get("engineering")
	for i, w := range d.Sections[1].Widgets {
		if def.Sections[1].Widgets[i].Available {
			continue
		}
		if w.Available || w.Value != nil || w.Series != nil || w.Values != nil || w.Rows != nil || w.Events != nil || w.Total != nil {
			t.Errorf("%s: %+v", w.ID, w)
		}
		if w.ID != def.Sections[1].Widgets[i].ID {
			t.Errorf("widget %d is %s", i, w.ID)
		}
	}
}

func TestPointJSON(t *testing.T) {
	for _, c := range []struct {
		p    Point
		want string
	}{
		{Point{at(0, 0), Num(3)}, "[1748779200,3]"},
		{Point{at(0, 0).Add(250 * time.Millisecond), Num(66.5)}, "[1748779200.25,66.5]"},
		{Point{at(0, 0), Number{}}, "[1748779200,null]"},
		{Point{at(0, 0), rate(2, 3)}, "[1748779200,66.66666666666667]"},
	} {
		b, err := json.Marshal(c.p)
		if err != nil || string(b) != c.want {
			t.Errorf("%v = %s, %v; want %s", c.p, b, err, c.want)
		}
		var back Point
		if err := json.Unmarshal(b, &back); err != nil || !back.T.Equal(c.p.T) || back.V != c.p.V {
			t.Errorf("%s read back as %v, %v", b, back, err)
		}
	}
}
