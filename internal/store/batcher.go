package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/batchlens/batchlens/internal/model"
)

// Batcher groups facts into large transactions: facts are written when
// MaxFacts have gathered, when Interval has passed (Run), or on Flush. A
// failed write keeps its facts and is retried at the next trigger, so a
// store outage delays facts but loses none while batchlens runs.
type Batcher struct {
	store    Store
	log      *slog.Logger
	maxFacts int
	interval time.Duration

	mu      sync.Mutex
	pending model.Facts
	n       int
	written uint64
}

// NewBatcher returns a Batcher writing to s in batches of up to maxFacts
// facts, at least every interval once Run is started.
func NewBatcher(s Store, log *slog.Logger, maxFacts int, interval time.Duration) *Batcher {
	return &Batcher{store: s, log: log, maxFacts: maxFacts, interval: interval}
}

// Add queues f; it writes the queue first when it is full. The error is the
// write's, if one happened; the facts stay queued either way.
func (b *Batcher) Add(ctx context.Context, f model.Facts) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending.Add(f)
	b.n += count(f)
	if b.n < b.maxFacts {
		return nil
	}
	return b.flushLocked(ctx)
}

// Flush writes everything queued so far.
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked(ctx)
}

// Written reports how many facts have been written so far.
func (b *Batcher) Written() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.written
}

func (b *Batcher) flushLocked(ctx context.Context) error {
	if b.n == 0 {
		return nil
	}
	if err := b.store.Write(ctx, b.pending); err != nil {
		return fmt.Errorf("write %d facts: %w", b.n, err)
	}
	b.written += uint64(b.n)
	b.pending = model.Facts{}
	b.n = 0
	return nil
}

// Run flushes every interval until ctx ends, then flushes once more with a
// short grace period so facts gathered before a shutdown are kept.
func (b *Batcher) Run(ctx context.Context) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := b.Flush(fctx); err != nil {
				b.log.Error("final flush failed; facts of objects that still exist are recovered at the next start", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := b.Flush(ctx); err != nil && ctx.Err() == nil {
				b.log.Warn("store write failed, will retry", "err", err)
			}
		}
	}
}

func count(f model.Facts) int {
	return len(f.CronJobs) + len(f.Runs) + len(f.Pods) + len(f.Terminations) +
		len(f.Restarts) + len(f.Waits) + len(f.Events)
}
