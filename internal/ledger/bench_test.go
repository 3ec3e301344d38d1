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
	var looks []look
	for i := range pods {
		for _, l := range lifecycle([]byte{byte(i % 5), byte(i), byte(i / 3), 3, byte(i / 7), 1, 0, 2, byte(i), 5}) {
			p := l.obj.(*corev1.Pod).DeepCopy()
			p.UID = types.UID(fmt.Sprintf("pod-%d", i))
			p.Name = fmt.Sprintf("train-%d-x", i)
			p.CreationTimestamp.Time = p.CreationTimestamp.Add(time.Duration(i) * time.Second)
			looks = append(looks, look{obj: p, at: l.at.Add(time.Duration(i) * time.Second)})
		}
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, b.TempDir()+"/ingest.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batcher := store.NewBatcher(s, slog.New(slog.NewTextHandler(io.Discard, nil)), 5000, time.Hour)
	l := &Ledger{Cluster: "bench"}
	b.ResetTimer()
	updates := 0
	for n := 0; n < b.N; n++ {
		for _, lk := range looks {
			f, _ := l.Object(lk.obj, false, lk.at)
			if err := batcher.Add(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
		if err := batcher.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		updates += len(looks)
	}
	b.ReportMetric(float64(updates)/b.Elapsed().Seconds(), "updates/s")
}
