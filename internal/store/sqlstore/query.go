package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// eventsOfCronJob matches an event (alias e) about a CronJob, one of its
// runs or one of their pods; its three ? all take the CronJob's name.
const eventsOfCronJob = `(e.involved_kind = 'CronJob' AND e.involved_name = ?
	OR EXISTS (SELECT 1 FROM runs r WHERE r.cluster = e.cluster AND r.uid = e.involved_uid AND r.cronjob = ?)
	OR EXISTS (SELECT 1 FROM pods p WHERE p.cluster = e.cluster AND p.uid = e.involved_uid AND p.cronjob = ?))`

// filterEvents adds filt to the conditions of a query over events e.
func filterEvents(c *conds, filt store.Filter) {
	c.filter(store.Filter{Cluster: filt.Cluster, Namespace: filt.Namespace}, "e.cluster", "e.namespace", "")
	if filt.CronJob != "" {
		c.add(eventsOfCronJob, filt.CronJob, filt.CronJob, filt.CronJob)
	}
}

// metricSource returns where the facts of m live: a FROM clause, the column
// holding their time, and the conditions selecting them under filt.
func metricSource(m store.Metric, filt store.Filter) (from, at string, c conds, err error) {
	table := func(from, alias, at, cond string) (string, string, conds, error) {
		var c conds
		if cond != "" {
			c.add(cond)
		}
		c.filter(filt, alias+".cluster", alias+".namespace", alias+".cronjob")
		return from, at, c, nil
	}
	switch m {
	case store.RunsCreated:
		return table("runs r", "r", "r.created_at", "")
	case store.RunsSucceeded:
		return table("runs r", "r", "r.finished_at", "r.outcome = '"+model.OutcomeSucceeded+"'")
	case store.RunsFailed:
		return table("runs r", "r", "r.finished_at", "r.outcome = '"+model.OutcomeFailed+"'")
	case store.PodsFinished:
		return table("pods p", "p", "p.finished_at", "p.phase IN ('"+model.PhaseSucceeded+"', '"+model.PhaseFailed+"')")
	case store.PodsSucceeded:
		return table("pods p", "p", "p.finished_at", "p.phase = '"+model.PhaseSucceeded+"'")
	case store.PodsFailed:
		return table("pods p", "p", "p.finished_at", "p.phase = '"+model.PhaseFailed+"'")
	case store.PodsOOM:
		return table("pods p", "p", "p.oom_at", "")
	case store.PodsCrashLoop:
		return table("pods p", "p", "p.crashloop_at", "")
	case store.Restarts:
		// A restart matches namespace and CronJob through its pod. Join
		// only when needed, so that restarts of pods not written yet still
		// count when nothing but the cluster is filtered.
		if filt.Namespace == "" && filt.CronJob == "" {
			c.filter(filt, "x.cluster", "", "")
			return "restarts x", "x.restarted_at", c, nil
		}
		c.filter(filt, "x.cluster", "p.namespace", "p.cronjob")
		return "restarts x JOIN pods p ON p.cluster = x.cluster AND p.uid = x.pod_uid", "x.restarted_at", c, nil
	case store.Events:
		filterEvents(&c, filt)
		return "events e", "e.last_seen", c, nil
	}
	return "", "", c, fmt.Errorf("unknown metric %q", m)
}

// Count returns, per bucket of b, how many facts of metric m matching filt
// have their time in that bucket. b.Step must be a whole number of
// milliseconds. One query does the bucketing: (t - from) / step.
func (s *Store) Count(ctx context.Context, m store.Metric, b store.Buckets, filt store.Filter) ([]int64, error) {
	from, at, c, err := metricSource(m, filt)
	if err != nil {
		return nil, err
	}
	n := b.N()
	counts := make([]int64, n)
	if n == 0 {
		return counts, nil
	}
	if b.Step%time.Millisecond != 0 {
		return nil, fmt.Errorf("count %s: step %v is not a whole number of milliseconds", m, b.Step)
	}
	lo, hi, step := b.From.UnixMilli(), b.To.UnixMilli(), b.Step.Milliseconds()
	q := fmt.Sprintf("SELECT (%[1]s - ?) / ? AS bucket, COUNT(*) FROM %[2]s WHERE %[1]s >= ? AND %[1]s < ?%[3]s GROUP BY bucket",
		at, from, c.and())
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), append([]any{lo, step, lo, hi}, c.args...)...)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", m, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, k int64
		if err := rows.Scan(&i, &k); err != nil {
			return nil, fmt.Errorf("count %s: %w", m, err)
		}
		if i >= 0 && i < int64(n) {
			counts[i] = k
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count %s: %w", m, err)
	}
	return counts, nil
}

// pendingChunk bounds the instants of one PendingAt query.
const pendingChunk = 200

// PendingAt returns, for each instant t in at, how many pods matching filt
// were Pending at t: created at or before t, and PendingUntil unknown or
// after t.
//
// Per instant it counts two disjoint sets, each over an index: pods created
// in the window (t - pendingWindowMS, t], and pods created before that which
// can only still be pending if their Pending lasted longer than the window,
// which the partial index pods_long_pending holds.
func (s *Store) PendingAt(ctx context.Context, at []time.Time, filt store.Filter) ([]int64, error) {
	counts := make([]int64, 0, len(at))
	for start := 0; start < len(at); start += pendingChunk {
		part, err := s.pendingAt(ctx, at[start:min(start+pendingChunk, len(at))], filt)
		if err != nil {
			return nil, err
		}
		counts = append(counts, part...)
	}
	return counts, nil
}

func (s *Store) pendingAt(ctx context.Context, at []time.Time, filt store.Filter) ([]int64, error) {
	var c conds
	c.filter(filt, "p.cluster", "p.namespace", "p.cronjob")
	values := make([]string, len(at))
	args := make([]any, 0, len(at)+2*len(c.args))
	for i, t := range at {
		values[i] = "(" + strconv.Itoa(i) + ", CAST(? AS BIGINT))"
		args = append(args, t.UnixMilli())
	}
	args = append(args, c.args...)
	args = append(args, c.args...)
	window := strconv.Itoa(pendingWindowMS)
	q := `WITH t (i, at) AS (VALUES ` + strings.Join(values, ", ") + `)
		SELECT t.i,
			(SELECT COUNT(*) FROM pods p
				WHERE p.created_at > t.at - ` + window + ` AND p.created_at <= t.at
				AND (p.pending_until IS NULL OR p.pending_until > t.at)` + c.and() + `)
			+ (SELECT COUNT(*) FROM pods p
				WHERE ` + longPending + ` AND p.created_at <= t.at - ` + window + `
				AND (p.pending_until IS NULL OR p.pending_until > t.at)` + c.and() + `)
		FROM t`
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("pending at: %w", err)
	}
	defer rows.Close()
	counts := make([]int64, len(at))
	for rows.Next() {
		var i int
		var k int64
		if err := rows.Scan(&i, &k); err != nil {
			return nil, fmt.Errorf("pending at: %w", err)
		}
		counts[i] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending at: %w", err)
	}
	return counts, nil
}

// TopCronJobs returns the CronJobs with the most runs created in [from, to),
// most first, ties by namespace then name, at most limit rows. Runs without
// a CronJob are left out. Without a cluster filter, CronJobs of the same
// namespace and name in several clusters count as one.
func (s *Store) TopCronJobs(ctx context.Context, from, to time.Time, filt store.Filter, limit int) ([]store.CronJobCount, error) {
	if limit <= 0 {
		return nil, nil
	}
	var c conds
	c.filter(filt, "r.cluster", "r.namespace", "r.cronjob")
	q := `SELECT r.namespace, r.cronjob, COUNT(*) AS n FROM runs r
		WHERE r.created_at >= ? AND r.created_at < ? AND r.cronjob <> ''` + c.and() + `
		GROUP BY r.namespace, r.cronjob
		ORDER BY n DESC, r.namespace, r.cronjob
		LIMIT ?`
	args := append([]any{from.UnixMilli(), to.UnixMilli()}, c.args...)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("top cronjobs: %w", err)
	}
	defer rows.Close()
	var top []store.CronJobCount
	for rows.Next() {
		var r store.CronJobCount
		if err := rows.Scan(&r.Namespace, &r.CronJob, &r.Count); err != nil {
			return nil, fmt.Errorf("top cronjobs: %w", err)
		}
		top = append(top, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("top cronjobs: %w", err)
	}
	return top, nil
}

// RecentEvents returns the events matching filt whose LastSeen is in
// [from, to), newest first (ties by cluster, then UID), at most limit.
func (s *Store) RecentEvents(ctx context.Context, from, to time.Time, filt store.Filter, limit int) ([]model.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	var c conds
	filterEvents(&c, filt)
	q := `SELECT e.cluster, e.uid, e.namespace, e.involved_kind, e.involved_name, e.involved_uid, e.event_type,
			e.reason, e.message, e.source, e.event_count, e.first_seen, e.last_seen
		FROM events e
		WHERE e.last_seen >= ? AND e.last_seen < ?` + c.and() + `
		ORDER BY e.last_seen DESC, e.cluster, e.uid
		LIMIT ?`
	args := append([]any{from.UnixMilli(), to.UnixMilli()}, c.args...)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
	}
	defer rows.Close()
	var events []model.Event
	for rows.Next() {
		var e model.Event
		var first, last sql.NullInt64
		if err := rows.Scan(&e.Cluster, &e.UID, &e.Namespace, &e.InvolvedKind, &e.InvolvedName, &e.InvolvedUID,
			&e.Type, &e.Reason, &e.Message, &e.Source, &e.Count, &first, &last); err != nil {
			return nil, fmt.Errorf("recent events: %w", err)
		}
		e.FirstSeen, e.LastSeen = fromMS(first), fromMS(last)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
	}
	return events, nil
}

// Run returns one run by cluster and UID, or store.ErrNotFound.
func (s *Store) Run(ctx context.Context, cluster, uid string) (model.Run, error) {
	r := model.Run{Cluster: cluster, UID: uid}
	var created, scheduled, started, finished, deleted sql.NullInt64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT namespace, name, cronjob, created_at, scheduled_at,
			started_at, finished_at, outcome, reason, message, succeeded, failed, deleted_at
		FROM runs WHERE cluster = ? AND uid = ?`), cluster, uid).
		Scan(&r.Namespace, &r.Name, &r.CronJob, &created, &scheduled, &started, &finished,
			&r.Outcome, &r.Reason, &r.Message, &r.Succeeded, &r.Failed, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Run{}, fmt.Errorf("run %s/%s: %w", cluster, uid, store.ErrNotFound)
	}
	if err != nil {
		return model.Run{}, fmt.Errorf("run %s/%s: %w", cluster, uid, err)
	}
	r.CreatedAt, r.ScheduledAt, r.StartedAt = fromMS(created), fromMS(scheduled), fromMS(started)
	r.FinishedAt, r.DeletedAt = fromMS(finished), fromMS(deleted)
	return r, nil
}

// Pod returns one pod by cluster and UID, or store.ErrNotFound. A pod known
// only from its terminations or waits is not found.
func (s *Store) Pod(ctx context.Context, cluster, uid string) (model.Pod, error) {
	p := model.Pod{Cluster: cluster, UID: uid}
	var created, scheduled, started, pendingUntil, finished, deleted sql.NullInt64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT namespace, name, job_uid, job_name, cronjob, node,
			created_at, scheduled_at, started_at, pending_until, finished_at, phase, reason, message, deleted_at
		FROM pods WHERE cluster = ? AND uid = ? AND known = 1`), cluster, uid).
		Scan(&p.Namespace, &p.Name, &p.JobUID, &p.JobName, &p.CronJob, &p.Node,
			&created, &scheduled, &started, &pendingUntil, &finished, &p.Phase, &p.Reason, &p.Message, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Pod{}, fmt.Errorf("pod %s/%s: %w", cluster, uid, store.ErrNotFound)
	}
	if err != nil {
		return model.Pod{}, fmt.Errorf("pod %s/%s: %w", cluster, uid, err)
	}
	p.CreatedAt, p.ScheduledAt, p.StartedAt = fromMS(created), fromMS(scheduled), fromMS(started)
	p.PendingUntil, p.FinishedAt, p.DeletedAt = fromMS(pendingUntil), fromMS(finished), fromMS(deleted)
	return p, nil
}

// PodEvidence returns the terminations (by container, attempt), restarts
// (by container, index) and waiting episodes (by container, attempt,
// reason) of one pod, read in one transaction. A pod without any has none
// of each; that is not an error.
func (s *Store) PodEvidence(ctx context.Context, cluster, podUID string) (ts []model.Termination, rs []model.Restart, ws []model.Waiting, err error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pod evidence %s/%s: %w", cluster, podUID, err)
	}
	defer func() {
		if rerr := tx.Rollback(); err == nil && rerr != nil {
			err = fmt.Errorf("pod evidence %s/%s: %w", cluster, podUID, rerr)
		}
	}()
	if ts, err = s.terminations(ctx, tx, cluster, podUID); err != nil {
		return nil, nil, nil, err
	}
	if rs, err = s.restarts(ctx, tx, cluster, podUID); err != nil {
		return nil, nil, nil, err
	}
	if ws, err = s.waits(ctx, tx, cluster, podUID); err != nil {
		return nil, nil, nil, err
	}
	return ts, rs, ws, nil
}

func (s *Store) terminations(ctx context.Context, tx *sql.Tx, cluster, podUID string) ([]model.Termination, error) {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT container, attempt, reason, exit_code, signal, message,
			started_at, finished_at
		FROM terminations WHERE cluster = ? AND pod_uid = ? ORDER BY container, attempt`), cluster, podUID)
	if err != nil {
		return nil, fmt.Errorf("terminations of pod %s/%s: %w", cluster, podUID, err)
	}
	defer rows.Close()
	var ts []model.Termination
	for rows.Next() {
		t := model.Termination{Cluster: cluster, PodUID: podUID}
		var started, finished sql.NullInt64
		if err := rows.Scan(&t.Container, &t.Attempt, &t.Reason, &t.ExitCode, &t.Signal, &t.Message,
			&started, &finished); err != nil {
			return nil, fmt.Errorf("terminations of pod %s/%s: %w", cluster, podUID, err)
		}
		t.StartedAt, t.FinishedAt = fromMS(started), fromMS(finished)
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("terminations of pod %s/%s: %w", cluster, podUID, err)
	}
	return ts, nil
}

func (s *Store) restarts(ctx context.Context, tx *sql.Tx, cluster, podUID string) ([]model.Restart, error) {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT container, restart_index, restarted_at
		FROM restarts WHERE cluster = ? AND pod_uid = ? ORDER BY container, restart_index`), cluster, podUID)
	if err != nil {
		return nil, fmt.Errorf("restarts of pod %s/%s: %w", cluster, podUID, err)
	}
	defer rows.Close()
	var rs []model.Restart
	for rows.Next() {
		r := model.Restart{Cluster: cluster, PodUID: podUID}
		var at sql.NullInt64
		if err := rows.Scan(&r.Container, &r.Index, &at); err != nil {
			return nil, fmt.Errorf("restarts of pod %s/%s: %w", cluster, podUID, err)
		}
		r.At = fromMS(at)
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("restarts of pod %s/%s: %w", cluster, podUID, err)
	}
	return rs, nil
}

func (s *Store) waits(ctx context.Context, tx *sql.Tx, cluster, podUID string) ([]model.Waiting, error) {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT container, attempt, reason, message, first_seen, last_seen
		FROM waits WHERE cluster = ? AND pod_uid = ? ORDER BY container, attempt, reason`), cluster, podUID)
	if err != nil {
		return nil, fmt.Errorf("waits of pod %s/%s: %w", cluster, podUID, err)
	}
	defer rows.Close()
	var ws []model.Waiting
	for rows.Next() {
		w := model.Waiting{Cluster: cluster, PodUID: podUID}
		var first, last sql.NullInt64
		if err := rows.Scan(&w.Container, &w.Attempt, &w.Reason, &w.Message, &first, &last); err != nil {
			return nil, fmt.Errorf("waits of pod %s/%s: %w", cluster, podUID, err)
		}
		w.FirstSeen, w.LastSeen = fromMS(first), fromMS(last)
		ws = append(ws, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("waits of pod %s/%s: %w", cluster, podUID, err)
	}
	return ws, nil
}
