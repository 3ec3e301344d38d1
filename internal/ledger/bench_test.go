package ledger

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlite"
)

// BenchmarkIngest measures the whole write path the watcher uses: pod
// updates through the ledger and the batching writer into SQLite. Run it on
// one core with -cpu 1. It reports pod updates per second.
func BenchmarkIngest(b *testing.B) {
	const pods = 2000
	// looks returns the updates of 2000 pods, with UIDs of generation gen:
	// every iteration ingests pods the store has not seen yet.
	looks := func(gen int) []look {
		var out []look
		for i := range pods {
			for _, l := range lifecycle([]byte{byte(i % 5), byte(i), byte(i / 3), 3, byte(i / 7), 1, 0, 2, byte(i), 5}) {
				p := l.obj.(*corev1.Pod).DeepCopy()
				p.UID = types.UID(fmt.Sprintf("pod-%d-%d", gen, i))
				p.Name = fmt.Sprintf("train-%d-%d-x", gen, i)
				p.CreationTimestamp.Time = p.CreationTimestamp.Add(time.Duration(i) * time.Second)
				out = append(out, look{obj: p, at: l.at.Add(time.Duration(i) * time.Second)})
			}
		}
		return out
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, b.TempDir()+"/ingest.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := &Ledger{Cluster: "bench"}
	updates := 0
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		batch := looks(n)
		batcher := store.NewBatcher(s, slog.New(slog.NewTextHandler(io.Discard, nil)), 5000, time.Hour)
		b.StartTimer()
		for _, lk := range batch {
			f, _ := l.Object(lk.obj, false, lk.at)
			if err := batcher.Add(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
		if err := batcher.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		updates += len(batch)
	}
	b.ReportMetric(float64(updates)/b.Elapsed().Seconds(), "updates/s")
}
