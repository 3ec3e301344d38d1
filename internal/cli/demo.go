package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batchlens/batchlens/internal/demo"
	"github.com/batchlens/batchlens/internal/kube"
	"github.com/batchlens/batchlens/internal/ledger"
	"github.com/batchlens/batchlens/internal/sim"
	rusage "github.com/batchlens/batchlens/internal/usage"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("demo", stderr)
	var (
		c       common
		history string
		cluster string
		seed    int64
	)
	c.register(f, "")
	f.string(&history, "history", "7d", "simulated history to backfill before going live (e.g. 7d, 36h)")
	f.string(&cluster, "cluster-name", "demo", "cluster name of the simulated fleet")
	f.Int64Var(&seed, "seed", 0, "simulation seed (0: from the clock, so every demo has fresh UIDs)")
	if err := f.parse(args); err != nil {
		return err
	}
	hist, err := parseDays(history)
	if err != nil {
		return fmt.Errorf("--history: %w", err)
	}
	log, err := newLogger(stderr, c.logLevel)
	if err != nil {
		return err
	}
	if c.db == "" {
		dir, err := os.MkdirTemp("", "batchlens-demo-")
		if err != nil {
			return fmt.Errorf("temp dir for the demo database: %w", err)
		}
		defer os.RemoveAll(dir)
		c.db = filepath.Join(dir, "demo.db")
	}
	now := time.Now().UTC().Truncate(time.Second)
	if seed == 0 {
		seed = now.UnixNano()
	}
	a, err := openApp(ctx, c, log)
	if err != nil {
		return err
	}
	s := sim.New(sim.Config{Cluster: cluster, Fleet: sim.DefaultFleet(), Seed: seed, Start: now.Add(-hist)})
	fmt.Fprintf(stdout, "batchlens demo: simulated fleet %q, %s of history; dashboards at %s\n", cluster, history, a.url())

	var watcher atomic.Pointer[kube.Watcher]
	ready := func() error {
		if w := watcher.Load(); w != nil {
			return w.Ready()
		}
		return errors.New("backfilling simulated history")
	}
	return a.run(ctx, ready, func(ctx context.Context) error {
		start := time.Now()
		ops := s.Advance(now)
		alive, err := demo.Backfill(ctx, &ledger.Ledger{Cluster: cluster}, a.batcher, ops, func(done, total int) {
			if err := a.batcher.Flush(ctx); err != nil {
				log.Warn("store write failed, will retry", "err", err)
			}
			log.Info("backfilling history, newest first", "done", done, "of", total, "elapsed", time.Since(start).Round(time.Millisecond))
		})
		if err != nil {
			return err
		}
		if err := a.batcher.Flush(ctx); err != nil {
			return err
		}
		log.Info("history backfilled", "ops", len(ops), "facts", a.batcher.Written(), "took", time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(stdout, "backfilled %s of history (%d object changes) in %s; now live\n", history, len(ops), time.Since(start).Round(time.Millisecond))

		cl := demo.NewCluster()
		if err := demo.Seed(ctx, cl, alive); err != nil {
			return err
		}
		w := kube.New(cl.Client, a.batcher, log, kube.Options{Cluster: cluster})
		watcher.Store(w)
		errc := make(chan error, 3)
		go func() { errc <- w.Run(ctx) }()
		// Resource usage: the simulated kubelets, sampled live from now on,
		// and the history behind, newest day first.
		var mu sync.Mutex
		kubelets := &demo.Kubelets{Truth: s.Truth(), Clock: time.Now, Mu: &mu}
		poller := rusage.NewPoller(kubelets, a.batcher, log, rusage.PollerOptions{
			Cluster: cluster, Interval: c.sampleInterval, Pods: kubelets.Pods,
		})
		go func() { errc <- poller.Run(ctx) }()
		go func() { errc <- sampleHistory(ctx, s.Truth(), &mu, a, cluster, now.Add(-hist), now, c.sampleInterval) }()
		if err := demo.Live(ctx, s, cl, time.Second, &mu); err != nil {
			return err
		}
		return <-errc
	})
}

// sampleHistory samples the simulated kubelets over [from, to), a day at a
// time, newest first.
func sampleHistory(ctx context.Context, truth *sim.Truth, mu *sync.Mutex, a *app, cluster string, from, to time.Time, interval time.Duration) error {
	start := time.Now()
	for hi := to; hi.After(from); hi = hi.Add(-24 * time.Hour) {
		lo := hi.Add(-24 * time.Hour)
		if lo.Before(from) {
			lo = from
		}
		if err := demo.SampleHistory(ctx, truth, mu, a.batcher, cluster, lo, hi, interval, nil); err != nil {
			return err
		}
		a.log.Info("backfilling resource usage, newest day first", "from", lo.Format(time.RFC3339), "elapsed", time.Since(start).Round(time.Millisecond))
	}
	<-ctx.Done()
	return nil
}

// parseDays parses a Go duration, also accepting whole days ("7d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like 7d or 36h", s)
	}
	return d, nil
}
