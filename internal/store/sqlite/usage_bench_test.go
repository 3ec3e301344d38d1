package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/query"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlstore"
)

// usageBenchVersion names the generated usage history; change it whenever
// the generator changes.
const usageBenchVersion = 4

// benchSample is a 15-second look at pod p of CronJob j at.
func benchSample(j, p int, at time.Time) model.Sample {
	return model.Sample{Cluster: cluster(j), Namespace: namespace(j), PodUID: fmt.Sprintf("pod-%03d-%06d", j, p),
		Pod: fmt.Sprintf("%s-%d-x7k2p", cronJobName(j), p), RunUID: fmt.Sprintf("run-%03d-%06d", j, p), CronJob: cronJobName(j),
		At: at, Window: 15 * time.Second, CPUNanos: int64(7e9 + j*1e6), CPUNanoCores: int64(5e8 + j*1e5),
		MemoryBytes: int64(1<<30 + j<<20), RSSBytes: 1 << 29, MemoryRatio: 0.5 + float64(j%50)/100, StorageBytes: 64 << 20,
		DiskRead: 1 << 20, DiskWrite: 1 << 19, NetRx: 1 << 22, NetTx: 1 << 19, NetRxErrors: int64(j % 3)}
}

// usageBenchStore opens the cached usage history, generating it when
// absent: for each of benchCronJobs CronJobs and each hour of benchDays
// days, one sample (so usage_hours holds a row per CronJob and hour, as a
// fleet whose CronJobs run every hour has).
func usageBenchStore(b *testing.B) *Store {
	b.Helper()
	path := filepath.Join(os.TempDir(),
		fmt.Sprintf("batchlens-bench-usage-v%d-schema%d.db", usageBenchVersion, sqlstore.SchemaVersion()))
	done := path + ".done"
	if _, err := os.Stat(done); err != nil {
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
		}
		s := open(b, path)
		start := time.Now()
		var f model.Facts
		n := 0
		for h := range benchDays * 24 {
			at := benchStart().Add(time.Duration(h)*time.Hour + 7*time.Minute)
			for j := range benchCronJobs {
				f.Samples = append(f.Samples, benchSample(j, h, at.Add(time.Duration(j)*time.Second)))
			}
			if len(f.Samples) >= 5000 {
				if err := s.Write(context.Background(), f); err != nil {
					b.Fatal(err)
				}
				n += len(f.Samples)
				f = model.Facts{}
			}
		}
		if err := s.Write(context.Background(), f); err != nil {
			b.Fatal(err)
		}
		n += len(f.Samples)
		b.Logf("generated %s: %d samples in %v", path, n, time.Since(start).Round(time.Second))
		s.Close()
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s := open(b, path)
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkCPUByCronJob is cpu_by_cronjob over 30 days of 500 CronJobs:
// the store's call, and the whole Engineering dashboard (whose usage
// widgets share that call; the other tables are empty here).
func BenchmarkCPUByCronJob(b *testing.B) {
	s := usageBenchStore(b)
	ctx := context.Background()
	to := benchNow()
	from := to.Add(-30 * 24 * time.Hour)
	bk := store.Buckets{From: from, To: to, Step: query.Step(to.Sub(from))}
	b.Run("UsageTotals/30d", func(b *testing.B) {
		for b.Loop() {
			got, err := s.UsageTotals(ctx, bk, store.Filter{})
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != benchCronJobs {
				b.Fatalf("%d CronJobs", len(got))
			}
		}
	})
	b.Run("UsageByCronJob/30d/10", func(b *testing.B) {
		var keys []store.CronJobKey
		for j := range 10 {
			keys = append(keys, store.CronJobKey{Cluster: cluster(j * 7), Namespace: namespace(j * 7), CronJob: cronJobName(j * 7)})
		}
		for b.Loop() {
			if _, err := s.UsageByCronJob(ctx, bk, keys); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What cpu_by_cronjob costs: the engine's usage queries (totals, then
	// the series of the 10 CronJobs shown) and the widget's series.
	b.Run("cpu_by_cronjob/30d", func(b *testing.B) {
		e := query.New(s, func() time.Time { return to })
		for b.Loop() {
			d, err := e.Widget(ctx, "engineering", "cpu_by_cronjob", query.Params{From: from, To: to})
			if err != nil {
				b.Fatal(err)
			}
			if len(d.Series) != 10 {
				b.Fatalf("%d series", len(d.Series))
			}
		}
	})
	for _, c := range []struct {
		name string
		d    time.Duration
		filt store.Filter
	}{
		{"30d", 30 * 24 * time.Hour, store.Filter{}},
		{"24h", 24 * time.Hour, store.Filter{}},
		{"30d/cronjob", 30 * 24 * time.Hour, store.Filter{Namespace: namespace(7), CronJob: cronJobName(7)}},
	} {
		b.Run("UsageByPod/"+c.name, func(b *testing.B) {
			pb := store.Buckets{From: to.Add(-c.d), To: to, Step: query.Step(c.d)}
			for b.Loop() {
				if _, err := s.UsageByPod(ctx, pb, c.filt, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("engineering/30d", func(b *testing.B) {
		e := query.New(s, func() time.Time { return to })
		for b.Loop() {
			if _, err := e.Dashboard(ctx, "engineering", query.Params{From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSampleStorage writes an hour of 15-second samples of pods
// (240 each, in batches as the Batcher makes them) into a fresh store and
// reports the bytes the database grew by per pod-hour, and samples/s.
func BenchmarkSampleStorage(b *testing.B) {
	const pods = 200
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "usage.db")
		s := open(b, path)
		base := dbSize(b, s, path)
		b.StartTimer()
		start := time.Now()
		var f model.Facts
		for k := range 240 {
			for p := range pods {
				f.Samples = append(f.Samples, benchSample(p%20, p, benchStart().Add(time.Duration(k)*15*time.Second+time.Duration(p)*time.Millisecond)))
			}
			if len(f.Samples) >= 5000 {
				if err := s.Write(context.Background(), f); err != nil {
					b.Fatal(err)
				}
				f = model.Facts{}
			}
		}
		if err := s.Write(context.Background(), f); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(dbSize(b, s, path)-base)/pods, "bytes/pod-hour")
		b.ReportMetric(240*pods/took.Seconds(), "samples/s")
		s.Close()
		b.StartTimer()
	}
}

// dbSize checkpoints the WAL into the database and returns its size.
func dbSize(b *testing.B, s *Store, path string) int64 {
	b.Helper()
	if _, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}
