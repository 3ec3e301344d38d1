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

// source is where the facts of a metric live.
type source struct {
	from, at, where             string // FROM clause, time column, fixed condition ("" for none)
	cluster, namespace, cronJob string // the columns a Filter matches
}

// conds returns the source's fixed condition and filt's conditions.
func (src source) conds(filt store.Filter) conds {
	var c conds
	if src.where != "" {
		c.add(src.where)
	}
	c.filter(filt, src.cluster, src.namespace, src.cronJob)
	return c
}

// metricSource returns where the facts of m live. Restarts and events carry
// the namespace and CronJob of what they are about (see Write).
func metricSource(m store.Metric) (source, error) {
	runs := func(at, where string) source {
		return source{"runs r", at, where, "r.cluster", "r.namespace", "r.cronjob"}
	}
	pods := func(at, where string) source {
		return source{"pods p", at, where, "p.cluster", "p.namespace", "p.cronjob"}
	}
	switch m {
	case store.RunsCreated:
		return runs("r.created_at", ""), nil
	case store.RunsSucceeded:
		return runs("r.finished_at", "r.outcome = '"+model.OutcomeSucceeded+"'"), nil
	case store.RunsFailed:
		return runs("r.finished_at", "r.outcome = '"+model.OutcomeFailed+"'"), nil
	case store.PodsFinished:
		return pods("p.finished_at", "p.phase IN ('"+model.PhaseSucceeded+"', '"+model.PhaseFailed+"')"), nil
	case store.PodsSucceeded:
		return pods("p.finished_at", "p.phase = '"+model.PhaseSucceeded+"'"), nil
	case store.PodsFailed:
		return pods("p.finished_at", "p.phase = '"+model.PhaseFailed+"'"), nil
	case store.PodsOOM:
		return scanned(pods("p.oom_at", "")), nil
	case store.PodsCrashLoop:
		return scanned(pods("p.crashloop_at", "")), nil
	case store.Restarts:
		return source{"restarts x", "x.restarted_at", "", "x.cluster", "x.namespace", "x.cronjob"}, nil
	case store.Events:
		return source{"events e", "e.last_seen", "", "e.cluster", "e.namespace", "e.cronjob"}, nil
	}
	return source{}, fmt.Errorf("unknown metric %q", m)
}

// scanned rewrites the namespace and CronJob filters of src so that no
// index can serve them; for these NOT NULL columns the test is the same:
//
//	COALESCE(p.namespace, '') = ?
//
// It is for times whose own index (partial and covering) is small: SQLite's
// planner, having no statistics, would otherwise prefer an index led by
// namespace or CronJob but ordered by another time, and read every pod of
// the namespace once per bucket.
func scanned(src source) source {
	src.namespace = "COALESCE(" + src.namespace + ", '')"
	src.cronJob = "COALESCE(" + src.cronJob + ", '')"
	return src
}

// The units of minute_counts and cronjob_days, in ms.
const (
	minuteMS = 60_000
	dayMS    = 86_400_000
)

// floorUnit is the start of the unit holding t (Unix ms).
func floorUnit(t, unit int64) int64 {
	m := t % unit
	if m < 0 {
		m += unit
	}
	return t - m
}

// span is a range [lo, hi) in Unix ms, cut into the whole units [mlo, mhi)
// that a rollup holds and the edges [lo, mlo) and [mhi, hi) left to count
// from the facts. A range holding no whole unit has mlo = mhi = hi.
type span struct{ lo, mlo, mhi, hi int64 }

func cut(lo, hi, unit int64) span {
	mlo, mhi := floorUnit(lo+unit-1, unit), floorUnit(hi, unit)
	if mlo >= mhi {
		mlo, mhi = hi, hi
	}
	return span{lo, mlo, mhi, hi}
}

func spans(b store.Buckets) []span {
	n := b.N()
	from, to, step := b.From.UnixMilli(), b.To.UnixMilli(), b.Step.Milliseconds()
	sp := make([]span, n)
	for i := range sp {
		lo := from + int64(i)*step
		sp[i] = cut(lo, min(lo+step, to), minuteMS)
	}
	return sp
}

// countChunk bounds the buckets, and pendingChunk the instants, of one query.
const (
	countChunk   = 250
	pendingChunk = 250
)

// Count returns, per bucket of b, how many facts of metric m matching filt
// have their time in that bucket. b.Step must be a whole number of
// milliseconds.
//
// Each bucket is counted by its own index range, which costs less than
// grouping the facts of the whole range by bucket. Without a namespace or
// CronJob filter, a bucket's whole minutes come from minute_counts and only
// its edges (under a minute each) from the facts; with one, all of it comes
// from the facts, through the index led by that filter's column (or, for
// the small OOM and crash-loop indexes, through the time's own). One query
// counts up to countChunk buckets.
func (s *Store) Count(ctx context.Context, m store.Metric, b store.Buckets, filt store.Filter) ([]int64, error) {
	src, err := metricSource(m)
	if err != nil {
		return nil, err
	}
	if b.Step%time.Millisecond != 0 {
		return nil, fmt.Errorf("count %s: step %v is not a whole number of milliseconds", m, b.Step)
	}
	sp := spans(b)
	counts := make([]int64, 0, len(sp))
	for start := 0; start < len(sp); start += countChunk {
		part, err := s.count(ctx, m, src, sp[start:min(start+countChunk, len(sp))], filt)
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", m, err)
		}
		counts = append(counts, part...)
	}
	return counts, nil
}

func (s *Store) count(ctx context.Context, m store.Metric, src source, sp []span, filt store.Filter) ([]int64, error) {
	c := src.conds(filt)
	rollup := filt.Namespace == "" && filt.CronJob == ""
	values := make([]string, len(sp))
	var args []any
	for i, x := range sp {
		values[i] = "(" + strconv.Itoa(i) + ", CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"
		args = append(args, x.lo, x.mlo, x.mhi, x.hi)
	}
	facts := func(lo, hi string) string {
		return fmt.Sprintf("(SELECT COUNT(*) FROM %s WHERE %s >= %s AND %s < %s%s)", src.from, src.at, lo, src.at, hi, c.and())
	}
	var q string
	if rollup {
		var cluster string
		if filt.Cluster != "" {
			cluster = " AND c.cluster = ?"
			args = append(args, filt.Cluster)
		}
		q = fmt.Sprintf(`(SELECT COALESCE(CAST(SUM(c.n) AS BIGINT), 0) FROM minute_counts c
			WHERE c.metric = '%s' AND c.minute_at >= b.mlo AND c.minute_at < b.mhi%s) + %s + %s`,
			m, cluster, facts("b.lo", "b.mlo"), facts("b.mhi", "b.hi"))
		args = append(args, c.args...)
		args = append(args, c.args...)
	} else {
		q = facts("b.lo", "b.hi")
		args = append(args, c.args...)
	}
	q = "WITH b (i, lo, mlo, mhi, hi) AS (VALUES " + strings.Join(values, ", ") + ") SELECT b.i, " + q + " FROM b"
	return s.indexedCounts(ctx, len(sp), q, args)
}

// indexedCounts runs q, whose rows are (index, count) pairs, and returns the
// n counts by index.
func (s *Store) indexedCounts(ctx context.Context, n int, q string, args []any) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := make([]int64, n)
	for rows.Next() {
		var i int
		var k int64
		if err := rows.Scan(&i, &k); err != nil {
			return nil, err
		}
		counts[i] = k
	}
	return counts, rows.Err()
}

// PendingAt returns, for each instant t in at, how many pods matching filt
// were Pending at t: created at or before t, and PendingUntil unknown or
// after t.
//
// For each instant it counts three disjoint sets of pods, each from a range
// of an index: those created in the 15 minutes up to t; those created in the
// 4 hours before that, which can only still be pending if Pending lasted
// over 15 minutes (index pods_pending_long); and older ones, pending over 4
// hours (pods_pending_longer).
func (s *Store) PendingAt(ctx context.Context, at []time.Time, filt store.Filter) ([]int64, error) {
	counts := make([]int64, 0, len(at))
	for start := 0; start < len(at); start += pendingChunk {
		part, err := s.pendingAt(ctx, at[start:min(start+pendingChunk, len(at))], filt)
		if err != nil {
			return nil, fmt.Errorf("pending at: %w", err)
		}
		counts = append(counts, part...)
	}
	return counts, nil
}

func (s *Store) pendingAt(ctx context.Context, at []time.Time, filt store.Filter) ([]int64, error) {
	// Each instant reads short ranges of pods_created and of the small
	// partial indexes, which cover the filters (see scanned).
	c := scanned(source{cluster: "p.cluster", namespace: "p.namespace", cronJob: "p.cronjob"}).conds(filt)
	values := make([]string, len(at))
	args := make([]any, 0, len(at)+3*len(c.args))
	for i, t := range at {
		values[i] = "(" + strconv.Itoa(i) + ", CAST(? AS BIGINT))"
		args = append(args, t.UnixMilli())
	}
	for range 3 {
		args = append(args, c.args...)
	}
	short, medium := strconv.Itoa(pendingShortMS), strconv.Itoa(pendingMediumMS)
	const stillPending = " AND (p.pending_until IS NULL OR p.pending_until > t.at)"
	q := `WITH t (i, at) AS (VALUES ` + strings.Join(values, ", ") + `)
		SELECT t.i,
			(SELECT COUNT(*) FROM pods p
				WHERE p.created_at > t.at - ` + short + ` AND p.created_at <= t.at` + stillPending + c.and() + `)
			+ (SELECT COUNT(*) FROM pods p WHERE ` + pendingLong + `
				AND p.created_at > t.at - ` + medium + ` AND p.created_at <= t.at - ` + short + stillPending + c.and() + `)
			+ (SELECT COUNT(*) FROM pods p WHERE ` + pendingLonger + `
				AND p.created_at <= t.at - ` + medium + stillPending + c.and() + `)
		FROM t`
	return s.indexedCounts(ctx, len(at), q, args)
}

// TopCronJobs returns the CronJobs with the most runs created in [from, to),
// most first, ties by namespace then name, at most limit rows. Runs without
// a CronJob, or whose namespace is not known, are left out. Without a
// cluster filter, CronJobs of the same namespace and name in several
// clusters count as one.
//
// Each CronJob of run_cronjobs is counted separately: its whole days from
// cronjob_days, the edges of the range (under a day each) from its runs.
func (s *Store) TopCronJobs(ctx context.Context, from, to time.Time, filt store.Filter, limit int) ([]store.CronJobCount, error) {
	if limit <= 0 {
		return nil, nil
	}
	days := cut(from.UnixMilli(), to.UnixMilli(), dayMS)
	// Each part counts [lo, hi) of one CronJob, in the cluster filtered.
	args := []any{days.mlo, days.mhi, days.lo, days.mlo, days.mhi, days.hi}
	runs := `(SELECT COUNT(*) FROM runs r WHERE r.cronjob = g.cronjob AND r.created_at >= ? AND r.created_at < ?
		AND r.namespace = g.namespace AND r.cluster = g.cluster)`
	var c conds
	c.filter(filt, "g.cluster", "g.namespace", "g.cronjob")
	where := ""
	if len(c.sql) > 0 {
		where = " WHERE " + strings.Join(c.sql, " AND ")
	}
	q := `SELECT g.cluster, g.namespace, g.cronjob,
			(SELECT COALESCE(CAST(SUM(d.n) AS BIGINT), 0) FROM cronjob_days d
				WHERE d.cronjob = g.cronjob AND d.namespace = g.namespace AND d.day_at >= ? AND d.day_at < ?
				AND d.cluster = g.cluster)
			+ ` + runs + ` + ` + runs + ` AS n
		FROM run_cronjobs g` + where + `
		ORDER BY n DESC, g.namespace, g.cronjob, g.cluster
		LIMIT ?`
	args = append(args, c.args...)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("top cronjobs: %w", err)
	}
	defer rows.Close()
	var top []store.CronJobCount
	for rows.Next() {
		var r store.CronJobCount
		if err := rows.Scan(&r.Cluster, &r.Namespace, &r.CronJob, &r.Count); err != nil {
			return nil, fmt.Errorf("top cronjobs: %w", err)
		}
		if r.Count == 0 { // CronJobs without runs in range sort last
			break
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
	c.filter(filt, "e.cluster", "e.namespace", "e.cronjob")
	q := `SELECT ` + eventCols + ` FROM events e
		WHERE e.last_seen >= ? AND e.last_seen < ?` + c.and() + `
		ORDER BY e.last_seen DESC, e.cluster, e.uid
		LIMIT ?`
	args := append([]any{from.UnixMilli(), to.UnixMilli()}, c.args...)
	events, err := queryAll(ctx, s, scanEvent, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
	}
	return events, nil
}

// eventCols are the columns scanEvent reads, in order.
const eventCols = `e.cluster, e.uid, e.namespace, e.involved_kind, e.involved_name, e.involved_uid, e.event_type,
	e.reason, e.message, e.source, e.event_count, e.first_seen, e.last_seen`

func scanEvent(sc scanner) (model.Event, error) {
	var e model.Event
	var first, last sql.NullInt64
	if err := sc.Scan(&e.Cluster, &e.UID, &e.Namespace, &e.InvolvedKind, &e.InvolvedName, &e.InvolvedUID,
		&e.Type, &e.Reason, &e.Message, &e.Source, &e.Count, &first, &last); err != nil {
		return model.Event{}, err
	}
	e.FirstSeen, e.LastSeen = fromMS(first), fromMS(last)
	return e, nil
}

// Run returns one run by cluster and UID, or store.ErrNotFound.
func (s *Store) Run(ctx context.Context, cluster, uid string) (model.Run, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+runCols+`
		FROM runs r WHERE r.cluster = ? AND r.uid = ?`), cluster, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return model.Run{}, fmt.Errorf("run %s/%s: %w", cluster, uid, store.ErrNotFound)
	}
	if err != nil {
		return model.Run{}, fmt.Errorf("run %s/%s: %w", cluster, uid, err)
	}
	return r, nil
}

// Pod returns one pod by cluster and UID, or store.ErrNotFound. A pod known
// only from its terminations or waits is not found.
func (s *Store) Pod(ctx context.Context, cluster, uid string) (model.Pod, error) {
	p, err := scanPod(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+podCols+`
		FROM pods p WHERE p.cluster = ? AND p.uid = ? AND p.known = 1`), cluster, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return model.Pod{}, fmt.Errorf("pod %s/%s: %w", cluster, uid, store.ErrNotFound)
	}
	if err != nil {
		return model.Pod{}, fmt.Errorf("pod %s/%s: %w", cluster, uid, err)
	}
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
