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

// The rollup units, in ms (minuteMS is minute_counts').
const (
	hourMS  = 3_600_000
	blockMS = 6 * hourMS
)

// usageCols are the columns of a usage sum (see usageSchema), in the order
// of usageArgs and scanUsage.
var usageCols = []string{"cpu_ns", "window_ms", "memory_bs", "storage_bs", "disk_read", "disk_write",
	"net_rx", "net_tx", "net_errors", "peak_memory", "peak_ratio", "peak_nanocores", "runs_at_risk"}

func usageArgs(u store.Usage) []any {
	return []any{u.CPUNanos, u.Window.Milliseconds(), u.MemorySeconds, u.StorageSeconds, u.DiskRead, u.DiskWrite,
		u.NetRx, u.NetTx, u.NetErrors, u.PeakMemory, u.PeakRatio, u.PeakNanoCores, u.RunsAtRisk}
}

// usageSums are the aggregates that read a usage sum back, over table
// alias t, in the order of usageCols.
func usageSums(t string) string {
	var out []string
	for _, c := range usageCols {
		agg := "SUM"
		if strings.HasPrefix(c, "peak_") {
			agg = "MAX"
		}
		out = append(out, fmt.Sprintf("%s(%s.%s)", agg, t, c))
	}
	return strings.Join(out, ", ")
}

// usageDest returns scan destinations for usageSums into u; done converts
// what needs it.
func usageDest(u *store.Usage) (dest []any, done func()) {
	var window int64
	return []any{&u.CPUNanos, &window, &u.MemorySeconds, &u.StorageSeconds, &u.DiskRead, &u.DiskWrite,
			&u.NetRx, &u.NetTx, &u.NetErrors, &u.PeakMemory, &u.PeakRatio, &u.PeakNanoCores, &u.RunsAtRisk},
		func() { u.Window = time.Duration(window) * time.Millisecond }
}

// addUsage is the upsert that adds a usage sum to a row of table with the
// given key columns, and writes extra columns with their merge rules
// (extraSets).
func addUsage(table string, key, extra, extraSets []string) string {
	cols := append(append(append([]string{}, key...), usageCols...), extra...)
	var sets []string
	for _, c := range usageCols {
		if strings.HasPrefix(c, "peak_") {
			sets = append(sets, largest(table, c))
		} else {
			sets = append(sets, fmt.Sprintf("%[2]s = %[1]s.%[2]s + excluded.%[2]s", table, c))
		}
	}
	return upsert(table, cols, nil, key, append(sets, extraSets...), "")
}

// podUsageSQL adds to a pod's usage, keeping its first and last sample
// times and the first non-empty names.
func podUsageSQL() string {
	return addUsage("pod_usage", []string{"pod_uid", "cluster"},
		[]string{"namespace", "cronjob", "pod", "first_at", "last_at"},
		[]string{
			firstText("pod_usage", "namespace"), firstText("pod_usage", "cronjob"), firstText("pod_usage", "pod"),
			smallest("pod_usage", "first_at"), largest("pod_usage", "last_at"),
		})
}

// usageStmts are the statements that write containers and samples.
type usageStmts struct {
	container, sample, runRatio, runUsage, podUsage, minute, hour, block *sql.Stmt
}

func (s *Store) usageStatements() []struct {
	dst **sql.Stmt
	sql string
} {
	sampleCols := []string{"pod_uid", "cluster", "at", "namespace", "cronjob", "run_uid", "pod", "window_ms",
		"cpu_ns", "cpu_nanocores", "memory", "rss", "memory_ratio", "storage", "disk_read", "disk_write",
		"net_rx", "net_tx", "net_rx_errors", "net_tx_errors"}
	sampleVals := make([]string, len(sampleCols))
	for i := range sampleVals {
		sampleVals[i] = "?"
	}
	// A sample without a CronJob takes its run's; its ? are the CronJob,
	// the run's UID and the cluster.
	sampleVals[4] = "COALESCE(NULLIF(?, ''), (SELECT r.cronjob FROM runs r WHERE r.uid = ? AND r.cluster = ?), '')"
	return []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.st.usage.container, upsert("containers",
			[]string{"pod_uid", "cluster", "name", "cpu_request", "cpu_limit", "memory_request", "memory_limit",
				"storage_request", "storage_limit"}, nil,
			[]string{"pod_uid", "cluster", "name"},
			[]string{
				largest("containers", "cpu_request"), largest("containers", "cpu_limit"),
				largest("containers", "memory_request"), largest("containers", "memory_limit"),
				largest("containers", "storage_request"), largest("containers", "storage_limit"),
			}, "")},
		// Returns a row only when the sample is new.
		{&s.st.usage.sample, fmt.Sprintf("INSERT INTO samples (%s) VALUES (%s) ON CONFLICT (pod_uid, cluster, at) DO NOTHING RETURNING cronjob",
			strings.Join(sampleCols, ", "), strings.Join(sampleVals, ", "))},
		{&s.st.usage.runRatio, `SELECT peak_ratio FROM run_usage WHERE run_uid = ? AND cluster = ?`},
		{&s.st.usage.runUsage, addUsage("run_usage", []string{"run_uid", "cluster"}, nil, nil)},
		{&s.st.usage.podUsage, podUsageSQL()},
		{&s.st.usage.minute, addUsage("usage_minutes", []string{"cronjob", "namespace", "cluster", "minute_at"}, nil, nil)},
		{&s.st.usage.hour, addUsage("usage_hours", []string{"cronjob", "namespace", "cluster", "hour_at"}, nil, nil)},
		{&s.st.usage.block, addUsage("usage_blocks", []string{"cronjob", "namespace", "cluster", "block_at"}, nil, nil)},
	}
}

func (s *Store) usageStmtList() []*sql.Stmt {
	u := s.st.usage
	return []*sql.Stmt{u.container, u.sample, u.runRatio, u.runUsage, u.podUsage, u.minute, u.hour, u.block}
}

func (s *Store) writeContainers(ctx context.Context, tx *sql.Tx, f *model.Facts, _ touched) error {
	st := tx.StmtContext(ctx, s.st.usage.container)
	for _, c := range f.Containers {
		if _, err := st.ExecContext(ctx, c.PodUID, c.Cluster, c.Name, c.CPURequest, c.CPULimit,
			c.MemoryRequest, c.MemoryLimit, c.StorageRequest, c.StorageLimit); err != nil {
			return fmt.Errorf("write container %s/%s/%s: %w", c.Cluster, c.PodUID, c.Name, err)
		}
	}
	return nil
}

// sampleUsage is what one sample adds to the sums it belongs to.
func sampleUsage(x *model.Sample) store.Usage {
	secs := x.Window.Seconds()
	return store.Usage{
		CPUNanos:       x.CPUNanos,
		Window:         x.Window.Truncate(time.Millisecond),
		MemorySeconds:  float64(x.MemoryBytes) * secs,
		StorageSeconds: float64(x.StorageBytes) * secs,
		DiskRead:       x.DiskRead,
		DiskWrite:      x.DiskWrite,
		NetRx:          x.NetRx,
		NetTx:          x.NetTx,
		NetErrors:      x.NetRxErrors + x.NetTxErrors,
		PeakMemory:     x.MemoryBytes,
		PeakRatio:      x.MemoryRatio,
		PeakNanoCores:  x.CPUNanoCores,
	}
}

type unitKey struct {
	cronJob, namespace, cluster string
	at                          int64
}

type runKey struct{ uid, cluster string }

// writeSamples inserts the new samples, and adds each new one to the
// rollups of its CronJob and to its run's summary. A sample already written
// adds nothing, so writing it again changes nothing.
func (s *Store) writeSamples(ctx context.Context, tx *sql.Tx, f *model.Facts, _ touched) error {
	ins := tx.StmtContext(ctx, s.st.usage.sample)
	minutes, hours, blocks := map[unitKey]*store.Usage{}, map[unitKey]*store.Usage{}, map[unitKey]*store.Usage{}
	runs := map[runKey]*store.Usage{}
	type podAcc struct {
		u                       store.Usage
		namespace, cronJob, pod string
		first, last             int64
	}
	pods := map[runKey]*podAcc{}
	firstOver := map[runKey]unitKey{} // the earliest sample of a run over the risk ratio, by minute
	add := func(m map[unitKey]*store.Usage, k unitKey, u store.Usage) {
		if m[k] == nil {
			m[k] = &store.Usage{}
		}
		m[k].Add(u)
	}
	for i := range f.Samples {
		x := &f.Samples[i]
		at := x.At.UnixMilli()
		var cronJob string
		err := ins.QueryRowContext(ctx, x.PodUID, x.Cluster, at, x.Namespace, x.CronJob, x.RunUID, x.Cluster,
			x.RunUID, x.Pod, x.Window.Milliseconds(), x.CPUNanos, x.CPUNanoCores, x.MemoryBytes, x.RSSBytes,
			x.MemoryRatio, x.StorageBytes, x.DiskRead, x.DiskWrite, x.NetRx, x.NetTx, x.NetRxErrors,
			x.NetTxErrors).Scan(&cronJob)
		if errors.Is(err, sql.ErrNoRows) {
			continue // written before
		}
		if err != nil {
			return fmt.Errorf("write sample %s/%s/%s: %w", x.Cluster, x.PodUID, x.At.Format(time.RFC3339Nano), err)
		}
		u := sampleUsage(x)
		minute := unitKey{cronJob, x.Namespace, x.Cluster, floorUnit(at, minuteMS)}
		add(minutes, minute, u)
		add(hours, unitKey{cronJob, x.Namespace, x.Cluster, floorUnit(at, hourMS)}, u)
		add(blocks, unitKey{cronJob, x.Namespace, x.Cluster, floorUnit(at, blockMS)}, u)
		pk := runKey{x.PodUID, x.Cluster}
		if pods[pk] == nil {
			pods[pk] = &podAcc{namespace: x.Namespace, cronJob: cronJob, pod: x.Pod, first: at, last: at}
		}
		pa := pods[pk]
		pa.u.Add(u)
		pa.first, pa.last = min(pa.first, at), max(pa.last, at)
		if x.RunUID == "" {
			continue
		}
		rk := runKey{x.RunUID, x.Cluster}
		if runs[rk] == nil {
			runs[rk] = &store.Usage{}
		}
		runs[rk].Add(u)
		if first, ok := firstOver[rk]; x.MemoryRatio > store.OOMRiskRatio && (!ok || minute.at < first.at) {
			firstOver[rk] = minute
		}
	}
	// A run is at risk from its first sample over the ratio: counted once,
	// in that sample's minute and hour.
	was := tx.StmtContext(ctx, s.st.usage.runRatio)
	for rk, first := range firstOver {
		var old float64
		if err := was.QueryRowContext(ctx, rk.uid, rk.cluster).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read usage of run %s/%s: %w", rk.cluster, rk.uid, err)
		}
		if old > store.OOMRiskRatio {
			continue
		}
		minutes[first].RunsAtRisk++
		minute := first.at
		first.at = floorUnit(minute, hourMS)
		hours[first].RunsAtRisk++
		first.at = floorUnit(minute, blockMS)
		blocks[first].RunsAtRisk++
	}
	for _, w := range []struct {
		st   *sql.Stmt
		sums map[unitKey]*store.Usage
	}{{s.st.usage.minute, minutes}, {s.st.usage.hour, hours}, {s.st.usage.block, blocks}} {
		st := tx.StmtContext(ctx, w.st)
		for k, u := range w.sums {
			if _, err := st.ExecContext(ctx, append([]any{k.cronJob, k.namespace, k.cluster, k.at}, usageArgs(*u)...)...); err != nil {
				return fmt.Errorf("roll up usage of cronjob %s/%s/%s at %d: %w", k.cluster, k.namespace, k.cronJob, k.at, err)
			}
		}
	}
	pst := tx.StmtContext(ctx, s.st.usage.podUsage)
	for pk, pa := range pods {
		args := append([]any{pk.uid, pk.cluster}, usageArgs(pa.u)...)
		if _, err := pst.ExecContext(ctx, append(args, pa.namespace, pa.cronJob, pa.pod, pa.first, pa.last)...); err != nil {
			return fmt.Errorf("sum usage of pod %s/%s: %w", pk.cluster, pk.uid, err)
		}
	}
	st := tx.StmtContext(ctx, s.st.usage.runUsage)
	for rk, u := range runs {
		if _, err := st.ExecContext(ctx, append([]any{rk.uid, rk.cluster}, usageArgs(*u)...)...); err != nil {
			return fmt.Errorf("sum usage of run %s/%s: %w", rk.cluster, rk.uid, err)
		}
	}
	return nil
}

// rollup is the table and time column of the rollup unit for step.
func rollup(step time.Duration) (table, col string) {
	switch store.RollupUnit(step) {
	case time.Minute:
		return "usage_minutes", "minute_at"
	case time.Hour:
		return "usage_hours", "hour_at"
	}
	return "usage_blocks", "block_at"
}

// UsageTotals sums the rollup units beginning in b's range per CronJob,
// reading the rollup in key order (one pass, no sort).
func (s *Store) UsageTotals(ctx context.Context, b store.Buckets, filt store.Filter) ([]store.CronJobTotal, error) {
	if b.N() == 0 {
		return nil, nil
	}
	table, col := rollup(b.Step)
	var c conds
	c.filter(filt, "u.cluster", "u.namespace", "u.cronjob")
	// "+ 0" keeps the planner off the time index, which would visit the
	// table once per row and sort the groups: the scan in key order
	// reads the range's rows of each CronJob in turn, grouped already.
	q := fmt.Sprintf(`SELECT u.cluster, u.namespace, u.cronjob, %[3]s
		FROM %[1]s u WHERE u.%[2]s + 0 >= ? AND u.%[2]s + 0 < ?%[4]s
		GROUP BY u.cronjob, u.namespace, u.cluster`, table, col, usageSums("u"), c.and())
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), append([]any{b.From.UnixMilli(), b.To.UnixMilli()}, c.args...)...)
	if err != nil {
		return nil, fmt.Errorf("usage totals: %w", err)
	}
	defer rows.Close()
	var out []store.CronJobTotal
	for rows.Next() {
		var t store.CronJobTotal
		dest, done := usageDest(&t.Usage)
		if err := rows.Scan(append([]any{&t.Cluster, &t.Namespace, &t.CronJob}, dest...)...); err != nil {
			return nil, fmt.Errorf("usage totals: %w", err)
		}
		done()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage totals: %w", err)
	}
	return out, nil
}

// UsageByCronJob sums the rollup units of each given CronJob per bucket of
// b, each CronJob read by its own key range.
func (s *Store) UsageByCronJob(ctx context.Context, b store.Buckets, cronJobs []store.CronJobKey) ([]store.CronJobUsage, error) {
	n := b.N()
	out := make([]store.CronJobUsage, len(cronJobs))
	for i, k := range cronJobs {
		out[i] = store.CronJobUsage{CronJobKey: k, Sums: make([]store.Usage, n)}
	}
	if n == 0 || len(cronJobs) == 0 {
		return out, nil
	}
	table, col := rollup(b.Step)
	from, step := b.From.UnixMilli(), b.Step.Milliseconds()
	values := make([]string, len(cronJobs))
	var args []any
	for i, k := range cronJobs {
		values[i] = "(" + strconv.Itoa(i) + ", CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))"
		args = append(args, k.CronJob, k.Namespace, k.Cluster)
	}
	q := fmt.Sprintf(`WITH k (i, cronjob, namespace, cluster) AS (VALUES %[4]s)
		SELECT k.i, (u.%[2]s - CAST(? AS BIGINT)) / CAST(? AS BIGINT), %[3]s
		FROM k JOIN %[1]s u ON u.cronjob = k.cronjob AND u.namespace = k.namespace AND u.cluster = k.cluster
			AND u.%[2]s >= ? AND u.%[2]s < ?
		GROUP BY k.i, (u.%[2]s - CAST(? AS BIGINT)) / CAST(? AS BIGINT)`,
		table, col, usageSums("u"), strings.Join(values, ", "))
	args = append(args, from, step, from, b.To.UnixMilli(), from, step)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("usage by cronjob: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, i int
		var u store.Usage
		dest, done := usageDest(&u)
		if err := rows.Scan(append([]any{&k, &i}, dest...)...); err != nil {
			return nil, fmt.Errorf("usage by cronjob: %w", err)
		}
		done()
		if k >= 0 && k < len(out) && i >= 0 && i < n {
			out[k].Sums[i].Add(u)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage by cronjob: %w", err)
	}
	return out, nil
}

// UsageByPod returns the pods that used the most CPU in b, with their
// samples summed per bucket (by the samples' own times).
func (s *Store) UsageByPod(ctx context.Context, b store.Buckets, filt store.Filter, limit int) ([]store.PodUsage, error) {
	n := b.N()
	if n == 0 || limit <= 0 {
		return nil, nil
	}
	var c conds
	c.filter(filt, "x.cluster", "x.namespace", "x.cronjob")
	from, to, step := b.From.UnixMilli(), b.To.UnixMilli(), b.Step.Milliseconds()
	// The pods with samples in the range are those whose first and last
	// samples enclose part of it; pod_usage_last holds them in order of
	// their last sample, with what the ranking needs.
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT x.cluster, x.pod_uid, x.namespace, x.pod, x.cronjob, x.cpu_ns
		FROM pod_usage x WHERE x.last_at >= ? AND x.first_at < ?`+c.and()+`
		ORDER BY x.cpu_ns DESC, x.cluster, x.namespace, x.pod, x.pod_uid
		LIMIT ?`), append(append([]any{from, to}, c.args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("usage by pod: %w", err)
	}
	var pods []store.PodUsage
	for rows.Next() {
		p := store.PodUsage{Sums: make([]store.Usage, n), PeakStorage: make([]int64, n), Samples: make([]int64, n)}
		var cpu int64
		if err := rows.Scan(&p.Cluster, &p.UID, &p.Namespace, &p.Name, &p.CronJob, &cpu); err != nil {
			rows.Close()
			return nil, fmt.Errorf("usage by pod: %w", err)
		}
		pods = append(pods, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage by pod: %w", err)
	}
	for i := range pods {
		if err := s.podUsage(ctx, &pods[i], from, to, step); err != nil {
			return nil, fmt.Errorf("usage of pod %s/%s: %w", pods[i].Cluster, pods[i].UID, err)
		}
	}
	return pods, nil
}

func (s *Store) podUsage(ctx context.Context, p *store.PodUsage, from, to, step int64) error {
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(SUM(cpu_request), 0),
			CASE WHEN MIN(cpu_limit) = 0 THEN 0 ELSE COALESCE(SUM(cpu_limit), 0) END,
			COALESCE(SUM(memory_request), 0),
			CASE WHEN MIN(memory_limit) = 0 THEN 0 ELSE COALESCE(SUM(memory_limit), 0) END,
			CASE WHEN MIN(storage_limit) = 0 THEN 0 ELSE COALESCE(SUM(storage_limit), 0) END
		FROM containers WHERE pod_uid = ? AND cluster = ?`), p.UID, p.Cluster).
		Scan(&p.CPURequest, &p.CPULimit, &p.MemoryRequest, &p.MemoryLimit, &p.StorageLimit)
	if err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT (x.at - CAST(? AS BIGINT)) / CAST(? AS BIGINT) AS i,
			SUM(x.cpu_ns), SUM(x.window_ms), SUM(x.memory * x.window_ms / 1000.0), SUM(x.storage * x.window_ms / 1000.0),
			SUM(x.disk_read), SUM(x.disk_write), SUM(x.net_rx), SUM(x.net_tx), SUM(x.net_rx_errors + x.net_tx_errors),
			MAX(x.memory), MAX(x.memory_ratio), MAX(x.cpu_nanocores), MAX(x.storage), COUNT(*)
		FROM samples x WHERE x.pod_uid = ? AND x.cluster = ? AND x.at >= ? AND x.at < ?
		GROUP BY (x.at - CAST(? AS BIGINT)) / CAST(? AS BIGINT)`),
		from, step, p.UID, p.Cluster, from, to, from, step)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var u store.Usage
		var window, storage, samples int64
		if err := rows.Scan(&i, &u.CPUNanos, &window, &u.MemorySeconds, &u.StorageSeconds, &u.DiskRead,
			&u.DiskWrite, &u.NetRx, &u.NetTx, &u.NetErrors, &u.PeakMemory, &u.PeakRatio, &u.PeakNanoCores,
			&storage, &samples); err != nil {
			return err
		}
		u.Window = time.Duration(window) * time.Millisecond
		if i >= 0 && i < len(p.Sums) {
			p.Sums[i], p.PeakStorage[i], p.Samples[i] = u, storage, samples
		}
	}
	return rows.Err()
}

// RunUsage returns the usage summary of one run; the zero Usage when it
// has none.
func (s *Store) RunUsage(ctx context.Context, cluster, runUID string) (store.Usage, error) {
	var u store.Usage
	dest, done := usageDest(&u)
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+strings.Join(usageCols, ", ")+`
		FROM run_usage WHERE run_uid = ? AND cluster = ?`), runUID, cluster).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Usage{}, nil
	}
	if err != nil {
		return store.Usage{}, fmt.Errorf("usage of run %s/%s: %w", cluster, runUID, err)
	}
	done()
	return u, nil
}

// Prune deletes raw samples before rawBefore and rollup units that begin
// before rollupBefore, in one write transaction.
func (s *Store) Prune(ctx context.Context, rawBefore, rollupBefore time.Time) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin prune: %w", err)
	}
	if s.d.LockWrites != "" {
		if _, err := tx.ExecContext(ctx, s.d.LockWrites); err != nil {
			return 0, rollback(tx, fmt.Errorf("lock writes: %w", err))
		}
	}
	var total int64
	for _, d := range []struct {
		q  string
		at time.Time
	}{
		{`DELETE FROM samples WHERE at < ?`, rawBefore},
		{`DELETE FROM pod_usage WHERE last_at < ?`, rawBefore},
		{`DELETE FROM usage_minutes WHERE minute_at < ?`, rollupBefore},
		{`DELETE FROM usage_hours WHERE hour_at < ?`, rollupBefore},
		{`DELETE FROM usage_blocks WHERE block_at < ?`, rollupBefore},
	} {
		res, err := tx.ExecContext(ctx, s.d.rebind(d.q), d.at.UnixMilli())
		if err != nil {
			return 0, rollback(tx, fmt.Errorf("prune: %w", err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, rollback(tx, fmt.Errorf("prune: %w", err))
		}
		total += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit prune: %w", err)
	}
	return total, nil
}
