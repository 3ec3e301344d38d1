package usage

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

type pruner struct {
	mu    sync.Mutex
	calls [][2]time.Time
	fail  bool
}

func (p *pruner) Prune(_ context.Context, raw, rollup time.Time) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, [2]time.Time{raw, rollup})
	if p.fail {
		return 0, errors.New("disk full")
	}
	return 1, nil
}

func TestRetention(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := &pruner{fail: true}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	r := Retention{Raw: 7 * 24 * time.Hour, Rollup: 90 * 24 * time.Hour, Every: time.Millisecond, Now: func() time.Time { return now }}
	go func() { done <- r.Run(ctx, p, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	for {
		p.mu.Lock()
		n := len(p.calls)
		p.mu.Unlock()
		if n >= 2 { // a failure does not stop it
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := [2]time.Time{now.Add(-7 * 24 * time.Hour), now.Add(-90 * 24 * time.Hour)}
	if p.calls[0] != want {
		t.Errorf("pruned before %v, want %v", p.calls[0], want)
	}
}
