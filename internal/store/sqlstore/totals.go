package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// Totals returns, per cluster, namespace and CronJob, how many facts of m
// have a known time: Count's facts without its time range.
func (s *Store) Totals(ctx context.Context, m store.Metric) ([]store.Total, error) {
	src, err := metricSource(m)
	if err != nil {
		return nil, err
	}
	where := src.at + " IS NOT NULL"
	if src.where != "" {
		where += " AND " + src.where
	}
	q := fmt.Sprintf(`SELECT %s, %s, %s, '', COUNT(*) FROM %s WHERE %s GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		src.cluster, src.namespace, src.cronJob, src.from, where)
	totals, err := s.totals(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("totals %s: %w", m, err)
	}
	return totals, nil
}

// FailureReasons returns the failed pods per group and reason: the pod's
// own reason, else its last-finished termination's, else "Unknown".
func (s *Store) FailureReasons(ctx context.Context) ([]store.Total, error) {
	q := `SELECT p.cluster, p.namespace, p.cronjob, CASE
			WHEN p.reason <> '' THEN p.reason
			ELSE COALESCE((SELECT t.reason FROM terminations t
				WHERE t.pod_uid = p.uid AND t.cluster = p.cluster AND t.reason <> ''
				ORDER BY t.finished_at DESC, t.container, t.attempt DESC LIMIT 1), 'Unknown')
			END AS reason, COUNT(*)
		FROM pods p
		WHERE p.finished_at IS NOT NULL AND p.phase = '` + model.PhaseFailed + `'
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`
	totals, err := s.totals(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("failure reasons: %w", err)
	}
	return totals, nil
}

// PodsAt returns the pods Pending at t and those Running now, per group.
// The Pending part reads the same three index ranges as pendingAt; the
// Running part the unfinished pods of index pods_finished.
func (s *Store) PodsAt(ctx context.Context, t time.Time) ([]store.Total, error) {
	at := strconv.FormatInt(t.UnixMilli(), 10)
	short, medium := strconv.Itoa(pendingShortMS), strconv.Itoa(pendingMediumMS)
	stillPending := " AND (p.pending_until IS NULL OR p.pending_until > " + at + ")"
	pending := func(where string) string {
		return `SELECT p.cluster, p.namespace, p.cronjob FROM pods p WHERE ` + where + stillPending
	}
	q := `SELECT cluster, namespace, cronjob, '` + model.PhasePending + `', COUNT(*) FROM (
			` + pending(`p.created_at > `+at+` - `+short+` AND p.created_at <= `+at) + `
			UNION ALL ` + pending(pendingLong+` AND p.created_at > `+at+` - `+medium+` AND p.created_at <= `+at+` - `+short) + `
			UNION ALL ` + pending(pendingLonger+` AND p.created_at <= `+at+` - `+medium) + `
		) x GROUP BY 1, 2, 3
		UNION ALL
		SELECT p.cluster, p.namespace, p.cronjob, '` + model.PhaseRunning + `', COUNT(*) FROM pods p
		WHERE p.finished_at IS NULL AND p.phase = '` + model.PhaseRunning + `' AND p.deleted_at IS NULL
		GROUP BY 1, 2, 3
		ORDER BY 1, 2, 3, 4`
	totals, err := s.totals(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("pods at %s: %w", t, err)
	}
	return totals, nil
}

// LastSucceeded returns the latest finish of a succeeded run per CronJob.
func (s *Store) LastSucceeded(ctx context.Context) ([]store.GroupTime, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT r.cluster, r.namespace, r.cronjob, MAX(r.finished_at) FROM runs r
		WHERE r.cronjob <> '' AND r.finished_at IS NOT NULL AND r.outcome = '`+model.OutcomeSucceeded+`'
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
	if err != nil {
		return nil, fmt.Errorf("last succeeded: %w", err)
	}
	defer rows.Close()
	var out []store.GroupTime
	for rows.Next() {
		var g store.GroupTime
		var at sql.NullInt64
		if err := rows.Scan(&g.Cluster, &g.Namespace, &g.CronJob, &at); err != nil {
			return nil, fmt.Errorf("last succeeded: %w", err)
		}
		g.At = fromMS(at)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("last succeeded: %w", err)
	}
	return out, nil
}

// totals runs q, whose rows are (cluster, namespace, cronjob, class, n).
func (s *Store) totals(ctx context.Context, q string) ([]store.Total, error) {
	rows, err := s.r.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Total
	for rows.Next() {
		var t store.Total
		if err := rows.Scan(&t.Cluster, &t.Namespace, &t.CronJob, &t.Class, &t.N); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
