package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// runCols and podCols are the columns scanRun and scanPod read, in order.
const (
	runCols = `r.cluster, r.uid, r.namespace, r.name, r.cronjob, r.created_at, r.scheduled_at,
		r.started_at, r.finished_at, r.outcome, r.reason, r.message, r.succeeded, r.failed, r.deleted_at`
	podCols = `p.cluster, p.uid, p.namespace, p.name, p.job_uid, p.job_name, p.cronjob, p.node,
		p.created_at, p.scheduled_at, p.started_at, p.pending_until, p.finished_at, p.phase, p.reason,
		p.message, p.deleted_at`
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (model.Run, error) {
	var r model.Run
	var created, scheduled, started, finished, deleted sql.NullInt64
	if err := sc.Scan(&r.Cluster, &r.UID, &r.Namespace, &r.Name, &r.CronJob, &created, &scheduled, &started,
		&finished, &r.Outcome, &r.Reason, &r.Message, &r.Succeeded, &r.Failed, &deleted); err != nil {
		return model.Run{}, err
	}
	r.CreatedAt, r.ScheduledAt, r.StartedAt = fromMS(created), fromMS(scheduled), fromMS(started)
	r.FinishedAt, r.DeletedAt = fromMS(finished), fromMS(deleted)
	return r, nil
}

func scanPod(sc scanner) (model.Pod, error) {
	var p model.Pod
	var created, scheduled, started, pendingUntil, finished, deleted sql.NullInt64
	if err := sc.Scan(&p.Cluster, &p.UID, &p.Namespace, &p.Name, &p.JobUID, &p.JobName, &p.CronJob, &p.Node,
		&created, &scheduled, &started, &pendingUntil, &finished, &p.Phase, &p.Reason, &p.Message, &deleted); err != nil {
		return model.Pod{}, err
	}
	p.CreatedAt, p.ScheduledAt, p.StartedAt = fromMS(created), fromMS(scheduled), fromMS(started)
	p.PendingUntil, p.FinishedAt, p.DeletedAt = fromMS(pendingUntil), fromMS(finished), fromMS(deleted)
	return p, nil
}

// queryAll runs q and scans every row with scan.
func queryAll[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Runs returns the runs behind a count of l.Metric (RunsCreated,
// RunsSucceeded or RunsFailed), latest first, at most l.Limit.
func (s *Store) Runs(ctx context.Context, l store.Listing) ([]model.Run, error) {
	switch l.Metric {
	case store.RunsCreated, store.RunsSucceeded, store.RunsFailed:
	default:
		return nil, fmt.Errorf("runs: metric %q does not count runs", l.Metric)
	}
	if l.Limit <= 0 {
		return nil, nil
	}
	src, err := metricSource(l.Metric)
	if err != nil {
		return nil, err
	}
	q, args := src.list(runCols, l)
	runs, err := queryAll(ctx, s, scanRun, q, args...)
	if err != nil {
		return nil, fmt.Errorf("runs %s: %w", l.Metric, err)
	}
	return runs, nil
}

// Pods returns the pods behind a count of l.Metric, latest first, at most
// l.Limit. For Restarts, the pods with a restart in the range.
func (s *Store) Pods(ctx context.Context, l store.Listing) ([]model.Pod, error) {
	if l.Limit <= 0 {
		return nil, nil
	}
	var (
		q    string
		args []any
	)
	switch l.Metric {
	case store.PodsFinished, store.PodsSucceeded, store.PodsFailed, store.PodsOOM, store.PodsCrashLoop:
		src, err := metricSource(l.Metric)
		if err != nil {
			return nil, err
		}
		q, args = src.list(podCols, l)
	case store.Restarts:
		pods, err := s.podsWithFacts(ctx, restartSource(), l, "")
		if err != nil {
			return nil, fmt.Errorf("pods %s: %w", l.Metric, err)
		}
		return pods, nil
	default:
		return nil, fmt.Errorf("pods: metric %q does not count pods", l.Metric)
	}
	pods, err := queryAll(ctx, s, scanPod, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pods %s: %w", l.Metric, err)
	}
	return pods, nil
}

// list is the query for the rows of src behind a count over l, selecting cols.
func (src source) list(cols string, l store.Listing) (string, []any) {
	c := src.conds(l.Filter)
	q := fmt.Sprintf(`SELECT %s FROM %s WHERE %s >= ? AND %s < ?%s ORDER BY %s DESC, 1, 2 LIMIT ?`,
		cols, src.from, src.at, src.at, c.and(), src.at)
	args := append([]any{l.From.UnixMilli(), l.To.UnixMilli()}, c.args...)
	return q, append(args, l.Limit)
}

// PendingPods returns the pods Pending at at, latest created first.
func (s *Store) PendingPods(ctx context.Context, at time.Time, filt store.Filter, limit int) ([]model.Pod, error) {
	if limit <= 0 {
		return nil, nil
	}
	var c conds
	c.filter(filt, "p.cluster", "p.namespace", "p.cronjob")
	t := at.UnixMilli()
	q := `SELECT ` + podCols + ` FROM pods p
		WHERE p.created_at <= ? AND (p.pending_until IS NULL OR p.pending_until > ?)` + c.and() + `
		ORDER BY p.created_at DESC, p.cluster, p.uid LIMIT ?`
	args := append(append([]any{t, t}, c.args...), limit)
	pods, err := queryAll(ctx, s, scanPod, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pending pods: %w", err)
	}
	return pods, nil
}

// RunPods returns the known pods of one run, earliest created first.
func (s *Store) RunPods(ctx context.Context, cluster, jobUID string) ([]model.Pod, error) {
	pods, err := queryAll(ctx, s, scanPod, `SELECT `+podCols+` FROM pods p
		WHERE p.job_uid = ? AND p.cluster = ? AND p.known = 1
		ORDER BY p.created_at, p.name, p.uid`, jobUID, cluster)
	if err != nil {
		return nil, fmt.Errorf("pods of run %s/%s: %w", cluster, jobUID, err)
	}
	return pods, nil
}

// ObjectEvents returns the events of cluster about the objects with the
// given UIDs, newest first.
func (s *Store) ObjectEvents(ctx context.Context, cluster string, uids []string, limit int) ([]model.Event, error) {
	if limit <= 0 || len(uids) == 0 {
		return nil, nil
	}
	args := []any{cluster}
	for _, u := range uids {
		args = append(args, u)
	}
	q := `SELECT ` + eventCols + ` FROM events e
		WHERE e.cluster = ? AND e.involved_uid IN (?` + strings.Repeat(", ?", len(uids)-1) + `)
		ORDER BY e.last_seen DESC, e.uid LIMIT ?`
	events, err := queryAll(ctx, s, scanEvent, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("object events: %w", err)
	}
	return events, nil
}

// FailureReasons counts the runs that failed in [from, to) by reason.
func (s *Store) FailureReasons(ctx context.Context, from, to time.Time, filt store.Filter) ([]store.ReasonCount, error) {
	src, err := metricSource(store.RunsFailed)
	if err != nil {
		return nil, err
	}
	c := src.conds(filt)
	q := `SELECT r.reason, COUNT(*) AS n FROM runs r WHERE r.finished_at >= ? AND r.finished_at < ?` + c.and() + `
		GROUP BY r.reason ORDER BY n DESC, r.reason`
	scan := func(sc scanner) (store.ReasonCount, error) {
		var rc store.ReasonCount
		return rc, sc.Scan(&rc.Reason, &rc.Count)
	}
	out, err := queryAll(ctx, s, scan, q, append([]any{from.UnixMilli(), to.UnixMilli()}, c.args...)...)
	if err != nil {
		return nil, fmt.Errorf("failure reasons: %w", err)
	}
	return out, nil
}
