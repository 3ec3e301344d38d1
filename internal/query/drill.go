package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batchlens/batchlens/internal/dashboard"
	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// ErrUnknownWidget is returned (wrapped) for a widget id that the dashboard
// does not have.
var ErrUnknownWidget = errors.New("unknown widget")

// ErrNotFound is returned (wrapped) for a run, pod or CronJob batchlens
// does not know.
var ErrNotFound = errors.New("not found")

// Limits of the drill-down lists.
const (
	MaxItems      = 1000 // runs or pods behind one widget number
	MaxRunEvents  = 200  // events of one run or pod
	CronJobRuns   = 200  // latest runs on a CronJob's page
	CronJobEvents = 50   // latest events on a CronJob's page
)

// Items is the body of GET /api/v1/dashboards/{id}/widgets/{widget}/items:
// the runs, pods or events behind a widget's number, for the same range and
// filters as the dashboard.
//
//	{"dashboard": "leadership", "widget": "pods_oom", "title": "…", "series": "",
//	 "from": "…", "to": "…", "filters": {…},
//	 "kind": "pods",           // "runs", "pods" or "events"
//	 "total": 7,               // the widget's number these items are behind
//	 "count_label": "pods",    // what total counts
//	 "truncated": false,       // true when there are more than MaxItems
//	 "pods": [ {Pod}, … ]}     // or "runs": [ {Run}, … ] or "events": [ {Event}, … ]
//
// For a rate widget the items are its numerator (the succeeded or failed
// pods) and total is their number; for container_restarts total counts
// restarts and the items are the pods that restarted.
type Items struct {
	Dashboard  string    `json:"dashboard"`
	Widget     string    `json:"widget"`
	Title      string    `json:"title"`
	Series     string    `json:"series"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Filters    Filters   `json:"filters"`
	Kind       string    `json:"kind"`
	Total      int64     `json:"total"`
	CountLabel string    `json:"count_label"`
	Truncated  bool      `json:"truncated"`
	Runs       []Run     `json:"runs,omitzero"`
	Pods       []Pod     `json:"pods,omitzero"`
	Events     []Event   `json:"events,omitzero"`
}

// Run is a run (a Job) in the API. Unknown times are left out.
type Run struct {
	Cluster     string    `json:"cluster"`
	Namespace   string    `json:"namespace"`
	UID         string    `json:"uid"`
	Name        string    `json:"name"`
	CronJob     string    `json:"cronjob"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	DeletedAt   time.Time `json:"deleted_at,omitzero"`
	Outcome     string    `json:"outcome"`
	Reason      string    `json:"reason"`
	Message     string    `json:"message"`
	Succeeded   int32     `json:"succeeded"`
	Failed      int32     `json:"failed"`
}

// Pod is a pod in the API. Unknown times are left out.
type Pod struct {
	Cluster      string    `json:"cluster"`
	Namespace    string    `json:"namespace"`
	UID          string    `json:"uid"`
	Name         string    `json:"name"`
	JobUID       string    `json:"job_uid"`
	JobName      string    `json:"job_name"`
	CronJob      string    `json:"cronjob"`
	Node         string    `json:"node"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
	ScheduledAt  time.Time `json:"scheduled_at,omitzero"`
	StartedAt    time.Time `json:"started_at,omitzero"`
	PendingUntil time.Time `json:"pending_until,omitzero"`
	FinishedAt   time.Time `json:"finished_at,omitzero"`
	DeletedAt    time.Time `json:"deleted_at,omitzero"`
	Phase        string    `json:"phase"`
	Reason       string    `json:"reason"`
	Message      string    `json:"message"`
}

// Termination is one ended container attempt in the API. Message holds
// the container's termination message, which is the tail of its log when
// the pod asks for it (terminationMessagePolicy FallbackToLogsOnError).
type Termination struct {
	Container  string    `json:"container"`
	Attempt    int32     `json:"attempt"`
	Reason     string    `json:"reason"`
	ExitCode   int32     `json:"exit_code"`
	Signal     int32     `json:"signal"`
	Message    string    `json:"message"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Restart is one container restart in the API.
type Restart struct {
	Container string    `json:"container"`
	Index     int32     `json:"index"`
	At        time.Time `json:"at,omitzero"`
}

// Waiting is one waiting episode of a container in the API.
type Waiting struct {
	Container string    `json:"container"`
	Attempt   int32     `json:"attempt"`
	Reason    string    `json:"reason"`
	Message   string    `json:"message"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
}

// PodDetail is the body of GET /api/v1/pods/{cluster}/{uid}, and each pod
// of a RunDetail (without Run and Events there):
//
//	{"pod": {Pod}, "run": {Run} | absent, "terminations": [...], "restarts": [...],
//	 "waits": [...], "events": [...]}
type PodDetail struct {
	Pod          Pod           `json:"pod"`
	Run          *Run          `json:"run,omitzero"`
	Terminations []Termination `json:"terminations"`
	Restarts     []Restart     `json:"restarts"`
	Waits        []Waiting     `json:"waits"`
	Events       []Event       `json:"events,omitzero"`
}

// RunDetail is the body of GET /api/v1/runs/{cluster}/{uid}: the run, its
// pods with their evidence, and the events about the run and its pods,
// newest first (at most MaxRunEvents).
type RunDetail struct {
	Run    Run         `json:"run"`
	Pods   []PodDetail `json:"pods"`
	Events []Event     `json:"events"`
}

// CronJobDetail is the body of GET /api/v1/cronjobs/{cluster}/{namespace}/{name}:
// a CronJob over a range. RunsCreated, RunsSucceeded and RunsFailed count
// as the jobs, jobs_succeeded and jobs_failed widgets do with the CronJob as
// filter; SuccessRate is RunsSucceeded ÷ (RunsSucceeded + RunsFailed) × 100
// (null when none finished); FailureReasons splits RunsFailed by the Job's
// failure reason; Runs are the latest CronJobRuns runs created in the range,
// Events the latest CronJobEvents events about it, its runs or their pods.
type CronJobDetail struct {
	Cluster        string        `json:"cluster"`
	Namespace      string        `json:"namespace"`
	Name           string        `json:"name"`
	From           time.Time     `json:"from"`
	To             time.Time     `json:"to"`
	RunsCreated    int64         `json:"runs_created"`
	RunsSucceeded  int64         `json:"runs_succeeded"`
	RunsFailed     int64         `json:"runs_failed"`
	SuccessRate    Number        `json:"success_rate"`
	FailureReasons []ReasonCount `json:"failure_reasons"`
	Runs           []Run         `json:"runs"`
	Events         []Event       `json:"events"`
}

// ReasonCount is how many failed runs had one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// Items returns the runs, pods or events behind widget widgetID of dashboard
// dashID over p. series picks one series of a widget that has several
// (pods_bad_phase: "Pending" or "Failed"); it must be empty for others. It
// returns errors wrapping ErrUnknownDashboard or ErrUnknownWidget, a
// *ParamError for a bad series or a widget without items, and the store's
// errors.
func (e *Engine) Items(ctx context.Context, dashID, widgetID, series string, p Params) (Items, error) {
	def, ok := dashboard.Get(dashID)
	if !ok {
		return Items{}, fmt.Errorf("%w %s", ErrUnknownDashboard, quote(dashID))
	}
	w, ok := findWidget(def, widgetID)
	if !ok {
		return Items{}, fmt.Errorf("%w %s on dashboard %s", ErrUnknownWidget, quote(widgetID), def.ID)
	}
	p.From, p.To = ms(p.From), ms(p.To)
	if err := p.validate(); err != nil {
		return Items{}, err
	}
	out := Items{Dashboard: def.ID, Widget: w.ID, Title: w.Title, Series: series, From: p.From, To: p.To,
		Filters: Filters{Cluster: p.Filter.Cluster, Namespace: p.Filter.Namespace, CronJob: p.Filter.CronJob}}
	if !w.Available {
		return Items{}, paramErr("widget", "%s has no data yet, so nothing behind it", quote(w.ID))
	}
	q := w.Query
	if q.Source == dashboard.SourceBadPhase {
		switch series {
		case "Pending":
			q = dashboard.Query{Source: dashboard.SourcePending}
		case "Failed":
			q = dashboard.Query{Source: dashboard.SourceCount, Metric: q.Metric}
		default:
			return Items{}, paramErr("series", "must be Pending or Failed for %s", quote(w.ID))
		}
	} else if q.Source == dashboard.SourceBreakdown {
		if series == "" {
			return Items{}, paramErr("series", "is required for %s: one of its keys", quote(w.ID))
		}
	} else if series != "" {
		return Items{}, paramErr("series", "%s has a single series", quote(w.ID))
	}
	l := store.Listing{Metric: q.Metric, From: p.From, To: p.To, Filter: p.Filter, Limit: MaxItems}
	var err error
	switch q.Source {
	case dashboard.SourceCount, dashboard.SourceRatio:
		err = e.listCount(ctx, &out, l)
	case dashboard.SourcePending:
		err = e.listPending(ctx, &out, p)
	case dashboard.SourceEvents:
		err = e.listEvents(ctx, &out, l)
	case dashboard.SourceBreakdown:
		err = e.listBreakdown(ctx, &out, q.Breakdown, series, l)
	default:
		return Items{}, paramErr("widget", "%s links to CronJobs, not to a list", quote(w.ID))
	}
	if err != nil {
		return Items{}, fmt.Errorf("items of %s/%s: %w", def.ID, w.ID, err)
	}
	return out, nil
}

func findWidget(d dashboard.Dashboard, id string) (dashboard.Widget, bool) {
	for _, w := range d.Widgets() {
		if w.ID == id {
			return w, true
		}
	}
	return dashboard.Widget{}, false
}

// total counts m over [l.From, l.To) in one bucket.
func (e *Engine) total(ctx context.Context, m store.Metric, l store.Listing) (int64, error) {
	c, err := e.store.Count(ctx, m, store.Buckets{From: l.From, To: l.To, Step: l.To.Sub(l.From)}, l.Filter)
	if err != nil {
		return 0, err
	}
	return sum(c), nil
}

func (e *Engine) listCount(ctx context.Context, out *Items, l store.Listing) error {
	total, err := e.total(ctx, l.Metric, l)
	if err != nil {
		return err
	}
	out.Total = total
	switch l.Metric {
	case store.RunsCreated, store.RunsSucceeded, store.RunsFailed:
		runs, err := e.store.Runs(ctx, l)
		if err != nil {
			return err
		}
		out.Kind, out.CountLabel, out.Runs = "runs", "runs", make([]Run, 0, len(runs))
		for _, r := range runs {
			out.Runs = append(out.Runs, apiRun(r))
		}
		out.Truncated = int64(len(runs)) < total
		return nil
	}
	pods, err := e.store.Pods(ctx, l)
	if err != nil {
		return err
	}
	out.Kind, out.CountLabel = "pods", "pods"
	out.Pods = apiPods(pods)
	if l.Metric == store.Restarts {
		out.CountLabel = "restarts"
		out.Truncated = len(pods) == l.Limit
	} else {
		out.Truncated = int64(len(pods)) < total
	}
	return nil
}

// listPending lists the pods Pending at the widget's instant: min(to, now).
func (e *Engine) listPending(ctx context.Context, out *Items, p Params) error {
	at := minTime(p.To, ms(e.now()))
	out.Kind, out.CountLabel, out.Pods = "pods", "pods", []Pod{}
	if !at.After(p.From) { // the widget is null: the range has not begun
		return nil
	}
	n, err := e.store.PendingAt(ctx, []time.Time{at}, p.Filter)
	if err != nil {
		return err
	}
	pods, err := e.store.PendingPods(ctx, at, p.Filter, MaxItems)
	if err != nil {
		return err
	}
	out.Total, out.Pods = n[0], apiPods(pods)
	out.Truncated = int64(len(pods)) < out.Total
	return nil
}

func (e *Engine) listEvents(ctx context.Context, out *Items, l store.Listing) error {
	total, err := e.total(ctx, store.Events, l)
	if err != nil {
		return err
	}
	evs, err := e.store.RecentEvents(ctx, l.From, l.To, l.Filter, MaxItems)
	if err != nil {
		return err
	}
	out.Kind, out.CountLabel, out.Total, out.Events = "events", "events", total, apiEvents(evs)
	out.Truncated = int64(len(evs)) < total
	return nil
}

// listBreakdown lists the pods with facts of key in the range; the total
// is the key's number on the widget (facts, not pods).
func (e *Engine) listBreakdown(ctx context.Context, out *Items, k store.Breakdown, key string, l store.Listing) error {
	keys, err := e.store.CountBy(ctx, k, store.Buckets{From: l.From, To: l.To, Step: l.To.Sub(l.From)}, l.Filter)
	if err != nil {
		return err
	}
	for _, kc := range keys {
		if kc.Key == key {
			out.Total = sum(kc.Counts)
		}
	}
	pods, err := e.store.PodsWith(ctx, k, key, l)
	if err != nil {
		return err
	}
	label := map[store.Breakdown]string{store.TerminationsByReason: "terminations", store.WaitsByReason: "waiting episodes",
		store.RestartsByContainer: "restarts"}[k]
	out.Kind, out.CountLabel, out.Pods = "pods", label, apiPods(pods)
	out.Truncated = len(pods) == l.Limit
	return nil
}

// Run returns a run with its pods, their evidence, and the events about
// them. It returns an error wrapping ErrNotFound for an unknown run.
func (e *Engine) Run(ctx context.Context, cluster, uid string) (RunDetail, error) {
	r, err := e.store.Run(ctx, cluster, uid)
	if err != nil {
		return RunDetail{}, notFound(err)
	}
	pods, err := e.store.RunPods(ctx, cluster, uid)
	if err != nil {
		return RunDetail{}, err
	}
	out := RunDetail{Run: apiRun(r), Pods: make([]PodDetail, 0, len(pods))}
	uids := []string{uid}
	for _, p := range pods {
		d, err := e.podDetail(ctx, p)
		if err != nil {
			return RunDetail{}, err
		}
		out.Pods = append(out.Pods, d)
		uids = append(uids, p.UID)
	}
	evs, err := e.store.ObjectEvents(ctx, cluster, uids, MaxRunEvents)
	if err != nil {
		return RunDetail{}, err
	}
	out.Events = apiEvents(evs)
	return out, nil
}

// Pod returns a pod with its evidence, its run when known, and the events
// about it. It returns an error wrapping ErrNotFound for an unknown pod.
func (e *Engine) Pod(ctx context.Context, cluster, uid string) (PodDetail, error) {
	p, err := e.store.Pod(ctx, cluster, uid)
	if err != nil {
		return PodDetail{}, notFound(err)
	}
	out, err := e.podDetail(ctx, p)
	if err != nil {
		return PodDetail{}, err
	}
	if p.JobUID != "" {
		r, err := e.store.Run(ctx, cluster, p.JobUID)
		switch {
		case err == nil:
			out.Run = ptr(apiRun(r))
		case !errors.Is(err, store.ErrNotFound):
			return PodDetail{}, err
		}
	}
	evs, err := e.store.ObjectEvents(ctx, cluster, []string{uid}, MaxRunEvents)
	if err != nil {
		return PodDetail{}, err
	}
	out.Events = apiEvents(evs)
	return out, nil
}

// CronJob returns CronJob name of namespace in cluster over [p.From, p.To);
// p's filters are ignored. A CronJob without runs in the range is not an
// error: its numbers are zero.
func (e *Engine) CronJob(ctx context.Context, cluster, namespace, name string, p Params) (CronJobDetail, error) {
	p.From, p.To = ms(p.From), ms(p.To)
	p.Filter = store.Filter{Cluster: cluster, Namespace: namespace, CronJob: name}
	if err := p.validate(); err != nil {
		return CronJobDetail{}, err
	}
	out := CronJobDetail{Cluster: cluster, Namespace: namespace, Name: name, From: p.From, To: p.To}
	l := store.Listing{From: p.From, To: p.To, Filter: p.Filter, Limit: CronJobRuns}
	var err error
	for _, c := range []struct {
		m   store.Metric
		dst *int64
	}{{store.RunsCreated, &out.RunsCreated}, {store.RunsSucceeded, &out.RunsSucceeded}, {store.RunsFailed, &out.RunsFailed}} {
		if *c.dst, err = e.total(ctx, c.m, l); err != nil {
			return CronJobDetail{}, err
		}
	}
	out.SuccessRate = ratio(out.RunsSucceeded, out.RunsSucceeded+out.RunsFailed)
	reasons, err := e.store.FailureReasons(ctx, p.From, p.To, p.Filter)
	if err != nil {
		return CronJobDetail{}, err
	}
	out.FailureReasons = make([]ReasonCount, 0, len(reasons))
	for _, r := range reasons {
		out.FailureReasons = append(out.FailureReasons, ReasonCount{Reason: r.Reason, Count: r.Count})
	}
	l.Metric = store.RunsCreated
	runs, err := e.store.Runs(ctx, l)
	if err != nil {
		return CronJobDetail{}, err
	}
	out.Runs = make([]Run, 0, len(runs))
	for _, r := range runs {
		out.Runs = append(out.Runs, apiRun(r))
	}
	evs, err := e.store.RecentEvents(ctx, p.From, p.To, p.Filter, CronJobEvents)
	if err != nil {
		return CronJobDetail{}, err
	}
	out.Events = apiEvents(evs)
	return out, nil
}

func (e *Engine) podDetail(ctx context.Context, p model.Pod) (PodDetail, error) {
	ts, rs, ws, err := e.store.PodEvidence(ctx, p.Cluster, p.UID)
	if err != nil {
		return PodDetail{}, err
	}
	d := PodDetail{Pod: apiPod(p), Terminations: make([]Termination, 0, len(ts)),
		Restarts: make([]Restart, 0, len(rs)), Waits: make([]Waiting, 0, len(ws))}
	for _, t := range ts {
		d.Terminations = append(d.Terminations, Termination{Container: t.Container, Attempt: t.Attempt, Reason: t.Reason,
			ExitCode: t.ExitCode, Signal: t.Signal, Message: t.Message, StartedAt: t.StartedAt, FinishedAt: t.FinishedAt})
	}
	for _, r := range rs {
		d.Restarts = append(d.Restarts, Restart{Container: r.Container, Index: r.Index, At: r.At})
	}
	for _, w := range ws {
		d.Waits = append(d.Waits, Waiting{Container: w.Container, Attempt: w.Attempt, Reason: w.Reason,
			Message: w.Message, FirstSeen: w.FirstSeen, LastSeen: w.LastSeen})
	}
	return d, nil
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func apiRun(r model.Run) Run {
	return Run{Cluster: r.Cluster, Namespace: r.Namespace, UID: r.UID, Name: r.Name, CronJob: r.CronJob,
		CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DeletedAt: r.DeletedAt, Outcome: r.Outcome, Reason: r.Reason, Message: r.Message,
		Succeeded: r.Succeeded, Failed: r.Failed}
}

func apiPod(p model.Pod) Pod {
	return Pod{Cluster: p.Cluster, Namespace: p.Namespace, UID: p.UID, Name: p.Name, JobUID: p.JobUID,
		JobName: p.JobName, CronJob: p.CronJob, Node: p.Node, CreatedAt: p.CreatedAt, ScheduledAt: p.ScheduledAt,
		StartedAt: p.StartedAt, PendingUntil: p.PendingUntil, FinishedAt: p.FinishedAt, DeletedAt: p.DeletedAt,
		Phase: p.Phase, Reason: p.Reason, Message: p.Message}
}

func apiPods(ps []model.Pod) []Pod {
	out := make([]Pod, 0, len(ps))
	for _, p := range ps {
		out = append(out, apiPod(p))
	}
	return out
}

func apiEvents(evs []model.Event) []Event {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		out = append(out, apiEvent(e))
	}
	return out
}
