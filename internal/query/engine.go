// Package query computes dashboards: it runs the widget queries that
// internal/dashboard defines against a store.Store, over a time range and
// filters, exactly as docs/widgets.md states them. The result types in this
// package are the JSON API's bodies (see Dashboard and List).
package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/batchlens/batchlens/internal/dashboard"
	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// ErrUnknownDashboard is returned (wrapped) for a dashboard id that does not exist.
var ErrUnknownDashboard = errors.New("unknown dashboard")

// maxParallel bounds how many store calls one dashboard runs at once.
const maxParallel = 4

// Engine computes dashboards from a store. It is safe for concurrent use.
type Engine struct {
	store store.Store
	now   func() time.Time
	usage func() error
}

// New returns an Engine reading s. now tells the current time (time.Now
// when nil); it ends last= ranges and caps the Pending gauge.
func New(s store.Store, now func() time.Time) *Engine {
	if now == nil {
		now = time.Now
	}
	return &Engine{store: s, now: now}
}

// WithUsageStatus makes the resource usage widgets unavailable, with the
// error's text as their reason, while status returns an error (for
// example usage.Poller.Status: no permission to read kubelet stats). It
// returns e; call it before serving.
func (e *Engine) WithUsageStatus(status func() error) *Engine {
	e.usage = status
	return e
}

// Now is the Engine's current time, for ParseParams.
func (e *Engine) Now() time.Time { return e.now() }

// List returns the layout of every dashboard, without numbers.
func (e *Engine) List() List {
	var l List
	for _, d := range dashboard.All() {
		ld := ListDashboard{ID: d.ID, Title: d.Title, Sections: make([]ListSection, 0, len(d.Sections))}
		for _, s := range d.Sections {
			ls := ListSection{ID: s.ID, Title: s.Title, Widgets: make([]ListWidget, 0, len(s.Widgets))}
			for _, w := range s.Widgets {
				ls.Widgets = append(ls.Widgets, head(w))
			}
			ld.Sections = append(ld.Sections, ls)
		}
		l.Dashboards = append(l.Dashboards, ld)
	}
	return l
}

// Dashboard computes dashboard id over p. It returns an error wrapping
// ErrUnknownDashboard for an unknown id, a *ParamError for invalid p, and
// otherwise only the store's errors (wrapped), including ctx's.
// Independent store calls run concurrently, at most a few at a time.
func (e *Engine) Dashboard(ctx context.Context, id string, p Params) (Dashboard, error) {
	return e.compute(ctx, id, "", p)
}

// Widget computes one widget of dashboard id over p, asking the store only
// what that widget needs. Its errors are Dashboard's, and one wrapping
// ErrUnknownWidget for a widget the dashboard does not have.
func (e *Engine) Widget(ctx context.Context, id, widget string, p Params) (Widget, error) {
	def, ok := dashboard.Get(id)
	if !ok {
		return Widget{}, fmt.Errorf("%w %s", ErrUnknownDashboard, quote(id))
	}
	if !slices.ContainsFunc(def.Widgets(), func(w dashboard.Widget) bool { return w.ID == widget }) {
		return Widget{}, fmt.Errorf("%w %s in dashboard %s", ErrUnknownWidget, quote(widget), id)
	}
	d, err := e.compute(ctx, id, widget, p)
	if err != nil {
		return Widget{}, err
	}
	for _, s := range d.Sections {
		for _, w := range s.Widgets {
			if w.ID == widget {
				return w, nil
			}
		}
	}
	return Widget{}, fmt.Errorf("%w %s in dashboard %s", ErrUnknownWidget, quote(widget), id)
}

// compute computes dashboard id, or only its widget named only when that
// is not empty.
func (e *Engine) compute(ctx context.Context, id, only string, p Params) (Dashboard, error) {
	def, ok := dashboard.Get(id)
	if !ok {
		return Dashboard{}, fmt.Errorf("%w %s", ErrUnknownDashboard, quote(id))
	}
	if only != "" {
		for i := range def.Sections {
			def.Sections[i].Widgets = slices.DeleteFunc(def.Sections[i].Widgets, func(w dashboard.Widget) bool { return w.ID != only })
		}
	}
	p.From, p.To = ms(p.From), ms(p.To)
	if err := p.validate(); err != nil {
		return Dashboard{}, err
	}
	var usageErr error
	if e.usage != nil {
		usageErr = e.usage()
	}
	pl, err := planFor(def.Widgets(), usageErr == nil)
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard %s: %w", id, err)
	}
	b := store.Buckets{From: p.From, To: p.To, Step: Step(p.To.Sub(p.From))}
	d, err := e.fetch(ctx, pl, b, p.Filter, ms(e.now()))
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard %s: %w", id, err)
	}
	out := Dashboard{
		ID:          def.ID,
		Title:       def.Title,
		From:        b.From,
		To:          b.To,
		StepSeconds: int64(b.Step / time.Second),
		Filters:     Filters{Cluster: p.Filter.Cluster, Namespace: p.Filter.Namespace, CronJob: p.Filter.CronJob},
		Sections:    make([]Section, 0, len(def.Sections)),
	}
	for _, s := range def.Sections {
		sec := Section{ID: s.ID, Title: s.Title, Widgets: make([]Widget, 0, len(s.Widgets))}
		for _, w := range s.Widgets {
			if usageErr != nil && w.Query.Source.Usage() {
				h := head(w)
				h.Available, h.Reason = false, "resource usage unavailable: "+usageErr.Error()
				sec.Widgets = append(sec.Widgets, Widget{ListWidget: h})
				continue
			}
			sec.Widgets = append(sec.Widgets, d.widget(w))
		}
		out.Sections = append(out.Sections, sec)
	}
	return out, nil
}

// data holds the store's answers that one dashboard's widgets are made of.
type data struct {
	b       store.Buckets
	counts  map[store.Metric][]int64 // per bucket
	pending []int64                  // Pending at the end of each bucket that has begun, capped at now
	top     []store.CronJobCount
	events  []model.Event
	keys    map[store.Breakdown][]store.KeyCounts
	jobUse  []store.CronJobTotal               // per CronJob over the range
	jobSums map[store.CronJobKey][]store.Usage // per bucket, of the CronJobs some widget shows
	podUse  []store.PodUsage                   // the top pods, per bucket
}

// plan is what one dashboard asks of the store, each query once.
type plan struct {
	metrics    []store.Metric       // Count, in order of first use
	pending    bool                 // PendingAt
	topLimit   int                  // TopCronJobs, when > 0
	evLimit    int                  // RecentEvents, when > 0
	breakdowns []store.Breakdown    // CountBy, each once
	jobUse     bool                 // UsageTotals
	jobQs      []dashboard.Quantity // UsageByCronJob of the CronJobs shown for each
	podLimit   int                  // UsageByPod, when > 0
}

// podsShown is how many pods the by-pod widgets show.
const podsShown = 10

// planFor plans the store calls of ws; with usage false, the resource
// usage widgets need none.
func planFor(ws []dashboard.Widget, usage bool) (plan, error) {
	var p plan
	count := func(ms ...store.Metric) {
		for _, m := range ms {
			if !slices.Contains(p.metrics, m) {
				p.metrics = append(p.metrics, m)
			}
		}
	}
	for _, w := range ws {
		if err := w.Validate(); err != nil {
			return plan{}, err
		}
		if !w.Available {
			continue
		}
		switch q := w.Query; q.Source {
		case dashboard.SourceCount:
			count(q.Metric)
		case dashboard.SourceRatio:
			count(q.Metric, q.Denominator)
		case dashboard.SourcePending:
			p.pending = true
		case dashboard.SourceBadPhase:
			count(q.Metric)
			p.pending = true
		case dashboard.SourceTopCronJobs:
			p.topLimit = max(p.topLimit, q.Limit)
		case dashboard.SourceEvents:
			count(q.Metric)
			p.evLimit = max(p.evLimit, q.Limit)
		case dashboard.SourceBreakdown:
			if !slices.Contains(p.breakdowns, q.Breakdown) {
				p.breakdowns = append(p.breakdowns, q.Breakdown)
			}
		case dashboard.SourceUsageByCronJob:
			if usage {
				p.jobUse = true
				p.jobQs = append(p.jobQs, q.Quantity)
			}
		case dashboard.SourceCronJobResources:
			p.jobUse = p.jobUse || usage
		case dashboard.SourceUsageByPod:
			if usage {
				p.podLimit = podsShown
			}
		}
	}
	return p, nil
}

// fetch runs the queries of pl, concurrently.
func (e *Engine) fetch(ctx context.Context, pl plan, b store.Buckets, filt store.Filter, now time.Time) (*data, error) {
	d := &data{b: b, counts: make(map[store.Metric][]int64, len(pl.metrics)),
		keys: make(map[store.Breakdown][]store.KeyCounts, len(pl.breakdowns))}
	counts := make([][]int64, len(pl.metrics)) // one slot per call, filled concurrently
	keys := make([][]store.KeyCounts, len(pl.breakdowns))
	var calls []func(context.Context) error
	for i, m := range pl.metrics {
		calls = append(calls, func(ctx context.Context) error {
			c, err := e.store.Count(ctx, m, b, filt)
			if err != nil {
				return fmt.Errorf("count %s: %w", m, err)
			}
			if len(c) != b.N() {
				return fmt.Errorf("count %s: store gave %d buckets, want %d", m, len(c), b.N())
			}
			counts[i] = c
			return nil
		})
	}
	for i, k := range pl.breakdowns {
		calls = append(calls, func(ctx context.Context) error {
			kc, err := e.store.CountBy(ctx, k, b, filt)
			if err != nil {
				return fmt.Errorf("count by %s: %w", k, err)
			}
			for _, c := range kc {
				if len(c.Counts) != b.N() {
					return fmt.Errorf("count by %s: store gave %d buckets, want %d", k, len(c.Counts), b.N())
				}
			}
			keys[i] = kc
			return nil
		})
	}
	if at := pendingInstants(b, now); pl.pending && len(at) > 0 {
		calls = append(calls, func(ctx context.Context) error {
			n, err := e.store.PendingAt(ctx, at, filt)
			if err != nil {
				return fmt.Errorf("pending: %w", err)
			}
			if len(n) != len(at) {
				return fmt.Errorf("pending: store gave %d values for %d instants", len(n), len(at))
			}
			d.pending = n
			return nil
		})
	}
	if pl.topLimit > 0 {
		calls = append(calls, func(ctx context.Context) (err error) {
			if d.top, err = e.store.TopCronJobs(ctx, b.From, b.To, filt, pl.topLimit); err != nil {
				return fmt.Errorf("top cronjobs: %w", err)
			}
			return nil
		})
	}
	if pl.evLimit > 0 {
		calls = append(calls, func(ctx context.Context) (err error) {
			if d.events, err = e.store.RecentEvents(ctx, b.From, b.To, filt, pl.evLimit); err != nil {
				return fmt.Errorf("recent events: %w", err)
			}
			return nil
		})
	}
	if pl.jobUse {
		calls = append(calls, func(ctx context.Context) (err error) {
			if d.jobUse, err = e.store.UsageTotals(ctx, b, filt); err != nil {
				return fmt.Errorf("usage totals: %w", err)
			}
			if len(pl.jobQs) == 0 {
				return nil
			}
			// The series of the CronJobs that some widget shows.
			var keys []store.CronJobKey
			for _, q := range pl.jobQs {
				for _, t := range d.topCronJobs(q) {
					if !slices.Contains(keys, t.CronJobKey) {
						keys = append(keys, t.CronJobKey)
					}
				}
			}
			sums, err := e.store.UsageByCronJob(ctx, b, keys)
			if err != nil {
				return fmt.Errorf("usage by cronjob: %w", err)
			}
			d.jobSums = make(map[store.CronJobKey][]store.Usage, len(sums))
			for _, u := range sums {
				if len(u.Sums) != b.N() {
					return fmt.Errorf("usage by cronjob: store gave %d buckets, want %d", len(u.Sums), b.N())
				}
				d.jobSums[u.CronJobKey] = u.Sums
			}
			return nil
		})
	}
	if pl.podLimit > 0 {
		calls = append(calls, func(ctx context.Context) (err error) {
			if d.podUse, err = e.store.UsageByPod(ctx, b, filt, pl.podLimit); err != nil {
				return fmt.Errorf("usage by pod: %w", err)
			}
			return nil
		})
	}

	if err := parallel(ctx, maxParallel, calls); err != nil {
		return nil, err
	}
	for i, m := range pl.metrics {
		d.counts[m] = counts[i]
	}
	for i, k := range pl.breakdowns {
		d.keys[k] = keys[i]
	}
	return d, nil
}

// pendingInstants are the instants at which the Pending gauge is read: the
// end of each bucket that began before now, capped at now. The last one is
// min(to, now), the widget's value. Buckets that have not begun get none.
func pendingInstants(b store.Buckets, now time.Time) []time.Time {
	var at []time.Time
	for i := range b.N() {
		if !b.Start(i).Before(now) {
			break
		}
		at = append(at, minTime(b.End(i), now))
	}
	return at
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// parallel runs calls with at most limit at once, and returns the first
// error, or ctx's. The first error cancels the calls still running.
func parallel(ctx context.Context, limit int, calls []func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
loop:
	for _, call := range calls {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := call(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
