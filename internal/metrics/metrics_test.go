package metrics

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/batchlens/batchlens/internal/demo"
	"github.com/batchlens/batchlens/internal/ledger"
	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/sim"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlite"
)

const cluster = "sim"

var simStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fleet writes the simulated fleet's history up to each of ends into st, in
// turn, calling after (if not nil) once each end is written. It returns the
// simulator, whose Truth is the ground truth of what was written.
func fleet(t *testing.T, st store.Store, seed uint64, after func(end time.Time), ends ...time.Time) *sim.Sim {
	t.Helper()
	ctx := context.Background()
	s := sim.New(sim.Config{Cluster: cluster, Fleet: sim.DefaultFleet(), Seed: int64(seed), Start: simStart})
	b := store.NewBatcher(st, quiet(), 5000, time.Hour)
	for _, end := range ends {
		if _, err := demo.Backfill(ctx, &ledger.Ledger{Cluster: cluster}, b, s.Advance(end), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if after != nil {
			after(end)
		}
	}
	return s
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// series is what a scrape shows: value by family, then by labels.
type series map[string]map[labels]float64

// labels are a point's cluster, namespace, cronjob and class labels.
type labels struct{ cluster, namespace, cronjob, class string }

func scrape(t *testing.T, st store.Store, now time.Time) series {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(st, func() time.Time { return now }, quiet(), 10*time.Second, nil))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := series{}
	for _, mf := range mfs {
		m := map[labels]float64{}
		for _, x := range mf.GetMetric() {
			var k labels
			for _, l := range x.GetLabel() {
				switch l.GetName() {
				case "cluster":
					k.cluster = l.GetValue()
				case "namespace":
					k.namespace = l.GetValue()
				case "cronjob":
					k.cronjob = l.GetValue()
				default:
					k.class = l.GetValue()
				}
			}
			m[k] = value(mf.GetType(), x)
		}
		out[mf.GetName()] = m
	}
	return out
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	if t == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// sum adds the values of family f whose labels pass keep.
func (s series) sum(f string, keep func(k labels) bool) float64 {
	var n float64
	for k, v := range s[f] {
		if keep(k) {
			n += v
		}
	}
	return n
}

// TestCollectorCountsTheLedger checks every counter against the simulator's
// ground truth, in total and per CronJob, and that a restart of batchlens
// (the store closed and opened again) shows the same counters.
func TestCollectorCountsTheLedger(t *testing.T) {
	path := t.TempDir() + "/m.db"
	st := openStore(t, path)
	end := simStart.Add(12 * time.Hour)
	truth := fleet(t, st, 3, nil, end).Truth()
	got := scrape(t, st, end)

	all := store.Buckets{From: simStart.Add(-time.Hour), To: end.Add(time.Hour), Step: 14 * time.Hour}
	cases := []struct {
		family, class string
		metric        store.Metric
	}{
		{JobRuns, "created", store.RunsCreated},
		{JobRuns, "succeeded", store.RunsSucceeded},
		{JobRuns, "failed", store.RunsFailed},
		{PodsFinished, model.PhaseSucceeded, store.PodsSucceeded},
		{PodsFinished, model.PhaseFailed, store.PodsFailed},
		{PodFailures, "", store.PodsFailed}, // all reasons
		{OOMKills, "", store.PodsOOM},
		{CrashLoops, "", store.PodsCrashLoop},
		{Restarts, "", store.Restarts},
	}
	filters := []store.Filter{{}}
	for _, sp := range sim.DefaultFleet() {
		if sp.Schedule != "" {
			filters = append(filters, store.Filter{Cluster: cluster, Namespace: sp.Namespace, CronJob: sp.Name})
		}
	}
	for _, tc := range cases {
		for _, f := range filters {
			want := truth.Count(tc.metric, all, f)[0]
			n := got.sum(tc.family, func(k labels) bool {
				if tc.class != "" && k.class != tc.class {
					return false
				}
				return f.CronJob == "" || k == labels{f.Cluster, f.Namespace, f.CronJob, k.class}
			})
			if n != float64(want) || want == 0 && f.CronJob == "" {
				t.Errorf("%s{%s} %+v = %v, truth %d", tc.family, tc.class, f, n, want)
			}
		}
	}
	pending := got.sum(Pods, func(k labels) bool { return k.class == model.PhasePending })
	if want := truth.PendingAt([]time.Time{end}, store.Filter{})[0]; pending != float64(want) || want == 0 {
		t.Errorf("%s{phase=Pending} = %v, truth %d", Pods, pending, want)
	}
	for k := range got[Pods] {
		age, ok := got[PendingAge][labels{k.cluster, k.namespace, k.cronjob, ""}]
		if k.class == model.PhasePending && (!ok || age < 0 || age > end.Sub(simStart).Seconds()) {
			t.Errorf("%s%v = %v (%v), want the age of a pod of the history", PendingAge, k, age, ok)
		}
	}
	if len(got[PendingAge]) != len(pendingGroups(got)) {
		t.Errorf("%d %s series for %d groups with Pending pods", len(got[PendingAge]), PendingAge, len(pendingGroups(got)))
	}
	if len(got[LastSuccess]) == 0 {
		t.Errorf("no %s", LastSuccess)
	}
	for _, v := range got[LastSuccess] {
		if v < float64(simStart.Unix()) || v > float64(end.Unix()) {
			t.Errorf("%s = %v, outside the history", LastSuccess, v)
		}
	}

	// A restart: the same store opened again shows the same counters.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	defer st.Close()
	again := scrape(t, st, end)
	for _, f := range Families() {
		if f.Kind != Counter {
			continue
		}
		for k, v := range got[f.Name] {
			if again[f.Name][k] != v {
				t.Errorf("after a restart %s%v = %v, was %v", f.Name, k, again[f.Name][k], v)
			}
		}
	}
}

func pendingGroups(s series) map[labels]bool {
	out := map[labels]bool{}
	for k := range s[Pods] {
		if k.class == model.PhasePending {
			out[labels{k.cluster, k.namespace, k.cronjob, ""}] = true
		}
	}
	return out
}
