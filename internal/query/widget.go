package query

import (
	"github.com/batchlens/batchlens/internal/dashboard"
	"github.com/batchlens/batchlens/internal/model"
)

// widget computes def from the fetched data, as docs/widgets.md states it.
// An unavailable widget gets its description and no numbers.
func (d *data) widget(def dashboard.Widget) Widget {
	w := Widget{ListWidget: head(def)}
	if !def.Available {
		return w
	}
	q := def.Query
	switch q.Source {
	case dashboard.SourceCount:
		c := d.counts[q.Metric]
		w.Value = ptr(Num(float64(sum(c))))
		w.Series = []Series{d.countSeries(def.ID, c)}

	case dashboard.SourceRatio:
		num, den := d.counts[q.Metric], d.counts[q.Denominator]
		w.Value = ptr(ratio(sum(num), sum(den)))
		w.Series = []Series{d.series(def.ID, func(i int) Number { return ratio(num[i], den[i]) })}

	case dashboard.SourcePending:
		w.Value = ptr(d.pendingNow())
		w.Series = []Series{d.pendingSeries(def.ID)}

	case dashboard.SourceBadPhase:
		failed := d.counts[q.Metric]
		w.Series = []Series{d.pendingSeries("Pending"), d.countSeries("Failed", failed)}
		w.Values = map[string]Number{"Pending": d.pendingNow(), "Failed": Num(float64(sum(failed)))}

	case dashboard.SourceBreakdown:
		keys := d.keys[q.Breakdown]
		w.Series = make([]Series, 0, len(keys))
		w.Values = make(map[string]Number, len(keys))
		for _, k := range keys {
			w.Series = append(w.Series, d.countSeries(k.Key, k.Counts))
			w.Values[k.Key] = Num(float64(sum(k.Counts)))
		}

	case dashboard.SourceTopCronJobs:
		w.Rows = make([]Row, 0, min(len(d.top), q.Limit))
		for _, r := range d.top[:min(len(d.top), q.Limit)] {
			w.Rows = append(w.Rows, Row{Cluster: r.Cluster, Namespace: r.Namespace, CronJob: r.CronJob, Value: r.Count})
		}

	case dashboard.SourceEvents:
		w.Events = make([]Event, 0, min(len(d.events), q.Limit))
		for _, e := range d.events[:min(len(d.events), q.Limit)] {
			w.Events = append(w.Events, apiEvent(e))
		}
		w.Total = ptr(sum(d.counts[q.Metric]))

	case dashboard.SourceUsageByCronJob:
		w.Series, w.SeriesInfo, w.Values = d.cronJobSeries(q.Quantity)
	case dashboard.SourceUsageByPod:
		w.Series, w.SeriesInfo, w.Values = d.podSeries(q.Quantity)
	case dashboard.SourceCronJobResources:
		w.Table = d.resourceTable()
	}
	return w
}

// series is one point per bucket, at the bucket's start, valued by f.
func (d *data) series(name string, f func(i int) Number) Series {
	pts := make([]Point, d.b.N())
	for i := range pts {
		pts[i] = Point{T: d.b.Start(i), V: f(i)}
	}
	return Series{Name: name, Points: pts}
}

func (d *data) countSeries(name string, c []int64) Series {
	return d.series(name, func(i int) Number { return Num(float64(c[i])) })
}

// pendingSeries is Pending at the end of each bucket; null for buckets that
// have not begun.
func (d *data) pendingSeries(name string) Series {
	return d.series(name, func(i int) Number {
		if i < len(d.pending) {
			return Num(float64(d.pending[i]))
		}
		return Number{}
	})
}

// pendingNow is Pending at min(to, now); null when the range lies wholly
// in the future.
func (d *data) pendingNow() Number {
	if len(d.pending) == 0 {
		return Number{}
	}
	return Num(float64(d.pending[len(d.pending)-1]))
}

// ratio is 100 × num ÷ den, or null when den is 0.
func ratio(num, den int64) Number {
	if den == 0 {
		return Number{}
	}
	return Num(100 * float64(num) / float64(den))
}

func sum(c []int64) int64 {
	var s int64
	for _, v := range c {
		s += v
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// apiEvent is e as the API shows it; Time is its last occurrence.
func apiEvent(e model.Event) Event {
	return Event{Time: e.LastSeen.UTC(), Cluster: e.Cluster, Type: e.Type, Reason: e.Reason, Message: e.Message,
		Namespace: e.Namespace, InvolvedKind: e.InvolvedKind, InvolvedName: e.InvolvedName,
		InvolvedUID: e.InvolvedUID, Count: e.Count}
}
