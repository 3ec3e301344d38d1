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
	since   time.Time     // when the oldest queued fact was added
	took    time.Duration // the last successful write
	written uint64
	seen    seen
}

// seen remembers the facts last queued under each natural key. A watch
// repeats most facts on every look at an object (a termination stays in
// lastState, restarts stay counted); merging an identical fact again changes
// nothing, so the Batcher skips it. It is a cache: when it holds maxSeen
// keys (checked once per Add, so one batch may pass it) it starts over,
// which costs only some redundant writes.
type seen struct {
	pods  map[[2]string]model.Pod
	runs  map[[2]string]model.Run
	terms map[termKey]model.Termination
	rests map[termKey]model.Restart
	conts map[termKey]model.Container
	size  int
}

type termKey struct {
	cluster, pod, container string
	n                       int32
}

const maxSeen = 200_000

// fresh reports whether v differs from what was last queued under k, and
// remembers it.
func fresh[K comparable, V comparable](m *map[K]V, size *int, k K, v V) bool {
	if *m == nil {
		*m = map[K]V{}
	}
	if old, ok := (*m)[k]; ok && old == v {
		return false
	}
	if _, ok := (*m)[k]; !ok {
		*size++
	}
	(*m)[k] = v
	return true
}

// filter drops the facts of f already queued unchanged.
func (s *seen) filter(f model.Facts) model.Facts {
	if s.size >= maxSeen {
		*s = seen{}
	}
	out := model.Facts{CronJobs: f.CronJobs, Waits: f.Waits, Events: f.Events, Samples: f.Samples}
	for _, p := range f.Pods {
		if fresh(&s.pods, &s.size, [2]string{p.Cluster, p.UID}, p) {
			out.Pods = append(out.Pods, p)
		}
	}
	for _, r := range f.Runs {
		if fresh(&s.runs, &s.size, [2]string{r.Cluster, r.UID}, r) {
			out.Runs = append(out.Runs, r)
		}
	}
	for _, t := range f.Terminations {
		if fresh(&s.terms, &s.size, termKey{t.Cluster, t.PodUID, t.Container, t.Attempt}, t) {
			out.Terminations = append(out.Terminations, t)
		}
	}
	for _, c := range f.Containers {
		if fresh(&s.conts, &s.size, termKey{c.Cluster, c.PodUID, c.Name, 0}, c) {
			out.Containers = append(out.Containers, c)
		}
	}
	for _, r := range f.Restarts {
		if fresh(&s.rests, &s.size, termKey{r.Cluster, r.PodUID, r.Container, r.Index}, r) {
			out.Restarts = append(out.Restarts, r)
		}
	}
	return out
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
	f = b.seen.filter(f)
	if b.n == 0 {
		b.since = time.Now()
	}
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

// Lag reports how long the oldest fact queued but not yet written has
// waited; 0 when none is queued.
func (b *Batcher) Lag() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == 0 {
		return 0
	}
	return time.Since(b.since)
}

// LastWrite reports how long the last successful write to the store took.
func (b *Batcher) LastWrite() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.took
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
	start := time.Now()
	if err := b.store.Write(ctx, b.pending); err != nil {
		return fmt.Errorf("write %d facts: %w", b.n, err)
	}
	b.took = time.Since(start)
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
		len(f.Restarts) + len(f.Waits) + len(f.Events) + len(f.Containers) + len(f.Samples)
}
