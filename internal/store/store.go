// Package store defines where batchlens keeps its facts and how widgets read
// them back. Backends live in subpackages (store/sqlite; store/postgres
// later) and must all pass the conformance suite in store/storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/batchlens/batchlens/internal/model"
)

// ErrNotFound is returned by lookups of a single object that does not exist.
var ErrNotFound = errors.New("not found")

// Filter narrows a query. An empty field matches everything.
type Filter struct {
	Cluster   string
	Namespace string
	CronJob   string
}

// Buckets is a half-open time range [From, To) cut into consecutive buckets
// of Step, the first starting at From; the last may be shorter than Step.
type Buckets struct {
	From time.Time
	To   time.Time
	Step time.Duration
}

// N is the number of buckets.
func (b Buckets) N() int {
	if b.Step <= 0 || !b.To.After(b.From) {
		return 0
	}
	d := b.To.Sub(b.From)
	n := int(d / b.Step)
	if d%b.Step != 0 {
		n++
	}
	return n
}

// Start is the start of bucket i.
func (b Buckets) Start(i int) time.Time { return b.From.Add(time.Duration(i) * b.Step) }

// End is the end of bucket i (exclusive), never past To.
func (b Buckets) End(i int) time.Time {
	e := b.Start(i + 1)
	if e.After(b.To) {
		return b.To
	}
	return e
}

// Index is the bucket holding t, or -1 when t is outside [From, To).
func (b Buckets) Index(t time.Time) int {
	if t.Before(b.From) || !t.Before(b.To) {
		return -1
	}
	return int(t.Sub(b.From) / b.Step)
}

// Metric names a countable kind of fact. docs/widgets.md defines each one.
type Metric string

// The metrics Count understands. Each counts facts whose time falls in a bucket.
const (
	RunsCreated   Metric = "runs_created"   // runs by CreatedAt
	RunsSucceeded Metric = "runs_succeeded" // runs with Outcome Succeeded, by FinishedAt
	RunsFailed    Metric = "runs_failed"    // runs with Outcome Failed, by FinishedAt
	PodsFinished  Metric = "pods_finished"  // pods in phase Succeeded or Failed, by FinishedAt
	PodsSucceeded Metric = "pods_succeeded" // pods in phase Succeeded, by FinishedAt
	PodsFailed    Metric = "pods_failed"    // pods in phase Failed, by FinishedAt
	PodsOOM       Metric = "pods_oom"       // pods with an OOMKilled termination, by the first one's FinishedAt
	PodsCrashLoop Metric = "pods_crashloop" // pods with a CrashLoopBackOff episode, by the first one's FirstSeen
	Restarts      Metric = "restarts"       // container restarts, by Restart.At
	Events        Metric = "events"         // events, by LastSeen
)

// Metrics lists every Metric, for tests and validation; a new slice each call.
func Metrics() []Metric {
	return []Metric{RunsCreated, RunsSucceeded, RunsFailed, PodsFinished, PodsSucceeded,
		PodsFailed, PodsOOM, PodsCrashLoop, Restarts, Events}
}

// Breakdown names a count of container facts split by a key.
// docs/widgets.md defines each one.
type Breakdown string

// The breakdowns CountBy and PodsWith understand.
const (
	TerminationsByReason Breakdown = "terminations_by_reason" // container terminations by Reason, at FinishedAt
	WaitsByReason        Breakdown = "waits_by_reason"        // waiting episodes by Reason, at FirstSeen
	RestartsByContainer  Breakdown = "restarts_by_container"  // container restarts by Container, at Restart.At
)

// KeyCounts is one key of a Breakdown and its count in each bucket.
type KeyCounts struct {
	Key    string
	Counts []int64
}

// CronJobCount is one row of a top list.
type CronJobCount struct {
	Cluster   string
	Namespace string
	CronJob   string
	Count     int64
}

// Group is a CronJob in a cluster: the labels of the exported totals.
// CronJob is "" for runs (and their pods) without a CronJob.
type Group struct {
	Cluster   string
	Namespace string
	CronJob   string
}

// Total is how many facts one group holds, of one class (a failure reason, a
// phase; "" where the read has no classes).
type Total struct {
	Group
	Class string
	N     int64
}

// GroupTime is an instant of one group.
type GroupTime struct {
	Group
	At time.Time
}

// Listing selects the facts behind a count: those of Metric whose time (as
// the Metric constants define it) is in [From, To) and that match Filter,
// at most Limit of them (none when Limit ≤ 0).
type Listing struct {
	Metric Metric
	From   time.Time
	To     time.Time
	Filter Filter
	Limit  int
}

// ReasonCount is how many facts had one reason.
type ReasonCount struct {
	Reason string
	Count  int64
}

// Store keeps facts and answers widget queries. Implementations are safe for
// concurrent use. Times are compared at millisecond precision.
type Store interface {
	// Write merges all facts of f in one transaction. Merging is idempotent
	// and order-independent per field: writing the same facts again, or an
	// older version after a newer one, changes nothing. Rules: times that
	// are set once (created, scheduled, started, pending-until, finished,
	// deleted, first seen, Restart.At) keep the earliest non-zero value
	// written (so an observation-time fallback never beats an earlier or
	// exact one, in whatever order they arrive); LastSeen, Count, Succeeded
	// and Failed keep the largest; Phase only moves forward
	// (Pending < Running < Succeeded|Failed, a final phase never changes);
	// Outcome, Reason, Message, CronJob, JobUID and Node keep the first
	// non-empty value. Writing a Pod whose CronJob is empty takes the CronJob
	// of its run when the run is known, and writing a Run fills the CronJob
	// of its pods that had none. The one exception to order-independence: a
	// Run marked Inferred only completes a run already written and is
	// dropped otherwise (it comes from an event, which is seen again on
	// every relist, and the Job itself says more when it still exists).
	Write(ctx context.Context, f model.Facts) error

	// Count returns, per bucket of b, how many facts of metric m matching
	// filt have their time in that bucket (see the Metric constants).
	// The result has b.N() entries.
	Count(ctx context.Context, m Metric, b Buckets, filt Filter) ([]int64, error)

	// PendingAt returns, for each instant t in at, how many pods matching
	// filt were Pending at t: created at or before t and not yet out of
	// Pending (PendingUntil zero or after t).
	PendingAt(ctx context.Context, at []time.Time, filt Filter) ([]int64, error)

	// TopCronJobs returns the CronJobs with the most runs created in
	// [from, to), most first, ties by namespace, then name, then cluster,
	// at most limit rows. A CronJob is one per cluster: the same namespace
	// and name in two clusters are two rows. Runs without a CronJob are
	// left out.
	TopCronJobs(ctx context.Context, from, to time.Time, filt Filter, limit int) ([]CronJobCount, error)

	// RecentEvents returns the events matching filt whose LastSeen is in
	// [from, to), newest first, at most limit of them. An event matches the
	// CronJob filter when it is about that CronJob, one of its runs or one of
	// their pods.
	RecentEvents(ctx context.Context, from, to time.Time, filt Filter, limit int) ([]model.Event, error)

	// Totals returns, for each metric of ms and per group, how many facts
	// of the metric the store holds whose time is known, whatever that time
	// is: the sum of Count over a range holding every fact. Class is "".
	// Groups without facts are left out; rows are ordered by cluster,
	// namespace, CronJob. As facts are never removed, no total ever
	// decreases, except that a pod or restart written before its run moves
	// from CronJob "" to its run's CronJob. Metrics counted from the same
	// table are read together, so asking for several at once is cheaper.
	Totals(ctx context.Context, ms ...Metric) (map[Metric][]Total, error)

	// PodFailureTotals returns, per group and reason (the Class), how many pods
	// reached phase Failed with a known finish time; the reason is the pod's
	// status reason (Evicted, DeadlineExceeded, …) when it has one, else
	// OOMKilled when one of its containers was OOM-killed, else
	// "ContainerFailed" (the containers' own termination reasons are in
	// PodEvidence). Summed over reasons it equals Totals(PodsFailed).
	// Ordered by cluster, namespace, CronJob, reason.
	PodFailureTotals(ctx context.Context) ([]Total, error)

	// PodsAt returns, per group and phase (the Class), how many pods were
	// Pending at t (as PendingAt) and how many are Running: phase Running,
	// not finished and not deleted (as last seen; t does not apply).
	// Groups with no such pods are left out. Ordered by cluster, namespace,
	// CronJob, phase.
	PodsAt(ctx context.Context, t time.Time) ([]Total, error)

	// OldestPending returns, per group with pods Pending at t (as
	// PendingAt), the creation time of the earliest created of them.
	// Ordered by cluster, namespace, CronJob.
	OldestPending(ctx context.Context, t time.Time) ([]GroupTime, error)

	// LastSucceeded returns, per group with a CronJob and a namespace, the
	// latest FinishedAt of its runs that succeeded; groups without a
	// succeeded run are left out. Ordered by cluster, namespace, CronJob.
	LastSucceeded(ctx context.Context) ([]GroupTime, error)

	// Run returns one run by cluster and UID, or ErrNotFound.
	Run(ctx context.Context, cluster, uid string) (model.Run, error)

	// Pod returns one pod by cluster and UID, or ErrNotFound.
	Pod(ctx context.Context, cluster, uid string) (model.Pod, error)

	// PodEvidence returns the terminations (by container, attempt), restarts
	// (by container, index) and waiting episodes (by container, attempt,
	// reason) of one pod.
	PodEvidence(ctx context.Context, cluster, podUID string) ([]model.Termination, []model.Restart, []model.Waiting, error)

	// Runs returns the runs behind a count of l.Metric, which is
	// RunsCreated, RunsSucceeded or RunsFailed (any other is an error): the
	// runs Count counts for l's range and filter, latest metric time first
	// (ties by cluster, then UID), at most l.Limit. With a large enough
	// Limit there are exactly as many as Count gives over the range.
	Runs(ctx context.Context, l Listing) ([]model.Run, error)

	// Pods returns the pods behind a count of l.Metric, latest metric time
	// first (ties by cluster, then UID), at most l.Limit. For PodsFinished,
	// PodsSucceeded, PodsFailed, PodsOOM and PodsCrashLoop they are the pods
	// Count counts (exactly as many, with a large enough Limit; a pod known
	// only from its evidence has only Cluster and UID set). For Restarts
	// they are the pods with at least one restart in the range, ordered by
	// their latest one there. Any other metric is an error.
	Pods(ctx context.Context, l Listing) ([]model.Pod, error)

	// CountBy returns, for each key of breakdown k that has facts matching
	// filt in [b.From, b.To), how many fall in each bucket of b (b.N()
	// entries); keys with the most facts first, ties by key. Filters on
	// namespace and CronJob match a termination or wait through its pod (one
	// of a pod not written yet matches none); restarts match as Count's.
	// An unknown breakdown is an error.
	CountBy(ctx context.Context, k Breakdown, b Buckets, filt Filter) ([]KeyCounts, error)

	// PodsWith returns the pods that have at least one fact of breakdown k
	// with key key whose time is in [l.From, l.To), matching l.Filter as
	// CountBy does, by their latest such fact first (ties by cluster, then
	// UID), at most l.Limit; l.Metric is not used. A pod known only from its
	// evidence has only Cluster and UID set.
	PodsWith(ctx context.Context, k Breakdown, key string, l Listing) ([]model.Pod, error)

	// PendingPods returns the pods PendingAt counts at instant at for filt,
	// latest created first (ties by cluster, then UID), at most limit.
	PendingPods(ctx context.Context, at time.Time, filt Filter, limit int) ([]model.Pod, error)

	// RunPods returns the known pods of the run with UID jobUID in cluster,
	// earliest created first (ties by name, then UID); none is not an error.
	RunPods(ctx context.Context, cluster, jobUID string) ([]model.Pod, error)

	// ObjectEvents returns the events of cluster about any of the objects
	// whose UIDs are given (InvolvedUID), newest LastSeen first (ties by
	// UID), at most limit.
	ObjectEvents(ctx context.Context, cluster string, uids []string, limit int) ([]model.Event, error)

	// FailureReasons returns, for the runs matching filt that failed in
	// [from, to) (RunsFailed), how many had each Reason ("" when not
	// known), most first, ties by reason. The counts sum to RunsFailed's.
	FailureReasons(ctx context.Context, from, to time.Time, filt Filter) ([]ReasonCount, error)

	// UsageTotals returns the resource usage of every CronJob matching
	// filt (CronJob "" gathers the pods of Jobs without one, per
	// namespace) with usage in b, summed over b's whole range, in no
	// particular order. A sample counts where the rollup unit of its At
	// begins (see RollupUnit): a range holds the units that begin in it.
	UsageTotals(ctx context.Context, b Buckets, filt Filter) ([]CronJobTotal, error)

	// UsageByCronJob returns the usage of each of the given CronJobs
	// summed per bucket of b (a unit in the bucket where it begins), in
	// the order given; each has b.N() Sums.
	UsageByCronJob(ctx context.Context, b Buckets, cronJobs []CronJobKey) ([]CronJobUsage, error)

	// UsageByPod returns at most limit pods matching filt that have
	// samples in b: those that used the most CPU over their whole life
	// (ties by cluster, namespace, name, UID), with their raw samples
	// summed per bucket of b by the samples' At, their requests and
	// limits.
	UsageByPod(ctx context.Context, b Buckets, filt Filter, limit int) ([]PodUsage, error)

	// RunUsage returns the usage summary of one run: the sums and peaks of
	// every sample of its pods ever written, kept beyond any retention; the
	// zero RunUsage when it has none.
	RunUsage(ctx context.Context, cluster, runUID string) (Usage, error)

	// Prune deletes the raw samples with At before rawBefore (and the
	// usage summaries of pods whose last sample is before it) and the
	// per-CronJob rollups of units that begin before rollupBefore. Run
	// summaries are never deleted. It returns how many rows it deleted.
	Prune(ctx context.Context, rawBefore, rollupBefore time.Time) (int64, error)

	// Close releases the store. No method may be called after it.
	Close() error
}

// Usage sums samples: counters as totals, gauges integrated over the
// samples' windows, and peaks.
type Usage struct {
	CPUNanos       int64         // core-nanoseconds
	Window         time.Duration // sum of the samples' windows
	MemorySeconds  float64       // working set × window, byte-seconds
	StorageSeconds float64       // ephemeral storage × window, byte-seconds
	DiskRead       int64         // bytes
	DiskWrite      int64         // bytes
	NetRx          int64         // bytes
	NetTx          int64         // bytes
	NetErrors      int64         // receive and transmit errors

	PeakMemory    int64   // largest working set of a pod, bytes
	PeakRatio     float64 // largest working set ÷ memory limit of a container
	PeakNanoCores int64   // largest CPU usage of a pod, billionths of a core
	// RunsAtRisk counts runs whose PeakRatio first went over OOMRiskRatio
	// in the samples summed (never in a run's own summary).
	RunsAtRisk int64
}

// OOMRiskRatio is the share of its memory limit above which a run's peak
// marks its CronJob at risk of OOM kills.
const OOMRiskRatio = 0.9

// Add adds u's sums to s and keeps the larger peaks.
func (s *Usage) Add(u Usage) {
	s.CPUNanos += u.CPUNanos
	s.Window += u.Window
	s.MemorySeconds += u.MemorySeconds
	s.StorageSeconds += u.StorageSeconds
	s.DiskRead += u.DiskRead
	s.DiskWrite += u.DiskWrite
	s.NetRx += u.NetRx
	s.NetTx += u.NetTx
	s.NetErrors += u.NetErrors
	s.PeakMemory = max(s.PeakMemory, u.PeakMemory)
	s.PeakRatio = max(s.PeakRatio, u.PeakRatio)
	s.PeakNanoCores = max(s.PeakNanoCores, u.PeakNanoCores)
	s.RunsAtRisk += u.RunsAtRisk
}

// CronJobKey names a CronJob of a cluster; CronJob "" stands for the pods
// of Jobs without a CronJob in Namespace.
type CronJobKey struct {
	Cluster   string
	Namespace string
	CronJob   string
}

// CronJobTotal is one CronJob's usage over a range.
type CronJobTotal struct {
	CronJobKey
	Usage Usage
}

// CronJobUsage is one CronJob's usage per bucket.
type CronJobUsage struct {
	CronJobKey
	Sums []Usage
}

// RollupUnit is the unit that usage is summed in for buckets of step: a
// minute under an hour, an hour under six hours, else six hours (blocks
// starting at 00:00, 06:00, 12:00 and 18:00 UTC).
func RollupUnit(step time.Duration) time.Duration {
	switch {
	case step < time.Hour:
		return time.Minute
	case step < 6*time.Hour:
		return time.Hour
	}
	return 6 * time.Hour
}

// PodUsage is one pod's usage per bucket, with what it may use.
type PodUsage struct {
	Cluster   string
	Namespace string
	UID       string
	Name      string
	CronJob   string
	// Requests and limits, summed over the pod's containers that set
	// any; a limit is 0 unless each of those containers sets it.
	CPURequest, CPULimit       int64 // millicores
	MemoryRequest, MemoryLimit int64 // bytes
	StorageLimit               int64 // bytes
	Sums                       []Usage
	PeakStorage                []int64 // largest ephemeral storage per bucket
	Samples                    []int64 // samples per bucket
}
