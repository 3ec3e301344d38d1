package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// sample is a 15-second look at pod uid of run "r-"+uid at d, using
// cores CPU and mem bytes of memory (ratio of a 1000-byte limit).
func sample(uid string, d time.Duration, cores float64, mem int64) model.Sample {
	return model.Sample{
		Cluster: "c1", Namespace: "ml", PodUID: uid, Pod: "pod-" + uid, RunUID: "r-" + uid,
		At: at(d), Window: 15 * time.Second,
		CPUNanos: int64(cores * 15e9), CPUNanoCores: int64(cores * 1e9),
		MemoryBytes: mem, RSSBytes: mem / 2, MemoryRatio: float64(mem) / 1000, StorageBytes: 100,
		DiskRead: 10, DiskWrite: 20, NetRx: 1000, NetTx: 500, NetRxErrors: 1, NetTxErrors: 2,
	}
}

func (s suite) testUsageRollups(t *testing.T) {
	ctx := context.Background()
	st := s.store(t)
	// The run is written after the samples: they get its CronJob from it
	// only when it is known first, so here the first look names it.
	a := sample("a", 30*time.Second, 0.5, 400)
	a.CronJob = "train"
	b := sample("a", 45*time.Second, 1, 950) // over 90% of the limit
	b.CronJob = "train"
	c := sample("a", hour+30*time.Second, 2, 600)
	write(t, st, model.Facts{Runs: []model.Run{{Cluster: "c1", Namespace: "ml", UID: "r-a", CronJob: "train"}}},
		model.Facts{Samples: []model.Sample{a, b}}, model.Facts{Samples: []model.Sample{c}})
	// Written again, in another order: nothing changes.
	write(t, st, model.Facts{Samples: []model.Sample{c, b, a}})

	per := func(samples ...model.Sample) store.Usage {
		var u store.Usage
		for _, x := range samples {
			u.Add(store.Usage{
				CPUNanos: x.CPUNanos, Window: x.Window, MemorySeconds: float64(x.MemoryBytes) * 15,
				StorageSeconds: 1500, DiskRead: 10, DiskWrite: 20, NetRx: 1000, NetTx: 500, NetErrors: 3,
				PeakMemory: x.MemoryBytes, PeakRatio: x.MemoryRatio, PeakNanoCores: x.CPUNanoCores,
			})
		}
		return u
	}
	risky := func(u store.Usage) store.Usage { u.RunsAtRisk = 1; return u }

	train := store.CronJobKey{Cluster: "c1", Namespace: "ml", CronJob: "train"}
	for _, tc := range []struct {
		name   string
		b      store.Buckets
		filt   store.Filter
		totals []store.CronJobTotal
		sums   []store.Usage
	}{
		{"minutes", store.Buckets{From: at(0), To: at(2 * hour), Step: 30 * minute}, store.Filter{},
			[]store.CronJobTotal{{CronJobKey: train, Usage: risky(per(a, b, c))}}, []store.Usage{risky(per(a, b)), {}, per(c), {}}},
		{"hours", store.Buckets{From: at(0), To: at(2 * hour), Step: hour}, store.Filter{CronJob: "train"},
			[]store.CronJobTotal{{CronJobKey: train, Usage: risky(per(a, b, c))}}, []store.Usage{risky(per(a, b)), per(c)}},
		// The six-hour block of 12:00 begins at 12:00 UTC.
		{"blocks", store.Buckets{From: at(-6 * hour), To: at(18 * hour), Step: 6 * hour}, store.Filter{Namespace: "ml"},
			[]store.CronJobTotal{{CronJobKey: train, Usage: risky(per(a, b, c))}}, []store.Usage{{}, risky(per(a, b, c)), {}, {}}},
		// A minute counts where it begins: 12:00:30 is in minute 12:00,
		// which begins before 12:00:10.
		{"unit begins before the range", store.Buckets{From: at(10 * time.Second), To: at(hour), Step: hour}, store.Filter{},
			nil, []store.Usage{{}}},
		{"other cluster", store.Buckets{From: at(0), To: at(2 * hour), Step: hour}, store.Filter{Cluster: "c2"},
			nil, []store.Usage{{}, per(c)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			totals, err := st.UsageTotals(ctx, tc.b, tc.filt)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "UsageTotals", tc.totals, totals)
			if tc.name == "other cluster" {
				return
			}
			got, err := st.UsageByCronJob(ctx, tc.b, []store.CronJobKey{train, {Cluster: "c1", Namespace: "ml", CronJob: "none"}})
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "UsageByCronJob", []store.CronJobUsage{
				{CronJobKey: train, Sums: tc.sums},
				{CronJobKey: store.CronJobKey{Cluster: "c1", Namespace: "ml", CronJob: "none"}, Sums: make([]store.Usage, tc.b.N())},
			}, got)
		})
	}

	run, err := st.RunUsage(ctx, "c1", "r-a")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "RunUsage", per(a, b, c), run)
	if none, err := st.RunUsage(ctx, "c1", "r-none"); err != nil || none != (store.Usage{}) {
		t.Errorf("RunUsage of a run without samples = %+v, %v", none, err)
	}
}

func (s suite) testUsageByPod(t *testing.T) {
	ctx := context.Background()
	st := s.store(t)
	write(t, st, model.Facts{
		Containers: []model.Container{
			{Cluster: "c1", PodUID: "a", Name: "main", CPURequest: 500, MemoryRequest: 256, MemoryLimit: 1000},
			{Cluster: "c1", PodUID: "a", Name: "sidecar", CPURequest: 100, CPULimit: 200, MemoryRequest: 64, MemoryLimit: 128},
			{Cluster: "c1", PodUID: "b", Name: "main", CPURequest: 1000, CPULimit: 2000},
		},
		Samples: []model.Sample{
			sample("a", 0, 0.5, 300), sample("a", 15*time.Second, 0.5, 500),
			sample("b", 0, 2, 100), sample("c", 0, 0.1, 100),
		},
	})
	b := store.Buckets{From: at(0), To: at(2 * minute), Step: minute}
	got, err := st.UsageByPod(ctx, b, store.Filter{Namespace: "ml"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	u := func(samples ...model.Sample) store.Usage {
		var u store.Usage
		for _, x := range samples {
			u.Add(store.Usage{CPUNanos: x.CPUNanos, Window: x.Window, MemorySeconds: float64(x.MemoryBytes) * 15,
				StorageSeconds: 1500, DiskRead: 10, DiskWrite: 20, NetRx: 1000, NetTx: 500, NetErrors: 3,
				PeakMemory: x.MemoryBytes, PeakRatio: x.MemoryRatio, PeakNanoCores: x.CPUNanoCores})
		}
		return u
	}
	want := []store.PodUsage{
		{Cluster: "c1", Namespace: "ml", UID: "b", Name: "pod-b", CPURequest: 1000, CPULimit: 2000,
			Sums: []store.Usage{u(sample("b", 0, 2, 100)), {}}, PeakStorage: []int64{100, 0}, Samples: []int64{1, 0}},
		// The main container has no CPU limit, so the pod has none.
		{Cluster: "c1", Namespace: "ml", UID: "a", Name: "pod-a", CPURequest: 600, MemoryRequest: 320, MemoryLimit: 1128,
			Sums:        []store.Usage{u(sample("a", 0, 0.5, 300), sample("a", 15*time.Second, 0.5, 500)), {}},
			PeakStorage: []int64{100, 0}, Samples: []int64{2, 0}},
	}
	diff(t, "UsageByPod", want, got)
}

func (s suite) testPrune(t *testing.T) {
	ctx := context.Background()
	st := s.store(t)
	write(t, st, model.Facts{Samples: []model.Sample{
		sample("a", 0, 1, 100), sample("a", 2*hour, 1, 100), sample("a", 4*hour, 1, 100),
	}})
	// Raw samples before 3h go (2), rollup units before 1h too (a minute,
	// an hour; the block of 12:00 begins before 13:00 too). The pod's
	// summary stays: its last sample is at 4h.
	n, err := st.Prune(ctx, at(3*hour), at(hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("Prune deleted %d rows, want 5", n)
	}
	b := store.Buckets{From: at(0), To: at(5 * hour), Step: hour}
	pods, err := st.UsageByPod(ctx, b, store.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 || pods[0].Samples[4] != 1 || pods[0].Samples[2] != 0 {
		t.Errorf("raw samples after prune: %+v", pods)
	}
	jobs, err := st.UsageByCronJob(ctx, b, []store.CronJobKey{{Cluster: "c1", Namespace: "ml"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Sums[0].CPUNanos != 0 || jobs[0].Sums[2].CPUNanos != 15e9 {
		t.Errorf("rollups after prune: %+v", jobs)
	}
	// Run summaries stay.
	if u, err := st.RunUsage(ctx, "c1", "r-a"); err != nil || u.CPUNanos != 45e9 {
		t.Errorf("RunUsage after prune = %+v, %v", u, err)
	}
}
