package query

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

const (
	gib = 1 << 30
	big = 1900 << 20 // p2's working set
)

// usageFacts: pod p1 of CronJob etl uses half a core and 1 GiB for two
// samples in minute 0; pod p2 of train uses two cores and 1900 MiB, 95% of its limit (over 90%) in minute 2.
func usageFacts() model.Facts {
	sample := func(pod, cronJob string, at time.Time, cores float64, mem int64, ratio float64, errs int64) model.Sample {
		return model.Sample{Cluster: "c1", Namespace: "ds", PodUID: pod, Pod: pod + "-x", RunUID: "run-" + pod, CronJob: cronJob,
			At: at, Window: 15 * time.Second, CPUNanos: int64(cores * 15e9), CPUNanoCores: int64(cores * 1e9),
			MemoryBytes: mem, MemoryRatio: ratio, StorageBytes: 4096, NetRx: 1500, NetTx: 1500, NetRxErrors: errs, DiskRead: 600}
	}
	return model.Facts{
		Containers: []model.Container{{Cluster: "c1", PodUID: "p1", Name: "main", CPURequest: 500, CPULimit: 1000, MemoryLimit: 2 * gib}},
		Samples: []model.Sample{
			sample("p1", "etl", at(0, 15), 0.5, gib, 0.5, 0),
			sample("p1", "etl", at(0, 30), 0.5, gib, 0.5, 1),
			sample("p2", "train", at(2, 15), 2, big, 0.95, 0),
		},
	}
}

func TestUsageWidgets(t *testing.T) {
	e := New(openStore(t, usageFacts()), func() time.Time { return at(60, 0) })
	p := Params{From: at(0, 0), To: at(10, 0)}
	d, err := e.Dashboard(context.Background(), "engineering", p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Widget{}
	for _, s := range d.Sections {
		for _, w := range s.Widgets {
			got[w.ID] = w
		}
	}
	b := store.Buckets{From: p.From, To: p.To, Step: time.Minute}
	info := func(cronJob string) SeriesInfo {
		return SeriesInfo{Name: "ds/" + cronJob, Cluster: "c1", Namespace: "ds", CronJob: cronJob}
	}
	want := map[string]Widget{
		// Core-seconds ÷ bucket seconds: 15 ÷ 60 and 30 ÷ 60; over the
		// range 15 ÷ 600 and 30 ÷ 600. train used more, so it comes first.
		"cpu_by_cronjob": {
			Series: []Series{
				{"ds/train", pts(b, 0, 0, Num(0.5), 0, 0, 0, 0, 0, 0, 0)},
				{"ds/etl", pts(b, Num(0.25), 0, 0, 0, 0, 0, 0, 0, 0, 0)},
			},
			Values:     map[string]Number{"ds/train": Num(0.05), "ds/etl": Num(0.025)},
			SeriesInfo: []SeriesInfo{info("train"), info("etl")},
		},
		// Byte-seconds ÷ bucket seconds: 2 × 1 GiB × 15 s ÷ 60 s; etl
		// used more memory-time than train.
		"memory_by_cronjob": {
			Series: []Series{
				{"ds/etl", pts(b, Num(gib/2), 0, 0, 0, 0, 0, 0, 0, 0, 0)},
				{"ds/train", pts(b, 0, 0, Num(big*15/60), 0, 0, 0, 0, 0, 0, 0)},
			},
			Values:     map[string]Number{"ds/train": Num(big * 15 / 600.0), "ds/etl": Num(gib * 30 / 600.0)},
			SeriesInfo: []SeriesInfo{info("etl"), info("train")},
		},
		"network_errors_by_cronjob": {
			Series: []Series{
				{"ds/etl", pts(b, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0)},
				{"ds/train", pts(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)},
			},
			Values:     map[string]Number{"ds/train": Num(0), "ds/etl": Num(1)},
			SeriesInfo: []SeriesInfo{info("etl"), info("train")},
		},
		// Over the sampled time: p1 used half a core while it was sampled.
		"cpu_by_pod": {
			Series: []Series{
				{"p2-x", pts(b, nil, nil, Num(2), nil, nil, nil, nil, nil, nil, nil)},
				{"p1-x", pts(b, Num(0.5), nil, nil, nil, nil, nil, nil, nil, nil, nil)},
			},
			Values: map[string]Number{"p2-x": Num(2), "p1-x": Num(0.5)},
			SeriesInfo: []SeriesInfo{
				{Name: "p2-x", Cluster: "c1", Namespace: "ds", CronJob: "train", Pod: "p2-x", Request: &Number{}, Limit: &Number{}},
				{Name: "p1-x", Cluster: "c1", Namespace: "ds", CronJob: "etl", Pod: "p1-x", Request: ptr(Num(0.5)), Limit: ptr(Num(1))},
			},
		},
		"memory_by_pod": {
			Series: []Series{
				{"p2-x", pts(b, nil, nil, Num(big), nil, nil, nil, nil, nil, nil, nil)},
				{"p1-x", pts(b, Num(gib), nil, nil, nil, nil, nil, nil, nil, nil, nil)},
			},
			Values: map[string]Number{"p2-x": Num(big), "p1-x": Num(gib)},
			SeriesInfo: []SeriesInfo{
				{Name: "p2-x", Cluster: "c1", Namespace: "ds", CronJob: "train", Pod: "p2-x", Request: &Number{}, Limit: &Number{}},
				{Name: "p1-x", Cluster: "c1", Namespace: "ds", CronJob: "etl", Pod: "p1-x", Request: &Number{}, Limit: ptr(Num(2 * gib))},
			},
		},
	}
	for id, w := range want {
		if d := cmp.Diff(numbers(t, w), numbers(t, got[id])); d != "" {
			t.Errorf("%s (-want +got):\n%s", id, d)
		}
	}

	table := got["cronjob_resources"].Table
	if table == nil || len(table.Rows) != 2 {
		t.Fatalf("cronjob_resources: %+v", table)
	}
	train, etl := table.Rows[0], table.Rows[1]
	if train.CronJob != "train" || !train.OOMRisk || etl.CronJob != "etl" || etl.OOMRisk {
		t.Errorf("rows %+v, %+v: want train at OOM risk first, then etl", train, etl)
	}
	wantEtl := map[string]Number{
		"cpu_avg": Num(0.025), "cpu_peak": Num(0.5), "cpu_core_seconds": Num(15),
		"memory_avg": Num(gib * 30 / 600.0), "memory_peak": Num(gib), "memory_peak_pct": Num(50),
		"memory_gb_seconds": Num(gib * 30 / 1e9), "disk_read": Num(1200), "disk_write": Num(0),
		"net_rx": Num(3000), "net_tx": Num(3000), "net_errors": Num(1), "runs_at_risk": Num(0),
	}
	if d := cmp.Diff(wantEtl, etl.Cells); d != "" {
		t.Errorf("etl's row (-want +got):\n%s", d)
	}
	if train.Cells["runs_at_risk"] != Num(1) || train.Cells["memory_peak_pct"] != Num(95) {
		t.Errorf("train's row: %+v", train.Cells)
	}
}

// TestUsageUnavailable: without access to kubelet stats, the usage
// widgets say why and carry no numbers; the others are unaffected.
func TestUsageUnavailable(t *testing.T) {
	e := New(openStore(t, usageFacts()), func() time.Time { return at(60, 0) }).
		WithUsageStatus(func() error { return errors.New("no get on nodes/proxy") })
	d, err := e.Dashboard(context.Background(), "engineering", Params{From: at(0, 0), To: at(10, 0)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range d.Sections {
		for _, w := range s.Widgets {
			if !usageWidget(w.ID) {
				if w.ID == "jobs" && w.Value == nil {
					t.Error("jobs lost its value")
				}
				continue
			}
			n++
			if w.Available || !strings.Contains(w.Reason, "no get on nodes/proxy") || w.Series != nil || w.Table != nil || w.Values != nil {
				t.Errorf("%s: %+v", w.ID, w)
			}
		}
	}
	if n != 11 {
		t.Errorf("%d usage widgets, want 11", n)
	}
}

// TestWidget: one widget alone is the same as in its dashboard.
func TestWidget(t *testing.T) {
	e := New(openStore(t, usageFacts()), func() time.Time { return at(60, 0) })
	p := Params{From: at(0, 0), To: at(10, 0)}
	d, err := e.Dashboard(context.Background(), "engineering", p)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"cpu_by_cronjob", "cronjob_resources", "memory_by_pod", "jobs", "pods_bad_phase"} {
		w, err := e.Widget(context.Background(), "engineering", id, p)
		if err != nil {
			t.Fatal(err)
		}
		var want Widget
		for _, s := range d.Sections {
			for _, x := range s.Widgets {
				if x.ID == id {
					want = x
				}
			}
		}
		if diff := cmp.Diff(want, w); diff != "" {
			t.Errorf("%s alone (-in dashboard +alone):\n%s", id, diff)
		}
	}
	if _, err := e.Widget(context.Background(), "leadership", "cpu_by_cronjob", p); !errors.Is(err, ErrUnknownWidget) {
		t.Errorf("a widget of another dashboard: err = %v", err)
	}
	if _, err := e.Widget(context.Background(), "nope", "jobs", p); !errors.Is(err, ErrUnknownDashboard) {
		t.Errorf("unknown dashboard: err = %v", err)
	}
}
