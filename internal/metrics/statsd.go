package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/batchlens/batchlens/internal/store"
)

// DatadogName is the family's name in Datadog: what the Agent's OpenMetrics
// check makes of the Prometheus name with namespace "batchlens" and
// raw_metric_prefix "batchlens_" (a counter's "_total" becomes ".count"),
// and what StatsD sends, so dashboards work with either.
func DatadogName(f Family) string {
	n := "batchlens." + strings.TrimPrefix(f.Name, "batchlens_")
	if f.Kind == Counter {
		n = strings.TrimSuffix(n, "_total") + ".count"
	}
	return n
}

// Datadog tag keys of the label values; the class label keeps its name.
const (
	TagCluster   = "kube_cluster_name"
	TagNamespace = "kube_namespace"
	TagCronJob   = "kube_cronjob"
)

// Tags returns p's Datadog tags for family f; empty values are left out.
func Tags(f Family, p Point) []string {
	var tags []string
	add := func(k, v string) {
		if v != "" {
			tags = append(tags, k+":"+v)
		}
	}
	add(TagCluster, p.Cluster)
	add(TagNamespace, p.Namespace)
	add(TagCronJob, p.CronJob)
	if f.Class != "" {
		add(f.Class, p.Class)
	}
	return tags
}

// StatsD sends the Snapshot to DogStatsD: each counter as a count of its
// increase since the previous send, each gauge as a gauge. The first
// Snapshot, taken by Run before it waits, is the baseline: what an earlier
// batchlens process already sent is not sent again after a restart.
type StatsD struct {
	client   statsd.ClientInterface
	store    store.Store
	now      func() time.Time
	log      *slog.Logger
	interval time.Duration
	families []Family
	last     map[pointKey]float64
}

type pointKey struct {
	family string
	group  store.Group
	class  string
}

// NewStatsD returns a sender to client that reads st every interval.
func NewStatsD(client statsd.ClientInterface, st store.Store, now func() time.Time, log *slog.Logger, interval time.Duration) *StatsD {
	return &StatsD{client: client, store: st, now: now, log: log, interval: interval, families: Families()}
}

// Run sends every interval until ctx ends, then once more (so a graceful
// stop loses nothing). A failed read is logged and retried at the next
// tick; its increase is sent then. It returns nil when ctx ends.
func (s *StatsD) Run(ctx context.Context) error {
	if err := s.Send(ctx); err != nil { // the baseline; on failure the next read is
		s.log.Warn("dogstatsd: first read failed, will retry", "err", err)
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Send(fctx); err != nil {
				s.log.Error("final dogstatsd send failed", "err", err)
			}
			return nil
		case <-t.C:
			if err := s.Send(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("dogstatsd send failed, will retry", "err", err)
			}
		}
	}
}

// Send reads a Snapshot and sends what changed since the last Send; the
// first call only records the baseline. It flushes the client.
func (s *StatsD) Send(ctx context.Context) error {
	snap, err := Read(ctx, s.store, s.now())
	if err != nil {
		return err
	}
	first := s.last == nil
	if first {
		s.last = map[pointKey]float64{}
	}
	var errs []error
	send := func(f Family, p Point) {
		k := pointKey{f.Name, p.Group, p.Class}
		switch {
		case first:
		case f.Kind == Gauge:
			errs = append(errs, s.client.Gauge(DatadogName(f), p.Value, Tags(f, p), 1))
		case p.Value != s.last[k]:
			errs = append(errs, s.client.Count(DatadogName(f), int64(math.Round(p.Value-s.last[k])), Tags(f, p), 1))
		}
		s.last[k] = p.Value
	}
	seen := map[pointKey]bool{}
	for _, f := range s.families {
		for _, p := range snap.Points[f.Name] {
			seen[pointKey{f.Name, p.Group, p.Class}] = true
			send(f, p)
		}
	}
	// A value that left the snapshot is 0 now: a gauge whose pods all left
	// the phase, or a total that moved elsewhere (a pod's CronJob became
	// known, moving it out of the CronJob-less group).
	for _, f := range s.families {
		for k := range s.last {
			if k.family == f.Name && !seen[k] {
				send(f, Point{Group: k.group, Class: k.class})
				delete(s.last, k)
			}
		}
	}
	errs = append(errs, s.client.Flush())
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("dogstatsd: %w", err)
		}
	}
	return nil
}
