package usage

import (
	"context"
	"log/slog"
	"time"
)

// Pruner deletes expired usage.
type Pruner interface {
	// Prune deletes raw samples before rawBefore and rollup units that
	// begin before rollupBefore, and returns how many rows it deleted.
	Prune(ctx context.Context, rawBefore, rollupBefore time.Time) (int64, error)
}

// Retention keeps raw samples for Raw and rollups for Rollup: it prunes at
// start and then every Every until ctx ends. A failed prune is logged and
// tried again at the next turn.
type Retention struct {
	Raw, Rollup time.Duration
	Every       time.Duration // an hour when zero
	Now         func() time.Time
}

// Run prunes p until ctx ends.
func (r Retention) Run(ctx context.Context, p Pruner, log *slog.Logger) error {
	if r.Every <= 0 {
		r.Every = time.Hour
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	t := time.NewTicker(r.Every)
	defer t.Stop()
	for {
		now := r.Now()
		n, err := p.Prune(ctx, now.Add(-r.Raw), now.Add(-r.Rollup))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pruning expired resource usage failed, will retry", "err", err)
		case n > 0:
			log.Info("pruned expired resource usage", "rows", n, "rawRetention", r.Raw, "rollupRetention", r.Rollup)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
