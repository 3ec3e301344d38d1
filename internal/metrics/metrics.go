// Package metrics exports the ledger's exact counts: to Prometheus, as a
// collector that reads them from the store at every scrape (Collector), and
// to DogStatsD, as the increments of the same totals (StatsD). Both read
// one Snapshot, so they can never disagree, and since the totals are counts
// of durable facts, no counter goes backwards when batchlens restarts.
//
// Labels are the cluster, namespace and CronJob, plus one class label
// (outcome, phase or reason) on some families: never pod names or run ids.
// docs/metrics.md states what each family counts.
package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// Kind is how a family's values behave.
type Kind int

// The kinds.
const (
	Counter Kind = iota // never decreases; DogStatsD sends its increments as counts
	Gauge               // a level at the instant read
)

// Family is one exported metric.
type Family struct {
	Name  string // Prometheus name; Datadog's is DatadogName
	Help  string
	Kind  Kind
	Class string // the label that Total.Class fills, "" for none
}

// The families' names.
const (
	JobRuns      = "batchlens_job_runs_total"
	PodsFinished = "batchlens_pods_finished_total"
	PodFailures  = "batchlens_pod_failures_total"
	OOMKills     = "batchlens_oom_kills_total"
	CrashLoops   = "batchlens_crashloop_pods_total"
	Restarts     = "batchlens_container_restarts_total"
	Pods         = "batchlens_pods"
	LastSuccess  = "batchlens_cronjob_last_success_timestamp_seconds"
	PendingAge   = "batchlens_pending_pod_max_age_seconds"
)

// Families returns every family a Snapshot holds, in a fixed order.
func Families() []Family {
	return []Family{
		{Name: JobRuns, Kind: Counter, Class: "outcome",
			Help: "Runs (Jobs) counted at each step: outcome=created when the Job was created, succeeded or failed when it finished (each run counts under created and then under one of the two)."},
		{Name: PodsFinished, Kind: Counter, Class: "phase",
			Help: "Pods that reached a final phase (Succeeded or Failed), each counted once."},
		{Name: PodFailures, Kind: Counter, Class: "reason",
			Help: "Pods that reached phase Failed, by reason: the pod's status reason, else the reason of its last container termination, else Unknown."},
		{Name: OOMKills, Kind: Counter,
			Help: "Pods with at least one container OOMKilled, each pod counted once (at its first OOM kill)."},
		{Name: CrashLoops, Kind: Counter,
			Help: "Pods with at least one container waiting in CrashLoopBackOff, each pod counted once."},
		{Name: Restarts, Kind: Counter,
			Help: "Container restarts (each increment of a container's restartCount)."},
		{Name: Pods, Kind: Gauge, Class: "phase",
			Help: "Pods Pending now (created, not yet out of Pending) and Running now (started, not finished, not deleted)."},
		{Name: LastSuccess, Kind: Gauge,
			Help: "Unix time at which the CronJob's latest successful run finished."},
		{Name: PendingAge, Kind: Gauge,
			Help: "How long the longest-waiting pod Pending now has existed, in seconds."},
	}
}

// Point is one value of a family.
type Point struct {
	store.Group
	Class string // the value of the family's Class label
	Value float64
}

// Snapshot is every family's points at one instant.
type Snapshot struct {
	At     time.Time
	Points map[string][]Point // by family name
}

// Read takes a Snapshot of st at now. Counters are Store.Totals (every fact
// the ledger holds, whatever its time), so each is the sum, over all time,
// of the widget counting the same facts.
func Read(ctx context.Context, st store.Store, now time.Time) (Snapshot, error) {
	s := Snapshot{At: now, Points: map[string][]Point{}}
	type counted struct {
		family, class string
		metric        store.Metric
	}
	counters := []counted{
		{JobRuns, "created", store.RunsCreated},
		{JobRuns, "succeeded", store.RunsSucceeded},
		{JobRuns, "failed", store.RunsFailed},
		{PodsFinished, model.PhaseSucceeded, store.PodsSucceeded},
		{PodsFinished, model.PhaseFailed, store.PodsFailed},
		{OOMKills, "", store.PodsOOM},
		{CrashLoops, "", store.PodsCrashLoop},
		{Restarts, "", store.Restarts},
	}
	steps := []func() error{
		func() error {
			var ms []store.Metric
			for _, c := range counters {
				ms = append(ms, c.metric)
			}
			totals, err := st.Totals(ctx, ms...)
			for _, c := range counters {
				s.add(c.family, totals[c.metric], func(string) string { return c.class })
			}
			return err
		},
		func() error {
			ts, err := st.PodFailureTotals(ctx)
			s.add(PodFailures, ts, func(c string) string { return c })
			return err
		},
		func() error {
			ts, err := st.PodsAt(ctx, now)
			s.add(Pods, ts, func(c string) string { return c })
			return err
		},
		func() error {
			gs, err := st.OldestPending(ctx, now)
			for _, g := range gs {
				s.Points[PendingAge] = append(s.Points[PendingAge],
					Point{Group: g.Group, Value: float64(now.Sub(g.At).Milliseconds()) / 1000})
			}
			return err
		},
		func() error {
			gs, err := st.LastSucceeded(ctx)
			for _, g := range gs {
				s.Points[LastSuccess] = append(s.Points[LastSuccess],
					Point{Group: g.Group, Value: float64(g.At.UnixMilli()) / 1000})
			}
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Snapshot{}, fmt.Errorf("read metrics: %w", err)
		}
	}
	return s, nil
}

func (s *Snapshot) add(f string, ts []store.Total, class func(string) string) {
	for _, t := range ts {
		s.Points[f] = append(s.Points[f], Point{Group: t.Group, Class: class(t.Class), Value: float64(t.N)})
	}
}
