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

	// Close releases the store. No method may be called after it.
	Close() error
}
