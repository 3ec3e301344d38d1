// Package dashboard defines batchlens's dashboards as data: which widgets
// exist, in which order, with which titles, and what computes each one. It is
// the single source read by the JSON API and UI (internal/query,
// internal/web) and by the Datadog exporter. docs/widgets.md states the
// meaning of every widget; the descriptions here repeat it in one line.
//
// The catalogue is immutable: All and Get build it afresh on every call, so a
// caller may change what it gets back without affecting anyone else.
package dashboard

import (
	"fmt"

	"github.com/batchlens/batchlens/internal/store"
)

// Kind is how a widget shows its data. The values are part of the JSON API.
type Kind string

// The widget kinds.
const (
	KindValue      Kind = "value"      // one number, with its time series
	KindTimeseries Kind = "timeseries" // one or more series over the range
	KindToplist    Kind = "toplist"    // ranked rows
	KindTable      Kind = "table"      // rows and columns
	KindEvents     Kind = "events"     // a list of Kubernetes events
)

// Units. Counts have no unit ("").
const (
	UnitPercent        = "%"       // rates
	UnitCores          = "cores"   // CPU
	UnitBytes          = "bytes"   // memory, storage
	UnitBytesPerSecond = "bytes/s" // disk and network throughput
)

// Source names how a widget's numbers are computed from the store.
type Source string

// The sources. Query's fields that each one reads are listed with it.
const (
	// SourceNone: not computed yet; only widgets with Available false.
	SourceNone Source = ""
	// SourceCount: the series is store.Count(Metric) per bucket and the
	// value is its sum.
	SourceCount Source = "count"
	// SourceRatio: 100 × Count(Metric) ÷ Count(Denominator), over the
	// range for the value and per bucket for the series; null where the
	// denominator is 0.
	SourceRatio Source = "ratio"
	// SourcePending: store.PendingAt at the end of the range for the value
	// and at the end of each bucket for the series.
	SourcePending Source = "pending"
	// SourceBadPhase: two series, "Pending" as SourcePending and "Failed"
	// as SourceCount of Metric.
	SourceBadPhase Source = "bad_phase"
	// SourceTopCronJobs: store.TopCronJobs, at most Limit rows, ranked by
	// Metric (store.RunsCreated, the only ranking the store offers).
	SourceTopCronJobs Source = "top_cronjobs"
	// SourceBreakdown: store.CountBy(Breakdown), one series per key, most
	// first, and each key's sum over the range in values.
	SourceBreakdown Source = "breakdown"
	// SourceEvents: store.RecentEvents, at most Limit events; the total is
	// the sum of Count(Metric).
	SourceEvents Source = "events"
	// SourceUsageByCronJob: one series per CronJob (the 10 highest over
	// the range, then "other") of Quantity, from store.UsageByCronJob.
	SourceUsageByCronJob Source = "usage_by_cronjob"
	// SourceUsageByPod: one series per pod (the 10 that used the most CPU
	// in the range) of Quantity, with the pod's request and limit, from
	// store.UsageByPod.
	SourceUsageByPod Source = "usage_by_pod"
	// SourceCronJobResources: a table of every CronJob's usage over the
	// range, from store.UsageByCronJob.
	SourceCronJobResources Source = "cronjob_resources"
)

// Quantity is which resource a usage widget shows.
type Quantity string

// The quantities; docs/widgets.md defines each per source.
const (
	QuantityCPU           Quantity = "cpu"
	QuantityMemory        Quantity = "memory"
	QuantityDisk          Quantity = "disk"    // disk I/O, read and written
	QuantityStorage       Quantity = "storage" // ephemeral storage used
	QuantityNetwork       Quantity = "network" // bytes received and sent
	QuantityNetworkErrors Quantity = "network_errors"
)

// Usage reports whether the source reads resource usage (sampled from the
// kubelets, so unavailable when batchlens may not read their stats).
func (s Source) Usage() bool {
	return s == SourceUsageByCronJob || s == SourceUsageByPod || s == SourceCronJobResources
}

// Query says what computes a widget.
type Query struct {
	Source      Source
	Metric      store.Metric    // counted, numerator, failed series, ranking or total (see Source)
	Denominator store.Metric    // SourceRatio only
	Limit       int             // SourceTopCronJobs and SourceEvents only
	Breakdown   store.Breakdown // SourceBreakdown only
	Quantity    Quantity        // SourceUsageByCronJob and SourceUsageByPod only
}

// Widget is one widget of a dashboard.
type Widget struct {
	ID          string // unique within a dashboard; part of the API
	Title       string
	Kind        Kind
	Unit        string // "" or UnitPercent
	Description string // one line, as docs/widgets.md states it
	// Available is false for widgets that are defined but not computed
	// yet; they are listed without numbers, never with made-up ones.
	Available bool
	Query     Query
}

// Section is a titled, ordered group of widgets.
type Section struct {
	ID      string
	Title   string
	Widgets []Widget
}

// Dashboard is an ordered list of sections.
type Dashboard struct {
	ID       string
	Title    string
	Sections []Section
}

// Widgets returns the dashboard's widgets in order, across its sections.
func (d Dashboard) Widgets() []Widget {
	var ws []Widget
	for _, s := range d.Sections {
		ws = append(ws, s.Widgets...)
	}
	return ws
}

// Get returns the dashboard with the given id, and whether there is one.
func Get(id string) (Dashboard, bool) {
	for _, d := range All() {
		if d.ID == id {
			return d, true
		}
	}
	return Dashboard{}, false
}

// Validate reports whether q can be computed, and is consistent with the
// widget's kind and availability.
func (w Widget) Validate() error {
	q := w.Query
	if !w.Available {
		if q != (Query{}) {
			return fmt.Errorf("widget %s: unavailable but has a query", w.ID)
		}
		return nil
	}
	want := map[Source]Kind{
		SourceCount:       KindValue,
		SourceRatio:       KindValue,
		SourcePending:     KindValue,
		SourceBadPhase:    KindTimeseries,
		SourceTopCronJobs: KindToplist,
		SourceEvents:      KindEvents,
		SourceBreakdown:   KindTimeseries,

		SourceUsageByCronJob:   KindTimeseries,
		SourceUsageByPod:       KindTimeseries,
		SourceCronJobResources: KindTable,
	}
	k, ok := want[q.Source]
	if !ok {
		return fmt.Errorf("widget %s: unknown source %q", w.ID, q.Source)
	}
	if k != w.Kind {
		return fmt.Errorf("widget %s: source %s needs kind %s, not %s", w.ID, q.Source, k, w.Kind)
	}
	switch q.Source {
	case SourceCount, SourceBadPhase, SourceEvents:
		if !knownMetric(q.Metric) {
			return fmt.Errorf("widget %s: unknown metric %q", w.ID, q.Metric)
		}
	case SourceRatio:
		if !knownMetric(q.Metric) || !knownMetric(q.Denominator) {
			return fmt.Errorf("widget %s: unknown metric in %q ÷ %q", w.ID, q.Metric, q.Denominator)
		}
	case SourceBreakdown:
		if q.Breakdown != store.TerminationsByReason && q.Breakdown != store.WaitsByReason &&
			q.Breakdown != store.RestartsByContainer {
			return fmt.Errorf("widget %s: unknown breakdown %q", w.ID, q.Breakdown)
		}
	case SourceTopCronJobs:
		if q.Metric != store.RunsCreated {
			return fmt.Errorf("widget %s: top cronjobs rank by %s only", w.ID, store.RunsCreated)
		}
	}
	if (q.Source == SourceTopCronJobs || q.Source == SourceEvents) != (q.Limit > 0) {
		return fmt.Errorf("widget %s: limit %d does not fit source %s", w.ID, q.Limit, q.Source)
	}
	byCronJob := map[Quantity]string{QuantityCPU: UnitCores, QuantityMemory: UnitBytes, QuantityDisk: UnitBytesPerSecond,
		QuantityNetwork: UnitBytesPerSecond, QuantityNetworkErrors: ""}
	byPod := map[Quantity]string{QuantityCPU: UnitCores, QuantityMemory: UnitBytes, QuantityStorage: UnitBytes,
		QuantityNetwork: UnitBytesPerSecond, QuantityNetworkErrors: ""}
	units := map[Source]map[Quantity]string{SourceUsageByCronJob: byCronJob, SourceUsageByPod: byPod}[q.Source]
	if unit, ok := units[q.Quantity]; units != nil && (!ok || unit != w.Unit) {
		return fmt.Errorf("widget %s: quantity %q with unit %q does not fit source %s", w.ID, q.Quantity, w.Unit, q.Source)
	}
	if units == nil && q.Quantity != "" {
		return fmt.Errorf("widget %s: source %s takes no quantity", w.ID, q.Source)
	}
	if w.Unit != "" && w.Unit != UnitPercent && units == nil {
		return fmt.Errorf("widget %s: unknown unit %q", w.ID, w.Unit)
	}
	return nil
}

func knownMetric(m store.Metric) bool {
	for _, k := range store.Metrics() {
		if k == m {
			return true
		}
	}
	return false
}
