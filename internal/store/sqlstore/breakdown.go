package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// factSource is a table of container facts x: its key and time columns,
// and whether its namespace and CronJob come from its pod (a join) or from
// columns of its own.
type factSource struct {
	table, key, at string
	throughPod     bool
}

func breakdownSource(k store.Breakdown) (factSource, error) {
	switch k {
	case store.TerminationsByReason:
		return factSource{"terminations", "x.reason", "x.finished_at", true}, nil
	case store.WaitsByReason:
		return factSource{"waits", "x.reason", "x.first_seen", true}, nil
	case store.RestartsByContainer:
		return restartSource(), nil
	}
	return factSource{}, fmt.Errorf("unknown breakdown %q", k)
}

func restartSource() factSource {
	return factSource{"restarts", "x.container", "x.restarted_at", false}
}

// where returns the FROM clause and the conditions that select the facts
// of src in [from, to) matching filt.
func (src factSource) where(from, to time.Time, filt store.Filter) (string, conds) {
	var c conds
	c.add(src.at+" >= ? AND "+src.at+" < ?", from.UnixMilli(), to.UnixMilli())
	fromClause := src.table + " x"
	if src.throughPod && (filt.Namespace != "" || filt.CronJob != "") {
		fromClause += " JOIN pods q ON q.uid = x.pod_uid AND q.cluster = x.cluster"
		c.filter(filt, "x.cluster", "q.namespace", "q.cronjob")
	} else {
		c.filter(filt, "x.cluster", "x.namespace", "x.cronjob")
	}
	return fromClause, c
}

// CountBy counts the facts of breakdown k per key and bucket of b.
func (s *Store) CountBy(ctx context.Context, k store.Breakdown, b store.Buckets, filt store.Filter) ([]store.KeyCounts, error) {
	src, err := breakdownSource(k)
	if err != nil {
		return nil, err
	}
	n := b.N()
	if n == 0 {
		return nil, nil
	}
	from, c := src.where(b.From, b.To, filt)
	q := `SELECT ` + src.key + `, (` + src.at + ` - CAST(? AS BIGINT)) / CAST(? AS BIGINT) AS i, COUNT(*)
		FROM ` + from + ` WHERE ` + c.joined() + ` GROUP BY ` + src.key + `, i`
	args := append([]any{b.From.UnixMilli(), b.Step.Milliseconds()}, c.args...)
	type row struct {
		key  string
		i, n int64
	}
	rows, err := queryAll(ctx, s, func(sc scanner) (row, error) {
		var r row
		return r, sc.Scan(&r.key, &r.i, &r.n)
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count by %s: %w", k, err)
	}
	byKey := map[string][]int64{}
	totals := map[string]int64{}
	for _, r := range rows {
		if byKey[r.key] == nil {
			byKey[r.key] = make([]int64, n)
		}
		if r.i >= 0 && r.i < int64(n) {
			byKey[r.key][r.i] += r.n
			totals[r.key] += r.n
		}
	}
	out := make([]store.KeyCounts, 0, len(byKey))
	for key, counts := range byKey {
		out = append(out, store.KeyCounts{Key: key, Counts: counts})
	}
	slices.SortFunc(out, func(a, b store.KeyCounts) int {
		return cmp.Or(cmp.Compare(totals[b.Key], totals[a.Key]), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// PodsWith returns the pods with a fact of breakdown k with key key in the
// range, latest first.
func (s *Store) PodsWith(ctx context.Context, k store.Breakdown, key string, l store.Listing) ([]model.Pod, error) {
	src, err := breakdownSource(k)
	if err != nil {
		return nil, err
	}
	pods, err := s.podsWithFacts(ctx, src, l, src.key+" = ?", key)
	if err != nil {
		return nil, fmt.Errorf("pods with %s %q: %w", k, key, err)
	}
	return pods, nil
}

// podsWithFacts lists the pods with facts of src in l's range and filter
// (and cond, when not empty), by their latest such fact. Pods known only
// from their facts get their cluster and UID.
func (s *Store) podsWithFacts(ctx context.Context, src factSource, l store.Listing, cond string, args ...any) ([]model.Pod, error) {
	if l.Limit <= 0 {
		return nil, nil
	}
	from, c := src.where(l.From, l.To, l.Filter)
	if cond != "" {
		c.add(cond, args...)
	}
	q := `SELECT x.cluster, x.pod_uid, COALESCE(p.namespace, ''), COALESCE(p.name, ''), COALESCE(p.job_uid, ''),
			COALESCE(p.job_name, ''), COALESCE(p.cronjob, ''), COALESCE(p.node, ''), p.created_at, p.scheduled_at,
			p.started_at, p.pending_until, p.finished_at, COALESCE(p.phase, ''), COALESCE(p.reason, ''),
			COALESCE(p.message, ''), p.deleted_at
		FROM (SELECT x.pod_uid, x.cluster, MAX(` + src.at + `) AS at FROM ` + from + ` WHERE ` + c.joined() + `
			GROUP BY x.pod_uid, x.cluster) x
		LEFT JOIN pods p ON p.uid = x.pod_uid AND p.cluster = x.cluster
		ORDER BY x.at DESC, x.cluster, x.pod_uid LIMIT ?`
	return queryAll(ctx, s, scanPod, q, append(c.args, l.Limit)...)
}
