package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/metrics"
	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/query"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlstore"
)

// The generated history of the query benchmarks: benchCronJobs CronJobs,
// each starting benchRunsPerCronJob runs (one pod each) evenly over
// benchDays days ending at benchEnd. Change benchDataVersion whenever the
// generator changes, so that a cached file of an older history is rebuilt.
const (
	benchDataVersion    = 4
	benchDays           = 30
	benchCronJobs       = 500
	benchRunsPerCronJob = 2000
	benchNamespaces     = 20
	benchSlotsPerWrite  = 10 // runs of every CronJob per Write: 5,000 runs, ~21,000 facts
)

func benchEnd() time.Time { return time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC) }

func benchStart() time.Time { return benchEnd().AddDate(0, 0, -benchDays) }

// benchNow is when the benchmarks ask: a few hours before the history ends,
// at no whole minute, as "now" would be.
func benchNow() time.Time {
	return benchEnd().Add(-7*time.Hour - 13*time.Minute - 17*time.Second - 123*time.Millisecond)
}

// benchStore opens the cached history, generating it first when absent.
func benchStore(b *testing.B) *Store {
	b.Helper()
	path := filepath.Join(os.TempDir(),
		fmt.Sprintf("batchlens-bench-v%d-schema%d.db", benchDataVersion, sqlstore.SchemaVersion()))
	done := path + ".done"
	if _, err := os.Stat(done); err != nil {
		generate(b, path)
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s := open(b, path)
	b.Cleanup(func() { s.Close() })
	return s
}

func generate(b *testing.B, path string) {
	b.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
	s := open(b, path)
	defer s.Close()
	ctx := context.Background()
	g := newHistory()
	if err := s.Write(ctx, model.Facts{CronJobs: g.cronJobs()}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var facts int
	for slot := 0; slot < benchRunsPerCronJob; slot += benchSlotsPerWrite {
		var f model.Facts
		for k := slot; k < slot+benchSlotsPerWrite; k++ {
			for j := range benchCronJobs {
				g.run(&f, j, k)
			}
		}
		if err := s.Write(ctx, f); err != nil {
			b.Fatal(err)
		}
		facts += count(f)
		if slot%(benchRunsPerCronJob/10) == 0 {
			b.Logf("generating %s: %d%%, %d facts, %.0f facts/s", path, 100*slot/benchRunsPerCronJob, facts,
				float64(facts)/time.Since(start).Seconds())
		}
	}
	if _, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %s: %d facts in %v (%.0f facts/s), %d MiB", path, facts, time.Since(start).Round(time.Second),
		float64(facts)/time.Since(start).Seconds(), st.Size()>>20)
}

func count(f model.Facts) int {
	return len(f.CronJobs) + len(f.Runs) + len(f.Pods) + len(f.Terminations) + len(f.Restarts) + len(f.Waits) + len(f.Events)
}

// history generates runs deterministically.
type history struct {
	rng *rand.Rand
	uid int
}

func newHistory() *history { return &history{rng: rand.New(rand.NewPCG(1, 2))} }

func (g *history) newUID() string {
	g.uid++
	return fmt.Sprintf("%08x-7a1e-4c3b-9d2f-%012x", g.uid*2654435761%(1<<32), g.uid)
}

func cluster(j int) string {
	if j%5 == 0 {
		return "prod-b"
	}
	return "prod-a"
}

func namespace(j int) string { return fmt.Sprintf("team-%02d", j%benchNamespaces) }

func cronJobName(j int) string { return fmt.Sprintf("model-%03d", j) }

func (g *history) cronJobs() []model.CronJob {
	var cjs []model.CronJob
	for j := range benchCronJobs {
		cjs = append(cjs, model.CronJob{Cluster: cluster(j), Namespace: namespace(j), Name: cronJobName(j),
			UID: g.newUID(), Schedule: "*/20 * * * *", CreatedAt: benchStart().Add(-24 * time.Hour)})
	}
	return cjs
}

// run adds run k of CronJob j to f: its Job, its pod, the pod's container
// terminations, restarts and waits, and the events about them. About 10% of
// runs fail, 3% by an OOM kill; 5% of pods restart, 2% crash-loop.
func (g *history) run(f *model.Facts, j, k int) {
	period := benchDays * 24 * time.Hour / benchRunsPerCronJob
	offset := time.Duration(j) * period / benchCronJobs
	created := benchStart().Add(time.Duration(k)*period + offset)
	c, ns, cj := cluster(j), namespace(j), cronJobName(j)
	runUID, podUID := g.newUID(), g.newUID()
	jobName := fmt.Sprintf("%s-%d", cj, created.Unix()/60)
	podName := jobName + "-x7k2p"

	podCreated := created.Add(time.Duration(100+g.rng.IntN(1900)) * time.Millisecond)
	pending := time.Duration(1000+g.rng.IntN(29000)) * time.Millisecond
	if g.rng.IntN(200) == 0 {
		pending = time.Duration(20+g.rng.IntN(160)) * time.Minute
	}
	started := podCreated.Add(pending)
	duration := time.Duration(60+g.rng.IntN(1140)) * time.Second
	finished := started.Add(duration)

	roll := g.rng.IntN(100)
	failed, oom := roll < 10, roll < 3
	restarts := 0
	if g.rng.IntN(20) == 0 {
		restarts = 1 + g.rng.IntN(3)
	}
	crashLoop := g.rng.IntN(50) == 0

	run := model.Run{Cluster: c, Namespace: ns, UID: runUID, Name: jobName, CronJob: cj, CreatedAt: created,
		ScheduledAt: created, StartedAt: created, FinishedAt: finished.Add(time.Second), Succeeded: 1}
	pod := model.Pod{Cluster: c, Namespace: ns, UID: podUID, Name: podName, JobUID: runUID, JobName: jobName,
		CronJob: cj, Node: fmt.Sprintf("node-%02d", g.rng.IntN(40)), CreatedAt: podCreated,
		ScheduledAt: podCreated.Add(50 * time.Millisecond), StartedAt: started, PendingUntil: started,
		FinishedAt: finished, Phase: model.PhaseSucceeded}
	last := model.Termination{Cluster: c, PodUID: podUID, Container: "main", Attempt: int32(restarts),
		Reason: "Completed", StartedAt: started, FinishedAt: finished}
	switch {
	case oom:
		last.Reason, last.ExitCode, last.Signal = model.ReasonOOMKilled, 137, 9
	case failed:
		last.Reason, last.ExitCode, last.Message = "Error", 1, "Traceback (most recent call last): ValueError: bad input"
	}
	if failed {
		run.Outcome, run.Reason, run.Message = model.OutcomeFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit"
		run.Succeeded, run.Failed = 0, 1
		pod.Phase = model.PhaseFailed
	} else {
		run.Outcome = model.OutcomeSucceeded
	}
	f.Runs = append(f.Runs, run)
	f.Pods = append(f.Pods, pod)
	for a := range restarts {
		at := started.Add(duration * time.Duration(a+1) / time.Duration(restarts+2))
		f.Terminations = append(f.Terminations, model.Termination{Cluster: c, PodUID: podUID, Container: "main",
			Attempt: int32(a), Reason: "Error", ExitCode: 1, StartedAt: started, FinishedAt: at.Add(-time.Second)})
		f.Restarts = append(f.Restarts, model.Restart{Cluster: c, PodUID: podUID, Container: "main", Index: int32(a + 1), At: at})
	}
	f.Terminations = append(f.Terminations, last)
	if crashLoop {
		f.Waits = append(f.Waits, model.Waiting{Cluster: c, PodUID: podUID, Container: "main", Attempt: 1,
			Reason: model.ReasonCrashLoopBackOff, Message: "back-off 10s restarting failed container",
			FirstSeen: started.Add(time.Minute), LastSeen: started.Add(2 * time.Minute)})
	}
	f.Events = append(f.Events, model.Event{Cluster: c, UID: g.newUID(), Namespace: ns, InvolvedKind: "Job",
		InvolvedName: jobName, InvolvedUID: runUID, Type: "Normal", Reason: "SuccessfulCreate",
		Message: "Created pod: " + podName, Source: "job-controller", Count: 1, FirstSeen: podCreated, LastSeen: podCreated})
	if failed {
		f.Events = append(f.Events, model.Event{Cluster: c, UID: g.newUID(), Namespace: ns, InvolvedKind: "Pod",
			InvolvedName: podName, InvolvedUID: podUID, Type: "Warning", Reason: "BackOff",
			Message: "Back-off restarting failed container main in pod " + podName, Source: "kubelet", Count: 3,
			FirstSeen: started, LastSeen: finished})
	}
	if k%20 == 0 {
		f.Events = append(f.Events, model.Event{Cluster: c, UID: g.newUID(), Namespace: ns, InvolvedKind: "CronJob",
			InvolvedName: cj, Type: "Normal", Reason: "SawCompletedJob",
			Message: "Saw completed job: " + jobName + ", status: Complete", Source: "cronjob-controller", Count: 1,
			FirstSeen: finished.Add(time.Second), LastSeen: finished.Add(time.Second)})
	}
}

// BenchmarkWrite writes batches of whole runs (Job, pod, terminations,
// events) into a fresh store, as the ledger's batcher does.
func BenchmarkWrite(b *testing.B) {
	for _, runs := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("runs=%d", runs), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "write.db"))
			b.Cleanup(func() { s.Close() })
			g := newHistory()
			ctx := context.Background()
			var facts, pods, k int
			for b.Loop() {
				b.StopTimer()
				var f model.Facts
				for range runs {
					g.run(&f, k%benchCronJobs, k/benchCronJobs)
					k++
				}
				facts += count(f)
				pods += len(f.Pods)
				b.StartTimer()
				if err := s.Write(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(facts)/b.Elapsed().Seconds(), "facts/s")
			b.ReportMetric(float64(pods)/b.Elapsed().Seconds(), "pods/s")
		})
	}
}

// benchFilters are the filters the query benchmarks try: none, and one of
// each kind, picking a typical cluster, namespace and CronJob.
func benchFilters() []struct {
	name string
	filt store.Filter
} {
	return []struct {
		name string
		filt store.Filter
	}{
		{"all", store.Filter{}},
		{"cluster", store.Filter{Cluster: "prod-a"}},
		{"namespace", store.Filter{Namespace: namespace(7)}},
		{"cronjob", store.Filter{CronJob: cronJobName(7)}},
	}
}

// BenchmarkCount counts each metric over the last 30 days in 6h buckets (the
// step docs/widgets.md gives for 30d), and over the last day in 15m buckets.
func BenchmarkCount(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	ranges := []struct {
		name string
		b    store.Buckets
	}{
		{"30d", store.Buckets{From: benchNow().AddDate(0, 0, -30), To: benchNow(), Step: 6 * time.Hour}},
		{"24h", store.Buckets{From: benchNow().Add(-24 * time.Hour), To: benchNow(), Step: 15 * time.Minute}},
	}
	for _, m := range store.Metrics() {
		for _, r := range ranges {
			for _, fc := range benchFilters() {
				if r.name != "30d" && fc.name != "all" {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/%s", m, r.name, fc.name), func(b *testing.B) {
					var total int64
					for b.Loop() {
						counts, err := s.Count(ctx, m, r.b, fc.filt)
						if err != nil {
							b.Fatal(err)
						}
						total = 0
						for _, n := range counts {
							total += n
						}
					}
					b.ReportMetric(float64(total), "facts")
				})
			}
		}
	}
}

// BenchmarkPendingAt asks for the pods pending at the end of each of the
// 120 buckets of the last 30 days, and at their start.
func BenchmarkPendingAt(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	var instants []time.Time
	for i := range 121 {
		instants = append(instants, benchNow().AddDate(0, 0, -30).Add(time.Duration(i)*6*time.Hour))
	}
	for _, fc := range benchFilters() {
		b.Run(fc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.PendingAt(ctx, instants, fc.filt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTopCronJobs(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for _, days := range []int{30, 1} {
		for _, fc := range benchFilters() {
			if fc.name == "cronjob" {
				continue
			}
			b.Run(fmt.Sprintf("%dd/%s", days, fc.name), func(b *testing.B) {
				for b.Loop() {
					top, err := s.TopCronJobs(ctx, benchNow().AddDate(0, 0, -days), benchNow(), fc.filt, 10)
					if err != nil {
						b.Fatal(err)
					}
					if len(top) != 10 {
						b.Fatalf("%d CronJobs, want 10", len(top))
					}
				}
			})
		}
	}
}

func BenchmarkRecentEvents(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for _, fc := range benchFilters() {
		b.Run(fc.name, func(b *testing.B) {
			for b.Loop() {
				events, err := s.RecentEvents(ctx, benchNow().AddDate(0, 0, -30), benchNow(), fc.filt, 50)
				if err != nil {
					b.Fatal(err)
				}
				if len(events) != 50 {
					b.Fatalf("%d events, want 50", len(events))
				}
			}
		})
	}
}

// BenchmarkDashboard computes whole dashboards over the last 30 days of the
// generated history through the query engine, as the API serves them: every
// Leadership widget with its series.
func BenchmarkDashboard(b *testing.B) {
	s := benchStore(b)
	e := query.New(s, benchNow)
	for _, id := range []string{"leadership", "engineering"} {
		for _, days := range []int{1, 30} {
			b.Run(fmt.Sprintf("%s/%dd", id, days), func(b *testing.B) {
				p := query.Params{From: benchNow().AddDate(0, 0, -days), To: benchNow()}
				for b.Loop() {
					if _, err := e.Dashboard(context.Background(), id, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkScrape is one /metrics scrape (metrics.Read: every exact total
// grouped by CronJob) over the 1M-run history, and each of its reads.
func BenchmarkScrape(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	reads := map[string]func() error{
		"all":        func() error { _, err := metrics.Read(ctx, s, benchNow()); return err },
		"Totals/all": func() error { _, err := s.Totals(ctx, store.Metrics()...); return err },
		"Totals/runs": func() error {
			_, err := s.Totals(ctx, store.RunsCreated, store.RunsSucceeded, store.RunsFailed)
			return err
		},
		"Totals/restarts":  func() error { _, err := s.Totals(ctx, store.Restarts); return err },
		"PodFailureTotals": func() error { _, err := s.PodFailureTotals(ctx); return err },
		"PodsAt":           func() error { _, err := s.PodsAt(ctx, benchNow()); return err },
		"LastSucceeded":    func() error { _, err := s.LastSucceeded(ctx); return err },
	}
	for name, read := range reads {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
