package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/batchlens/batchlens/internal/kube"
	"github.com/batchlens/batchlens/internal/ledger"
	"github.com/batchlens/batchlens/internal/sim"
)

// Handled is what Drive waits on: the watcher's count of handled
// notifications.
type Handled interface {
	// Handled returns how many informer notifications have been handled.
	Handled() uint64
}

// Drive applies ops to the cluster in order. Before each op it sets clock to
// the op's time, and after it waits until the watcher has handled it, so the
// ledger observes every op at its simulated time, as if the cluster ran in
// virtual time. It gives up after timeout without progress.
func Drive(ctx context.Context, c *Cluster, clock *Clock, w Handled, ops []sim.Op, timeout time.Duration) error {
	for _, op := range ops {
		clock.Set(op.At)
		want := w.Handled() + 1
		if err := c.Apply(ctx, op); err != nil {
			return err
		}
		deadline := time.Now().Add(timeout)
		for w.Handled() < want {
			if time.Now().After(deadline) {
				return fmt.Errorf("watcher did not handle %s %T at %s within %s", op.Verb, op.Object, op.At, timeout)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	return nil
}

// Backfill replays ops straight through the ledger into sink, each at its
// own simulated time: history without the cost of a watch. Because the
// store's merge is order-independent, it replays them newest first: the
// recent numbers people look at first are right within a second or two while
// older history fills in, and a pod's later looks (out of Pending, finished)
// land before its earlier ones, so no half-written life shows meanwhile.
// progress, when set, is told after each simulated day. It returns the
// objects still alive at the end, in creation order, so a Cluster can be
// seeded with them before the watch starts.
func Backfill(ctx context.Context, l *ledger.Ledger, sink kube.Sink, ops []sim.Op, progress func(done, total int)) ([]runtime.Object, error) {
	alive, err := aliveAtEnd(ops)
	if err != nil {
		return nil, err
	}
	var day time.Time
	for i := len(ops) - 1; i >= 0; i-- {
		op := ops[i]
		if d := op.At.Truncate(24 * time.Hour); !d.Equal(day) {
			if progress != nil && !day.IsZero() {
				progress(len(ops)-1-i, len(ops))
			}
			day = d
		}
		if f, ok := l.Object(op.Object, op.Verb == sim.Delete, op.At); ok {
			if err := sink.Add(ctx, f); err != nil {
				return nil, fmt.Errorf("backfill: %w", err)
			}
		}
	}
	if progress != nil {
		progress(len(ops), len(ops))
	}
	return alive, nil
}

// aliveAtEnd returns the last state of every object that ops leave alive,
// in creation order.
func aliveAtEnd(ops []sim.Op) ([]runtime.Object, error) {
	type key struct{ kind, ns, name string }
	index := map[key]int{}
	var objs []runtime.Object
	for _, op := range ops {
		m, err := meta.Accessor(op.Object)
		if err != nil {
			return nil, fmt.Errorf("op object %T: %w", op.Object, err)
		}
		k := key{fmt.Sprintf("%T", op.Object), m.GetNamespace(), m.GetName()}
		i, ok := index[k]
		switch {
		case op.Verb == sim.Delete && ok:
			objs[i] = nil
			delete(index, k)
		case ok:
			objs[i] = op.Object
		case op.Verb != sim.Delete:
			index[k] = len(objs)
			objs = append(objs, op.Object)
		}
	}
	live := objs[:0]
	for _, o := range objs {
		if o != nil {
			live = append(live, o)
		}
	}
	return live, nil
}

// Seed creates objects in the cluster, as they were at the end of a
// backfill.
func Seed(ctx context.Context, c *Cluster, objs []runtime.Object) error {
	for _, o := range objs {
		if err := c.Apply(ctx, sim.Op{Verb: sim.Create, Object: o}); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

// Live advances the simulation with the wall clock every tick and applies
// its ops to the cluster, until ctx ends. It holds mu while the simulation
// advances, so that readers of its Truth (Kubelets) may take turns with it.
func Live(ctx context.Context, s *sim.Sim, c *Cluster, tick time.Duration, mu *sync.Mutex) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			mu.Lock()
			ops := s.Advance(now)
			mu.Unlock()
			for _, op := range ops {
				if err := c.Apply(ctx, op); err != nil {
					return err
				}
			}
		}
	}
}
