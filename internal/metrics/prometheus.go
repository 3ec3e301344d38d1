package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/batchlens/batchlens/internal/store"
)

// Health names batchlens' own health metrics.
const (
	StoreReadSeconds  = "batchlens_store_read_duration_seconds"
	StoreWriteSeconds = "batchlens_store_write_duration_seconds"
	IngestLagSeconds  = "batchlens_ingest_lag_seconds"
)

// Ingest is the writer in front of the store (store.Batcher).
type Ingest interface {
	// Lag is how long the oldest fact not yet written has waited; 0 when none.
	Lag() time.Duration
	// LastWrite is how long the last successful write to the store took.
	LastWrite() time.Duration
}

// Collector is a prometheus.Collector that reads a Snapshot from the store
// at every scrape, so its counters are the ledger's counts.
type Collector struct {
	store   store.Store
	now     func() time.Time
	log     *slog.Logger
	timeout time.Duration
	ingest  Ingest

	families []Family
	descs    map[string]*prometheus.Desc
	read     *prometheus.Desc
	lagDesc  *prometheus.Desc
	write    *prometheus.Desc
}

// NewCollector returns a Collector over st, reporting the health of ingest
// (nil: not reported). One scrape's reads are bounded by timeout.
func NewCollector(st store.Store, now func() time.Time, log *slog.Logger, timeout time.Duration, ingest Ingest) *Collector {
	c := &Collector{store: st, now: now, log: log, timeout: timeout, ingest: ingest, families: Families(),
		descs: map[string]*prometheus.Desc{}}
	for _, f := range c.families {
		labels := []string{"cluster", "namespace", "cronjob"}
		if f.Class != "" {
			labels = append(labels, f.Class)
		}
		c.descs[f.Name] = prometheus.NewDesc(f.Name, f.Help, labels, nil)
	}
	c.read = prometheus.NewDesc(StoreReadSeconds, "How long this scrape's reads of the store took.", nil, nil)
	c.lagDesc = prometheus.NewDesc(IngestLagSeconds, "How long the oldest fact seen but not yet written to the store has waited (0 when none).", nil, nil)
	c.write = prometheus.NewDesc(StoreWriteSeconds, "How long the last successful write of a batch of facts to the store took.", nil, nil)
	return c
}

// Describe sends every family's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
	ch <- c.read
	ch <- c.lagDesc
	ch <- c.write
}

// Collect reads a Snapshot and sends its points. When the store fails the
// scrape fails (Prometheus records the target as down) rather than showing
// counters that would look like resets.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.ingest != nil {
		ch <- prometheus.MustNewConstMetric(c.lagDesc, prometheus.GaugeValue, c.ingest.Lag().Seconds())
		ch <- prometheus.MustNewConstMetric(c.write, prometheus.GaugeValue, c.ingest.LastWrite().Seconds())
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	snap, err := Read(ctx, c.store, c.now())
	if err != nil {
		c.log.Error("metrics scrape failed", "err", err)
		ch <- prometheus.NewInvalidMetric(c.read, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.read, prometheus.GaugeValue, time.Since(start).Seconds())
	for _, f := range c.families {
		vt := prometheus.CounterValue
		if f.Kind == Gauge {
			vt = prometheus.GaugeValue
		}
		for _, p := range snap.Points[f.Name] {
			labels := []string{p.Cluster, p.Namespace, p.CronJob}
			if f.Class != "" {
				labels = append(labels, p.Class)
			}
			ch <- prometheus.MustNewConstMetric(c.descs[f.Name], vt, p.Value, labels...)
		}
	}
}

// Handler serves /metrics from a registry of its own holding c and the Go
// runtime and process collectors.
func Handler(c *Collector, log *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogLogger{log}, Timeout: c.timeout + 5*time.Second})
}

// slogLogger adapts slog to promhttp's Logger.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Println(v ...any) { l.log.Error("metrics handler", "err", fmt.Sprint(v...)) }
