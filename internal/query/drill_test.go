package query

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/store"
)

// TestItems checks the items behind every number of fleet, by hand, and that
// each list's total is the widget's own number.
func TestItems(t *testing.T) {
	ctx := context.Background()
	e := New(openStore(t, fleet()), func() time.Time { return at(60, 0) })
	p := Params{From: at(0, 0), To: at(10, 0)}
	uids := func(it Items) []string {
		var out []string
		for _, r := range it.Runs {
			out = append(out, r.UID)
		}
		for _, p := range it.Pods {
			out = append(out, p.UID)
		}
		for _, e := range it.Events {
			out = append(out, e.InvolvedUID)
		}
		return out
	}
	f := func(dash, widget, series string, p Params, kind string, total int64, want ...string) {
		t.Helper()
		it, err := e.Items(ctx, dash, widget, series, p)
		if err != nil {
			t.Fatalf("Items(%s, %s, %q): %v", dash, widget, series, err)
		}
		if it.Kind != kind || it.Total != total || !slices.Equal(uids(it), want) || it.Truncated {
			t.Errorf("Items(%s, %s, %q) = %s total %d %v truncated %v; want %s total %d %v", dash, widget, series,
				it.Kind, it.Total, uids(it), it.Truncated, kind, total, want)
		}
		// The total is the number the dashboard shows.
		d, err := e.Dashboard(ctx, dash, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range d.Sections {
			for _, w := range s.Widgets {
				if w.ID != widget {
					continue
				}
				var shown Number
				switch {
				case w.Values != nil:
					shown = w.Values[series]
				case w.Total != nil:
					shown = Num(float64(*w.Total))
				case w.Unit == "%":
					return // a rate: its items are its numerator
				case w.Value != nil:
					shown = *w.Value
				}
				if !shown.Valid && total != 0 || shown.Valid && shown.V != float64(total) {
					t.Errorf("%s/%s %q: total %d, dashboard shows %+v", dash, widget, series, total, shown)
				}
			}
		}
	}
	f("leadership", "jobs", "", p, "runs", 5, "r7", "r4", "r3", "r2", "r1")
	f("engineering", "jobs_succeeded", "", p, "runs", 3, "r4", "r1", "r0")
	f("engineering", "jobs_failed", "", p, "runs", 2, "r7", "r2")
	f("leadership", "success_rate", "", p, "pods", 2, "p4", "p1")
	f("leadership", "failure_rate", "", p, "pods", 2, "p8", "p2")
	f("leadership", "pods_failed", "", p, "pods", 2, "p8", "p2")
	f("leadership", "pods_oom", "", p, "pods", 2, "p8", "p2")
	f("leadership", "container_restarts", "", p, "pods", 3, "p2", "p6")
	f("leadership", "pods_crashloop", "", p, "pods", 1, "p2")
	f("leadership", "pods_pending", "", p, "pods", 1, "p3")
	f("engineering", "pods_bad_phase", "Pending", p, "pods", 1, "p3")
	f("engineering", "pods_bad_phase", "Failed", p, "pods", 2, "p8", "p2")
	f("engineering", "events", "", p, "events", 5, "p8", "p4", "r2", "etl", "p2")
	f("engineering", "terminated_reasons", "OOMKilled", p, "pods", 4, "p8", "p2", "p6")
	f("engineering", "terminated_reasons", "Completed", p, "pods", 1, "p1")
	f("engineering", "waiting_reasons", "CrashLoopBackOff", p, "pods", 3, "p2", "p6")
	f("engineering", "restarts_by_container", "main", p, "pods", 3, "p2", "p6")
	f("engineering", "restarts_by_container", "sidecar", p, "pods", 0)
	cj := p
	cj.Filter = store.Filter{CronJob: "etl"}
	f("leadership", "jobs", "", cj, "runs", 2, "r2", "r1")
	f("leadership", "pods_oom", "", cj, "pods", 1, "p2")
	// Pending at 12:04:10: p3 and p5 (p5 is etl's through its run).
	early := Params{From: at(0, 0), To: at(4, 10)}
	f("leadership", "pods_pending", "", early, "pods", 2, "p3", "p5")
	future := Params{From: at(70, 0), To: at(80, 0)}
	f("leadership", "pods_pending", "", future, "pods", 0)

	for _, tc := range []struct {
		dash, widget, series string
		param                bool
		err                  error
	}{
		{"nope", "jobs", "", false, ErrUnknownDashboard},
		{"leadership", "nope", "", false, ErrUnknownWidget},
		{"leadership", "jobs_failed", "", false, ErrUnknownWidget}, // only on engineering
		{"engineering", "pods_bad_phase", "", true, nil},
		{"engineering", "pods_bad_phase", "Running", true, nil},
		{"leadership", "jobs", "Failed", true, nil},
		{"engineering", "top_cronjobs", "", true, nil},
		{"engineering", "terminated_reasons", "", true, nil},
		{"engineering", "cpu_by_cronjob", "", true, nil},
	} {
		_, err := e.Items(ctx, tc.dash, tc.widget, tc.series, p)
		var pe *ParamError
		if tc.param && !errors.As(err, &pe) || tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("Items(%s, %s, %q) error = %v", tc.dash, tc.widget, tc.series, err)
		}
	}
}

func TestRunPodCronJob(t *testing.T) {
	ctx := context.Background()
	e := New(openStore(t, fleet()), func() time.Time { return at(60, 0) })

	r, err := e.Run(ctx, "c1", "r2")
	if err != nil {
		t.Fatal(err)
	}
	var pods []string
	for _, p := range r.Pods {
		pods = append(pods, p.Pod.UID)
	}
	if r.Run.Outcome != "Failed" || !slices.Equal(pods, []string{"p2", "p5"}) {
		t.Errorf("Run r2 = %s with pods %v", r.Run.Outcome, pods)
	}
	if got := r.Pods[0]; len(got.Terminations) != 3 || got.Terminations[0].Reason != "OOMKilled" ||
		got.Terminations[0].ExitCode != 137 || len(got.Restarts) != 2 || len(got.Waits) != 2 {
		t.Errorf("evidence of p2 = %+v", got)
	}
	if len(r.Events) != 2 || r.Events[0].Reason != "BackoffLimitExceeded" || r.Events[1].Reason != "BackOff" {
		t.Errorf("events of r2 = %+v", r.Events)
	}

	p, err := e.Pod(ctx, "c2", "p8")
	if err != nil {
		t.Fatal(err)
	}
	if p.Run == nil || p.Run.UID != "r7" || len(p.Terminations) != 1 || len(p.Events) != 1 {
		t.Errorf("Pod p8 = %+v", p)
	}
	for _, err := range []error{
		func() error { _, err := e.Run(ctx, "c2", "r2"); return err }(),
		func() error { _, err := e.Pod(ctx, "c1", "nope"); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown run or pod: %v, want ErrNotFound", err)
		}
	}

	c, err := e.CronJob(ctx, "c1", "ds", "etl", Params{From: at(0, 0), To: at(10, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, r := range c.Runs {
		runs = append(runs, r.UID)
	}
	if c.RunsCreated != 2 || c.RunsSucceeded != 2 || c.RunsFailed != 1 || c.SuccessRate != rate(2, 3) ||
		!slices.Equal(runs, []string{"r2", "r1"}) || len(c.FailureReasons) != 1 || c.FailureReasons[0].Count != 1 ||
		len(c.Events) != 3 {
		t.Errorf("CronJob etl = %+v", c)
	}
	if _, err := e.CronJob(ctx, "c1", "ds", "etl", Params{From: at(10, 0), To: at(0, 0)}); err == nil {
		t.Error("CronJob over an empty range: no error")
	}
}
