package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// Totals returns, per cluster, namespace and CronJob, how many facts of each
// metric of ms have a known time: Count's facts without its time range.
//
// Runs created come from the per-day cache cronjob_days. Other metrics of
// the same table and time column are counted in one pass. For
// runs and pods, whose indexes led by cronjob cover every column needed,
// the pass groups by cronjob alone, so that SQLite reads the index in
// order and never sorts the facts; a CronJob whose facts span several
// namespaces or clusters (or the facts without a CronJob) is then counted
// again, by namespace and cluster, from its own index range.
func (s *Store) Totals(ctx context.Context, ms ...store.Metric) (map[store.Metric][]store.Total, error) {
	type pass struct {
		src     source
		metrics []store.Metric
	}
	var passes []pass
	out := map[store.Metric][]store.Total{}
	for _, m := range ms {
		if m == store.RunsCreated {
			if err := s.runsCreated(ctx, out); err != nil {
				return nil, fmt.Errorf("totals %s: %w", m, err)
			}
			continue
		}
		src, err := metricSource(m)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(passes, func(p pass) bool { return p.src.from == src.from && p.src.at == src.at })
		if i < 0 {
			passes = append(passes, pass{src: src})
			i = len(passes) - 1
		}
		passes[i].metrics = append(passes[i].metrics, m)
	}
	for _, p := range passes {
		if err := s.totalsPass(ctx, p.src, p.metrics, out); err != nil {
			return nil, fmt.Errorf("totals %v: %w", p.metrics, err)
		}
	}
	return out, nil
}

// runsCreated counts the runs created per group from cronjob_days, which
// holds them per day for runs with a CronJob and a namespace, and the
// others from the runs (index ranges of cronjob ” and namespace ”).
func (s *Store) runsCreated(ctx context.Context, out map[store.Metric][]store.Total) error {
	var ts []store.Total
	for _, q := range []string{
		`SELECT d.cluster, d.namespace, d.cronjob, '', CAST(SUM(d.n) AS BIGINT) FROM cronjob_days d GROUP BY 1, 2, 3`,
		`SELECT r.cluster, r.namespace, r.cronjob, '', COUNT(*) FROM runs r
			WHERE r.cronjob = '' AND r.created_at IS NOT NULL GROUP BY 1, 2, 3`,
		`SELECT r.cluster, r.namespace, r.cronjob, '', COUNT(*) FROM runs r
			WHERE r.namespace = '' AND r.cronjob <> '' AND r.created_at IS NOT NULL GROUP BY 1, 2, 3`,
	} {
		part, err := s.totals(ctx, q)
		if err != nil {
			return err
		}
		for _, t := range part {
			if t.N > 0 {
				ts = append(ts, t)
			}
		}
	}
	out[store.RunsCreated] = ts
	sortTotals(out, []store.Metric{store.RunsCreated})
	return nil
}

// totalsPass counts metrics ms, all of table and time src, into out.
func (s *Store) totalsPass(ctx context.Context, src source, ms []store.Metric, out map[store.Metric][]store.Total) error {
	var sums []string
	for _, m := range ms {
		msrc, _ := metricSource(m)
		cond := "1 = 1"
		if msrc.where != "" {
			cond = msrc.where
		}
		sums = append(sums, "COALESCE(SUM(CASE WHEN "+cond+" THEN 1 ELSE 0 END), 0)")
	}
	// "+" keeps SQLite from reading the time's index instead of cronjob's.
	where := "+" + src.at + " IS NOT NULL"
	add := func(g store.Group, ns []int64) {
		for i, m := range ms {
			if ns[i] > 0 {
				out[m] = append(out[m], store.Total{Group: g, N: ns[i]})
			}
		}
	}
	byGroup := func(extra string, args ...any) error {
		q := fmt.Sprintf("SELECT %s, %s, %s, %s FROM %s WHERE %s%s GROUP BY 1, 2, 3",
			src.cluster, src.namespace, src.cronJob, strings.Join(sums, ", "), src.from, where, extra)
		rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g store.Group
			ns := make([]int64, len(ms))
			dest := []any{&g.Cluster, &g.Namespace, &g.CronJob}
			for i := range ns {
				dest = append(dest, &ns[i])
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			add(g, ns)
		}
		return rows.Err()
	}
	if src.from != "runs r" && src.from != "pods p" || strings.HasPrefix(src.cronJob, "COALESCE(") {
		where = src.at + " IS NOT NULL" // the time's own index, small or covering, is the one to read
		if err := byGroup(""); err != nil {
			return err
		}
		sortTotals(out, ms)
		return nil
	}
	q := fmt.Sprintf("SELECT %s, MIN(%s), MAX(%s), MIN(%s), MAX(%s), %s FROM %s WHERE %s GROUP BY %s",
		src.cronJob, src.namespace, src.namespace, src.cluster, src.cluster, strings.Join(sums, ", "), src.from, where, src.cronJob)
	rows, err := s.r.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	var mixed []any
	for rows.Next() {
		var cj, ns1, ns2, c1, c2 string
		ns := make([]int64, len(ms))
		dest := []any{&cj, &ns1, &ns2, &c1, &c2}
		for i := range ns {
			dest = append(dest, &ns[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return err
		}
		if ns1 != ns2 || c1 != c2 {
			mixed = append(mixed, cj)
			continue
		}
		add(store.Group{Cluster: c1, Namespace: ns1, CronJob: cj}, ns)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for start := 0; start < len(mixed); start += 500 {
		part := mixed[start:min(start+500, len(mixed))]
		in := " AND " + src.cronJob + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ") + ")"
		if err := byGroup(in, part...); err != nil {
			return err
		}
	}
	sortTotals(out, ms)
	return nil
}

func sortTotals(out map[store.Metric][]store.Total, ms []store.Metric) {
	for _, m := range ms {
		slices.SortFunc(out[m], func(a, b store.Total) int {
			return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.CronJob, b.CronJob))
		})
	}
}

// PodFailureTotals returns the failed pods per group and reason: the pod's
// own reason, else OOMKilled when it had an OOM kill, else ContainerFailed.
func (s *Store) PodFailureTotals(ctx context.Context) ([]store.Total, error) {
	q := `SELECT p.cluster, p.namespace, p.cronjob, CASE
			WHEN p.reason <> '' THEN p.reason
			WHEN p.oom_at IS NOT NULL THEN '` + model.ReasonOOMKilled + `'
			ELSE 'ContainerFailed' END AS reason, COUNT(*)
		FROM pods p
		WHERE p.finished_at IS NOT NULL AND p.phase = '` + model.PhaseFailed + `'
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`
	totals, err := s.totals(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("failure reasons: %w", err)
	}
	return totals, nil
}

// pendingPods is a subquery of the pods Pending at t, with columns cols: it
// reads the same three index ranges as pendingAt.
func pendingPods(t time.Time, cols string) string {
	at := strconv.FormatInt(t.UnixMilli(), 10)
	short, medium := strconv.Itoa(pendingShortMS), strconv.Itoa(pendingMediumMS)
	stillPending := " AND (p.pending_until IS NULL OR p.pending_until > " + at + ")"
	part := func(where string) string {
		return `SELECT ` + cols + ` FROM pods p WHERE ` + where + stillPending
	}
	return `(` + part(`p.created_at > `+at+` - `+short+` AND p.created_at <= `+at) + `
		UNION ALL ` + part(pendingLong+` AND p.created_at > `+at+` - `+medium+` AND p.created_at <= `+at+` - `+short) + `
		UNION ALL ` + part(pendingLonger+` AND p.created_at <= `+at+` - `+medium) + `) x`
}

// PodsAt returns the pods Pending at t and those Running now, per group.
// The Running part reads the unfinished pods of index pods_finished.
func (s *Store) PodsAt(ctx context.Context, t time.Time) ([]store.Total, error) {
	q := `SELECT cluster, namespace, cronjob, '` + model.PhasePending + `', COUNT(*)
		FROM ` + pendingPods(t, "p.cluster, p.namespace, p.cronjob") + ` GROUP BY 1, 2, 3
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

// OldestPending returns the creation of the earliest created pod Pending
// at t, per group.
func (s *Store) OldestPending(ctx context.Context, t time.Time) ([]store.GroupTime, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT cluster, namespace, cronjob, MIN(created_at)
		FROM `+pendingPods(t, "p.cluster, p.namespace, p.cronjob, p.created_at")+` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
	if err != nil {
		return nil, fmt.Errorf("oldest pending at %s: %w", t, err)
	}
	defer rows.Close()
	var out []store.GroupTime
	for rows.Next() {
		var g store.GroupTime
		var at sql.NullInt64
		if err := rows.Scan(&g.Cluster, &g.Namespace, &g.CronJob, &at); err != nil {
			return nil, fmt.Errorf("oldest pending: %w", err)
		}
		g.At = fromMS(at)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("oldest pending: %w", err)
	}
	return out, nil
}

// LastSucceeded returns the latest finish of a succeeded run per CronJob:
// for each CronJob of run_cronjobs, its runs from the newest finish back
// to the first that succeeded (index runs_cronjob_finished).
func (s *Store) LastSucceeded(ctx context.Context) ([]store.GroupTime, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT g.cluster, g.namespace, g.cronjob,
			(SELECT r.finished_at FROM runs r
				WHERE r.cronjob = g.cronjob AND r.finished_at IS NOT NULL AND r.outcome = '`+model.OutcomeSucceeded+`'
				AND r.namespace = g.namespace AND r.cluster = g.cluster
				ORDER BY r.finished_at DESC LIMIT 1)
		FROM run_cronjobs g ORDER BY g.cluster, g.namespace, g.cronjob`)
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
		if at.Valid {
			g.At = fromMS(at)
			out = append(out, g)
		}
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
