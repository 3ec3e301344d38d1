package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batchlens/batchlens/internal/kube"
	"github.com/batchlens/batchlens/internal/ledger"
	"github.com/batchlens/batchlens/internal/query"
	"github.com/batchlens/batchlens/internal/sim"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlite"
)

const cluster = "sim"

var simStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), t.TempDir()+"/demo.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// watch starts a watcher on the cluster with the simulated clock and waits
// for its caches; the returned stop ends it and waits until it has.
func watch(t *testing.T, c *Cluster, clock *Clock, sink kube.Sink) (*kube.Watcher, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := kube.New(c.Client, sink, quiet(), kube.Options{Cluster: cluster, Now: clock.Now})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for w.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatal("informer caches did not sync")
		}
		time.Sleep(time.Millisecond)
	}
	return w, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
	}
}

// TestFleetThroughInformers drives hours of the simulated fleet through a
// fake API server and real informers into SQLite — with a restart of the
// watcher (a full relist) half way — and checks every count against the
// simulator's ground truth, exactly.
func TestFleetThroughInformers(t *testing.T) {
	if testing.Short() {
		t.Skip("drives thousands of object changes")
	}
	ctx := context.Background()
	s := sim.New(sim.Config{Cluster: cluster, Fleet: sim.DefaultFleet(), Seed: 7, Start: simStart})
	st := openStore(t)
	b := store.NewBatcher(st, quiet(), 1000, time.Hour)
	c := NewCluster()
	clock := &Clock{}
	clock.Set(simStart)

	mid, end := simStart.Add(3*time.Hour), simStart.Add(6*time.Hour)
	w, stop := watch(t, c, clock, b)
	if err := Drive(ctx, c, clock, w, s.Advance(mid), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	stop()
	// batchlens restarts: the new watcher relists everything that exists.
	w, stop = watch(t, c, clock, b)
	if err := Drive(ctx, c, clock, w, s.Advance(end), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if runs := s.Truth().Count(store.RunsCreated, store.Buckets{From: simStart, To: end, Step: end.Sub(simStart)}, store.Filter{})[0]; runs < 200 {
		t.Fatalf("only %d runs simulated; the test wants hundreds", runs)
	}
	compare(t, st, s.Truth(), end)
}

// TestBackfill replays the same kind of history straight through the ledger,
// as `batchlens demo` does at start, and checks it against the truth too.
func TestBackfill(t *testing.T) {
	ctx := context.Background()
	s := sim.New(sim.Config{Cluster: cluster, Fleet: sim.DefaultFleet(), Seed: 11, Start: simStart})
	st := openStore(t)
	b := store.NewBatcher(st, quiet(), 5000, time.Hour)
	end := simStart.Add(36 * time.Hour)
	alive, err := Backfill(ctx, &ledger.Ledger{Cluster: cluster}, b, s.Advance(end), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(alive) == 0 {
		t.Error("no object alive after 12h of history: the demo's live phase would start empty")
	}
	compare(t, st, s.Truth(), end)
}

// compare checks every store answer and every widget against the truth over
// the whole history and over sub-ranges, with every kind of filter.
func compare(t *testing.T, st store.Store, truth *sim.Truth, end time.Time) {
	t.Helper()
	ctx := context.Background()
	filters := []store.Filter{{}, {Cluster: cluster}, {Cluster: "other"}}
	namespaces := map[string]bool{}
	for i, sp := range sim.DefaultFleet() {
		if !namespaces[sp.Namespace] {
			namespaces[sp.Namespace] = true
			filters = append(filters, store.Filter{Namespace: sp.Namespace})
		}
		if i%4 == 0 || sp.Schedule == "" { // a spread of CronJobs, and every plain-Job generator
			filters = append(filters, store.Filter{Namespace: sp.Namespace, CronJob: sp.Name})
		}
	}
	ranges := []store.Buckets{
		{From: simStart, To: end, Step: end.Sub(simStart)},
		{From: simStart, To: end, Step: 10 * time.Minute},
		{From: simStart.Add(37 * time.Minute), To: end.Add(-23 * time.Minute), Step: 7 * time.Minute},
	}
	for _, f := range filters {
		for _, b := range ranges {
			for _, m := range store.Metrics() {
				got, err := st.Count(ctx, m, b, f)
				if err != nil {
					t.Fatal(err)
				}
				if want := truth.Count(m, b, f); !slices.Equal(got, want) {
					t.Errorf("Count(%s, %s..%s step %s, %+v):\n got %v\nwant %v", m, b.From.Format(time.TimeOnly), b.To.Format(time.TimeOnly), b.Step, f, got, want)
				}
			}
		}
		var at []time.Time
		for i := time.Duration(0); i <= end.Sub(simStart); i += 10 * time.Minute {
			at = append(at, simStart.Add(i), simStart.Add(i+time.Second))
		}
		got, err := st.PendingAt(ctx, at, f)
		if err != nil {
			t.Fatal(err)
		}
		if want := truth.PendingAt(at, f); !slices.Equal(got, want) {
			t.Errorf("PendingAt(%+v):\n got %v\nwant %v", f, got, want)
		}
		top, err := st.TopCronJobs(ctx, simStart, end, f, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(truth.TopCronJobs(simStart, end, f, 10), top, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("TopCronJobs(%+v) (-truth +store):\n%s", f, diff)
		}
	}
	compareWidgets(t, st, truth, end)
}

// compareWidgets checks the numbers the API serves for both dashboards.
func compareWidgets(t *testing.T, st store.Store, truth *sim.Truth, end time.Time) {
	t.Helper()
	e := query.New(st, func() time.Time { return end })
	for _, r := range []struct{ from, to time.Time }{{end.Add(-time.Hour), end}, {simStart, end}, {simStart.Add(time.Hour), simStart.Add(2 * time.Hour)}} {
		p := query.Params{From: r.from, To: r.to}
		b := store.Buckets{From: r.from, To: r.to, Step: r.to.Sub(r.from)}
		total := func(m store.Metric) float64 { return float64(truth.Count(m, b, store.Filter{})[0]) }
		pct := func(num, den store.Metric) any {
			if total(den) == 0 {
				return nil
			}
			return 100 * total(num) / total(den)
		}
		pendingAt := r.to
		if end.Before(pendingAt) {
			pendingAt = end
		}
		pending := float64(truth.PendingAt([]time.Time{pendingAt}, store.Filter{})[0])
		want := map[string]any{
			"leadership/jobs":                total(store.RunsCreated),
			"leadership/success_rate":        pct(store.PodsSucceeded, store.PodsFinished),
			"leadership/failure_rate":        pct(store.PodsFailed, store.PodsFinished),
			"leadership/pods_failed":         total(store.PodsFailed),
			"leadership/pods_oom":            total(store.PodsOOM),
			"leadership/container_restarts":  total(store.Restarts),
			"leadership/pods_crashloop":      total(store.PodsCrashLoop),
			"leadership/pods_pending":        pending,
			"engineering/jobs":               total(store.RunsCreated),
			"engineering/jobs_succeeded":     total(store.RunsSucceeded),
			"engineering/jobs_failed":        total(store.RunsFailed),
			"engineering/pods_oom":           total(store.PodsOOM),
			"engineering/container_restarts": total(store.Restarts),
			"engineering/pods_crashloop":     total(store.PodsCrashLoop),
			"engineering/pods_bad_phase":     fmt.Sprint(map[string]float64{"Failed": total(store.PodsFailed), "Pending": pending}),
			"engineering/top_cronjobs":       fmt.Sprint(truth.TopCronJobs(r.from, r.to, store.Filter{}, 10)),
			"engineering/events":             total(store.Events),
		}
		for id, k := range map[string]store.Breakdown{"terminated_reasons": store.TerminationsByReason,
			"waiting_reasons": store.WaitsByReason, "restarts_by_container": store.RestartsByContainer} {
			m := map[string]float64{}
			for _, kc := range truth.CountBy(k, b, store.Filter{}) {
				m[kc.Key] = float64(kc.Counts[0])
			}
			want["engineering/"+id] = fmt.Sprint(m)
		}
		got := map[string]any{}
		for _, id := range []string{"leadership", "engineering"} {
			d, err := e.Dashboard(context.Background(), id, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range d.Sections {
				for _, w := range sec.Widgets {
					if v, ok := widgetValue(w); ok {
						got[id+"/"+w.ID] = v
					}
				}
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("widgets over %s..%s (-truth +api):\n%s", r.from.Format(time.TimeOnly), r.to.Format(time.TimeOnly), diff)
		}
	}
}

// widgetValue is a widget's headline figure in a comparable form.
func widgetValue(w query.Widget) (any, bool) {
	switch {
	case !w.Available, w.SeriesInfo != nil, w.Table != nil: // usage: see TestUsageProfile
		return nil, false
	case w.Value != nil:
		if !w.Value.Valid {
			return nil, true
		}
		return w.Value.V, true
	case w.Values != nil:
		m := map[string]float64{}
		for k, v := range w.Values {
			m[k] = v.V
		}
		return fmt.Sprint(m), true
	case w.Kind == "toplist":
		rows := []store.CronJobCount{}
		for _, r := range w.Rows {
			rows = append(rows, store.CronJobCount{Cluster: r.Cluster, Namespace: r.Namespace, CronJob: r.CronJob, Count: r.Value})
		}
		return fmt.Sprint(rows), true
	case w.Total != nil:
		return float64(*w.Total), true
	}
	return nil, false
}

// TestUsageProfile samples 12 simulated hours of the fleet's kubelets
// through the Poller (Summary API and cAdvisor documents decoded as from a
// real kubelet) into SQLite, and checks the resource widgets against the
// usage profile: each CronJob's core-seconds within what sampling every
// interval can miss, and the OOM-risk flag.
func TestUsageProfile(t *testing.T) {
	ctx := context.Background()
	const interval = 15 * time.Second
	s := sim.New(sim.Config{Cluster: cluster, Fleet: sim.DefaultFleet(), Seed: 5, Start: simStart})
	end := simStart.Add(12 * time.Hour)
	ops := s.Advance(end)
	st := openStore(t)
	b := store.NewBatcher(st, quiet(), 5000, time.Hour)
	if _, err := Backfill(ctx, &ledger.Ledger{Cluster: cluster}, b, ops, nil); err != nil {
		t.Fatal(err)
	}
	if err := SampleHistory(ctx, s.Truth(), &sync.Mutex{}, b, cluster, simStart, end, interval, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	for _, r := range []struct{ from, to time.Time }{{simStart, end}, {simStart.Add(2 * time.Hour), simStart.Add(5 * time.Hour)}} {
		bk := store.Buckets{From: r.from, To: r.to, Step: 15 * time.Minute}
		got, err := st.UsageTotals(ctx, bk, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]store.Usage{}
		for _, c := range got {
			byName[c.Namespace+"/"+c.CronJob] = c.Usage
		}
		truth := s.Truth().Usage(r.from, r.to, store.Filter{}, interval)
		if len(truth) < 15 {
			t.Fatalf("only %d CronJobs used resources", len(truth))
		}
		for _, u := range truth {
			name := u.Namespace + "/" + u.CronJob
			cpu := float64(byName[name].CPUNanos) / 1e9
			// A sample's usage counts in its minute: at the range's
			// edges up to a minute of usage moves in or out.
			slack := u.CPUSeconds / r.to.Sub(r.from).Seconds() * 60 * 2
			if cpu > u.CPUSeconds+slack+1e-6 || cpu < u.CPUSeconds-u.Unseen-slack-1e-6 {
				t.Errorf("%s %s..%s: %.3f core-seconds sampled, truth %.3f (up to %.3f unseen)",
					name, r.from.Format(time.TimeOnly), r.to.Format(time.TimeOnly), cpu, u.CPUSeconds, u.Unseen)
			}
		}
	}

	// The OOM-risk flag: rules-backtest creeps to 93% of its limit; a
	// CronJob whose pods never went over 90% is never flagged.
	e := query.New(st, func() time.Time { return end })
	d, err := e.Dashboard(ctx, "engineering", query.Params{From: simStart, To: end})
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]float64{}
	for _, u := range s.Truth().Usage(simStart, end, store.Filter{}, interval) {
		truth[u.Namespace+"/"+u.CronJob] = u.PeakRatio
	}
	flagged := false
	for _, row := range d.Sections[0].Widgets[9].Table.Rows {
		name := row.Namespace + "/" + row.CronJob
		if row.OOMRisk && truth[name] <= store.OOMRiskRatio {
			t.Errorf("%s flagged at OOM risk, but its pods peaked at %.0f%% of their limit", name, 100*truth[name])
		}
		if name == "fraud/rules-backtest" {
			flagged = row.OOMRisk
		}
	}
	if !flagged {
		t.Error("fraud/rules-backtest, whose memory creeps to 93% of its limit, is not flagged")
	}
}
