package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// writeStmts are the statements of Write, prepared once on the writer.
type writeStmts struct {
	cronJob *sql.Stmt

	runTimes      *sql.Stmt // the run's created_at and finished_at before a change
	run           *sql.Stmt // RETURNING the merged namespace, cronjob, created_at, finished_at, outcome
	runGroup      *sql.Stmt // records the run's CronJob in run_cronjobs
	runOrphans    *sql.Stmt // whether pods or events of the run lack its CronJob
	runEvents     *sql.Stmt // gives the run's CronJob to its events
	runPodEvents  *sql.Stmt // … to the events of its pods that have none yet
	runPodRestart *sql.Stmt // … to the restarts of those pods
	runPods       *sql.Stmt // … and to those pods

	podFinished *sql.Stmt // the pod's finished_at before a change
	pod         *sql.Stmt // RETURNING the merged namespace, cronjob, finished_at, phase
	podOrphans  *sql.Stmt // whether restarts or events of the pod lack its owner
	podRestarts *sql.Stmt // gives the pod's namespace and CronJob to its restarts
	podEvents   *sql.Stmt // gives the pod's CronJob to its events

	termination *sql.Stmt // RETURNING the merged reason and finished_at
	oomAt       *sql.Stmt // the pod's oom_at before a change
	podOOM      *sql.Stmt // RETURNING the new oom_at
	restartAt   *sql.Stmt // the restart's restarted_at before a change
	restart     *sql.Stmt // RETURNING restarted_at
	wait        *sql.Stmt // RETURNING the merged first_seen
	crashAt     *sql.Stmt // the pod's crashloop_at before a change
	podCrash    *sql.Stmt // RETURNING the new crashloop_at
	lastSeen    *sql.Stmt // the event's last_seen before a change
	event       *sql.Stmt // RETURNING the merged last_seen

	usage usageStmts

	recount    map[store.Metric]*sql.Stmt // recounts one minute of one cluster into minute_counts
	recountDay *sql.Stmt                  // recounts one day of one CronJob into cronjob_days
}

// Merge rules, one per column kind (see store.Store.Write). Each returns the
// SET clause of an upsert into table.

// firstTime keeps the earliest known time (NULL is unknown), so a time
// taken from the observation clock never beats an earlier or exact one, in
// whatever order they arrive.
func firstTime(table, col string) string {
	return smallest(table, col)
}

func firstText(table, col string) string {
	return fmt.Sprintf("%[2]s = CASE WHEN %[1]s.%[2]s = '' THEN excluded.%[2]s ELSE %[1]s.%[2]s END", table, col)
}

// firstNonZero keeps the first non-zero integer.
func firstNonZero(table, col string) string {
	return fmt.Sprintf("%[2]s = CASE WHEN %[1]s.%[2]s = 0 THEN excluded.%[2]s ELSE %[1]s.%[2]s END", table, col)
}

// largest keeps the largest value; NULL (an unknown time) loses to any.
func largest(table, col string) string {
	return fmt.Sprintf("%[2]s = CASE WHEN %[1]s.%[2]s IS NULL OR excluded.%[2]s > %[1]s.%[2]s THEN excluded.%[2]s ELSE %[1]s.%[2]s END", table, col)
}

// smallest keeps the smallest value; NULL (an unknown time) loses to any.
func smallest(table, col string) string {
	return fmt.Sprintf("%[2]s = CASE WHEN %[1]s.%[2]s IS NULL OR excluded.%[2]s < %[1]s.%[2]s THEN excluded.%[2]s ELSE %[1]s.%[2]s END", table, col)
}

// phaseRank orders pod phases: Pending < Running < Succeeded = Failed;
// anything else (Unknown, "") ranks below Pending.
func phaseRank(expr string) string {
	return fmt.Sprintf("CASE %s WHEN '%s' THEN 1 WHEN '%s' THEN 2 WHEN '%s' THEN 3 WHEN '%s' THEN 3 ELSE 0 END",
		expr, model.PhasePending, model.PhaseRunning, model.PhaseSucceeded, model.PhaseFailed)
}

// forwardPhase moves the phase only to a higher rank, so a final phase
// never changes and an older phase never overwrites a newer one.
func forwardPhase(table string) string {
	return fmt.Sprintf("phase = CASE WHEN %s > %s THEN excluded.phase ELSE %s.phase END",
		phaseRank("excluded.phase"), phaseRank(table+".phase"), table)
}

// upsert builds INSERT INTO table (cols) VALUES (values) ON CONFLICT (key)
// DO UPDATE SET sets [RETURNING returning]. A nil values is one ? per column.
func upsert(table string, cols, values, key, sets []string, returning string) string {
	if values == nil {
		values = make([]string, len(cols))
		for i := range values {
			values[i] = "?"
		}
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s",
		table, strings.Join(cols, ", "), strings.Join(values, ", "), strings.Join(key, ", "), strings.Join(sets, ", "))
	if returning != "" {
		q += " RETURNING " + returning
	}
	return q
}

func (s *Store) prepare(ctx context.Context) error {
	stmts := []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.st.cronJob, upsert("cronjobs",
			[]string{"cluster", "namespace", "name", "uid", "schedule", "suspend", "created_at", "deleted_at"}, nil,
			[]string{"name", "namespace", "cluster"},
			[]string{
				firstText("cronjobs", "uid"),
				// Schedule and Suspend are settings, not facts: the last
				// write wins (an empty schedule means unknown).
				"schedule = CASE WHEN excluded.schedule = '' THEN cronjobs.schedule ELSE excluded.schedule END",
				"suspend = excluded.suspend",
				firstTime("cronjobs", "created_at"), firstTime("cronjobs", "deleted_at"),
			}, "")},

		{&s.st.runTimes, `SELECT created_at, finished_at FROM runs WHERE uid = ? AND cluster = ?`},
		{&s.st.run, upsert("runs",
			[]string{"cluster", "uid", "namespace", "name", "cronjob", "created_at", "scheduled_at", "started_at",
				"finished_at", "outcome", "reason", "message", "succeeded", "failed", "deleted_at"}, nil,
			[]string{"uid", "cluster"},
			[]string{
				firstText("runs", "namespace"), firstText("runs", "name"), firstText("runs", "cronjob"),
				firstTime("runs", "created_at"), firstTime("runs", "scheduled_at"), firstTime("runs", "started_at"),
				firstTime("runs", "finished_at"),
				firstText("runs", "outcome"), firstText("runs", "reason"), firstText("runs", "message"),
				largest("runs", "succeeded"), largest("runs", "failed"),
				firstTime("runs", "deleted_at"),
			}, "namespace, cronjob, created_at, finished_at, outcome")},
		{&s.st.runGroup, `INSERT INTO run_cronjobs (cronjob, namespace, cluster) VALUES (?, ?, ?)
			ON CONFLICT (cronjob, namespace, cluster) DO NOTHING`},
		// Checks first, as most runs are written before their pods and events.
		{&s.st.runOrphans, `SELECT CASE WHEN
			EXISTS (SELECT 1 FROM pods p WHERE p.job_uid = ? AND p.cluster = ? AND p.cronjob = '')
			OR EXISTS (SELECT 1 FROM events e WHERE e.involved_uid = ? AND e.cluster = ? AND e.cronjob = '')
			THEN 1 ELSE 0 END`},
		{&s.st.runEvents, `UPDATE events SET cronjob = ? WHERE involved_uid = ? AND cluster = ? AND cronjob = ''`},
		// The pods still without CronJob are found by pods_job_nocron,
		// so these two must run before runPods fills them.
		{&s.st.runPodEvents, `UPDATE events SET cronjob = ? WHERE cluster = ? AND cronjob = '' AND involved_uid IN
			(SELECT p.uid FROM pods p WHERE p.job_uid = ? AND p.cluster = ? AND p.cronjob = '')`},
		{&s.st.runPodRestart, `UPDATE restarts SET cronjob = ? WHERE cluster = ? AND cronjob = '' AND pod_uid IN
			(SELECT p.uid FROM pods p WHERE p.job_uid = ? AND p.cluster = ? AND p.cronjob = '')`},
		{&s.st.runPods, `UPDATE pods SET cronjob = ? WHERE job_uid = ? AND cluster = ? AND cronjob = ''`},

		{&s.st.podFinished, `SELECT finished_at FROM pods WHERE uid = ? AND cluster = ?`},
		{&s.st.pod, upsert("pods",
			[]string{"cluster", "uid", "known", "namespace", "name", "job_uid", "job_name", "cronjob", "node",
				"created_at", "scheduled_at", "started_at", "pending_until", "finished_at", "phase", "reason", "message",
				"deleted_at"},
			[]string{"?", "?", "1", "?", "?", "?", "?",
				// A pod without a CronJob takes its run's.
				"COALESCE(NULLIF(?, ''), (SELECT r.cronjob FROM runs r WHERE r.uid = ? AND r.cluster = ?), '')",
				"?", "?", "?", "?", "?", "?", "?", "?", "?", "?"},
			[]string{"uid", "cluster"},
			[]string{
				"known = 1",
				firstText("pods", "namespace"), firstText("pods", "name"), firstText("pods", "job_uid"),
				firstText("pods", "job_name"), firstText("pods", "cronjob"), firstText("pods", "node"),
				firstTime("pods", "created_at"), firstTime("pods", "scheduled_at"), firstTime("pods", "started_at"),
				firstTime("pods", "pending_until"), firstTime("pods", "finished_at"),
				forwardPhase("pods"),
				firstText("pods", "reason"), firstText("pods", "message"),
				firstTime("pods", "deleted_at"),
			}, "namespace, cronjob, finished_at, phase")},
		{&s.st.podOrphans, `SELECT CASE WHEN
			EXISTS (SELECT 1 FROM restarts x WHERE x.pod_uid = ? AND x.cluster = ? AND (x.namespace = '' OR x.cronjob = ''))
			OR EXISTS (SELECT 1 FROM events e WHERE e.involved_uid = ? AND e.cluster = ? AND e.cronjob = '')
			THEN 1 ELSE 0 END`},
		// Its four ? are namespace, cronjob, pod uid, cluster.
		{&s.st.podRestarts, `UPDATE restarts SET
				namespace = CASE WHEN namespace = '' THEN ? ELSE namespace END,
				cronjob = CASE WHEN cronjob = '' THEN ? ELSE cronjob END
			WHERE pod_uid = ? AND cluster = ? AND (namespace = '' OR cronjob = '')`},
		{&s.st.podEvents, `UPDATE events SET cronjob = ? WHERE involved_uid = ? AND cluster = ? AND cronjob = ''`},

		{&s.st.termination, upsert("terminations",
			[]string{"cluster", "pod_uid", "container", "attempt", "reason", "exit_code", "signal", "message",
				"started_at", "finished_at"}, nil,
			[]string{"pod_uid", "cluster", "container", "attempt"},
			[]string{
				firstText("terminations", "reason"),
				firstNonZero("terminations", "exit_code"), firstNonZero("terminations", "signal"),
				firstText("terminations", "message"),
				firstTime("terminations", "started_at"), firstTime("terminations", "finished_at"),
			}, "reason, finished_at")},
		{&s.st.oomAt, `SELECT oom_at FROM pods WHERE uid = ? AND cluster = ?`},
		// Inserts a row with known = 0 when the pod is not known yet.
		{&s.st.podOOM, upsert("pods", []string{"cluster", "uid", "oom_at"}, nil, []string{"uid", "cluster"},
			[]string{smallest("pods", "oom_at")}, "oom_at")},

		{&s.st.restartAt, `SELECT restarted_at FROM restarts
			WHERE pod_uid = ? AND cluster = ? AND container = ? AND restart_index = ?`},
		{&s.st.restart, upsert("restarts",
			[]string{"cluster", "pod_uid", "container", "restart_index", "restarted_at", "namespace", "cronjob"},
			[]string{"?", "?", "?", "?", "?",
				"COALESCE((SELECT p.namespace FROM pods p WHERE p.uid = ? AND p.cluster = ?), '')",
				"COALESCE((SELECT p.cronjob FROM pods p WHERE p.uid = ? AND p.cluster = ?), '')"},
			[]string{"pod_uid", "cluster", "container", "restart_index"},
			[]string{firstTime("restarts", "restarted_at"), firstText("restarts", "namespace"),
				firstText("restarts", "cronjob")}, "restarted_at")},

		{&s.st.wait, upsert("waits",
			[]string{"cluster", "pod_uid", "container", "attempt", "reason", "message", "first_seen", "last_seen"}, nil,
			[]string{"pod_uid", "cluster", "container", "attempt", "reason"},
			[]string{
				firstText("waits", "message"), firstTime("waits", "first_seen"), largest("waits", "last_seen"),
			}, "first_seen")},
		{&s.st.crashAt, `SELECT crashloop_at FROM pods WHERE uid = ? AND cluster = ?`},
		{&s.st.podCrash, upsert("pods", []string{"cluster", "uid", "crashloop_at"}, nil, []string{"uid", "cluster"},
			[]string{smallest("pods", "crashloop_at")}, "crashloop_at")},

		{&s.st.lastSeen, `SELECT last_seen FROM events WHERE uid = ? AND cluster = ?`},
		{&s.st.recountDay, `INSERT INTO cronjob_days (cronjob, namespace, day_at, cluster, n)
			SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), COUNT(*) FROM runs r
			WHERE r.cronjob = ? AND r.created_at >= ? AND r.created_at < ? AND r.namespace = ? AND r.cluster = ?
			ON CONFLICT (cronjob, namespace, day_at, cluster) DO UPDATE SET n = excluded.n`},
		{&s.st.event, upsert("events",
			[]string{"cluster", "uid", "namespace", "involved_kind", "involved_name", "involved_uid", "event_type",
				"reason", "message", "source", "event_count", "first_seen", "last_seen", "cronjob"},
			[]string{"?", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?", "?",
				// The CronJob the event is about: itself, or the owner of
				// the run or pod it is about. Its ? are the involved kind,
				// name, then uid and cluster twice.
				`CASE WHEN ? = 'CronJob' THEN ? ELSE COALESCE(
					(SELECT r.cronjob FROM runs r WHERE r.uid = ? AND r.cluster = ? AND r.cronjob <> ''),
					(SELECT p.cronjob FROM pods p WHERE p.uid = ? AND p.cluster = ? AND p.cronjob <> ''),
					'') END`},
			[]string{"uid", "cluster"},
			[]string{
				firstText("events", "namespace"), firstText("events", "involved_kind"),
				firstText("events", "involved_name"), firstText("events", "involved_uid"),
				firstText("events", "event_type"), firstText("events", "reason"), firstText("events", "message"),
				firstText("events", "source"), largest("events", "event_count"),
				firstTime("events", "first_seen"), largest("events", "last_seen"), firstText("events", "cronjob"),
			}, "last_seen")},
	}
	stmts = append(stmts, s.usageStatements()...)
	for _, st := range stmts {
		p, err := s.w.PrepareContext(ctx, s.d.rebind(st.sql))
		if err != nil {
			return fmt.Errorf("prepare %q: %w", st.sql, err)
		}
		*st.dst = p
	}
	s.st.recount = make(map[store.Metric]*sql.Stmt, len(store.Metrics()))
	for _, m := range store.Metrics() {
		src, err := metricSource(m)
		if err != nil {
			return err
		}
		q := recountSQL(m, src)
		p, err := s.w.PrepareContext(ctx, s.d.rebind(q))
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.st.recount[m] = p
	}
	return nil
}

// recountSQL recounts metric m in one minute of one cluster; its ? are the
// minute's start, the cluster, the minute's start and end, and the cluster.
func recountSQL(m store.Metric, src source) string {
	c := src.conds(store.Filter{})
	c.add(src.cluster + " = ?")
	return fmt.Sprintf(`INSERT INTO minute_counts (metric, minute_at, cluster, n)
		SELECT '%s', CAST(? AS BIGINT), CAST(? AS TEXT), COUNT(*) FROM %s WHERE %s >= ? AND %s < ?%s
		ON CONFLICT (metric, minute_at, cluster) DO UPDATE SET n = excluded.n`,
		m, src.from, src.at, src.at, c.and())
}

func (s *Store) closeStmts() error {
	var errs []error
	for _, p := range []*sql.Stmt{s.st.cronJob, s.st.runTimes, s.st.podFinished, s.st.restartAt, s.st.run, s.st.runGroup, s.st.runOrphans, s.st.runEvents, s.st.runPodEvents,
		s.st.runPodRestart, s.st.runPods, s.st.pod, s.st.podOrphans, s.st.podRestarts, s.st.podEvents, s.st.termination, s.st.oomAt,
		s.st.podOOM, s.st.restart, s.st.wait, s.st.crashAt, s.st.podCrash, s.st.lastSeen, s.st.event, s.st.recountDay} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	for _, p := range s.usageStmtList() {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	for _, p := range s.st.recount {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// touched collects the minutes of minute_counts and the days of
// cronjob_days whose counts a write may have changed.
type touched struct {
	minutes map[touchedMinute]struct{}
	days    map[touchedDay]struct{}
}

type touchedMinute struct {
	metric  store.Metric
	cluster string
	minute  int64
}

type touchedDay struct {
	cronJob, namespace, cluster string
	day                         int64
}

// add records the minutes of the known times among ts.
func (tm touched) add(m store.Metric, cluster string, ts ...sql.NullInt64) {
	for _, t := range ts {
		if t.Valid {
			tm.minutes[touchedMinute{m, cluster, floorUnit(t.Int64, minuteMS)}] = struct{}{}
		}
	}
}

// addDay records the days of the known times among ts.
func (tm touched) addDay(cronJob, namespace, cluster string, ts ...sql.NullInt64) {
	for _, t := range ts {
		if t.Valid {
			tm.days[touchedDay{cronJob, namespace, cluster, floorUnit(t.Int64, dayMS)}] = struct{}{}
		}
	}
}

// Write merges all facts of f in one transaction, following the rules of
// store.Store.Write. Besides the facts it keeps, in the same transaction:
//   - each pod's oom_at (smallest FinishedAt of its OOMKilled
//     terminations; one without FinishedAt gives no time) and crashloop_at
//     (smallest FirstSeen of its CrashLoopBackOff waits), creating a pod
//     row that Pod does not report until the pod itself is written;
//   - the CronJob of pods, and the namespace and CronJob of restarts and
//     events, whichever of them is written first;
//   - minute_counts, recounted from the facts for every minute in which a
//     counted time was set or left.
func (s *Store) Write(ctx context.Context, f model.Facts) error {
	if f.Empty() {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	if s.d.LockWrites != "" {
		if _, err := tx.ExecContext(ctx, s.d.LockWrites); err != nil {
			return rollback(tx, fmt.Errorf("lock writes: %w", err))
		}
	}
	if err := s.write(ctx, tx, &f); err != nil {
		return rollback(tx, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit write: %w", err)
	}
	return nil
}

func (s *Store) write(ctx context.Context, tx *sql.Tx, f *model.Facts) error {
	tm := touched{minutes: map[touchedMinute]struct{}{}, days: map[touchedDay]struct{}{}}
	steps := []struct {
		n  int
		fn func(context.Context, *sql.Tx, *model.Facts, touched) error
	}{
		{len(f.CronJobs), s.writeCronJobs},
		{len(f.Runs), s.writeRuns},
		{len(f.Pods), s.writePods},
		{len(f.Terminations), s.writeTerminations},
		{len(f.Restarts), s.writeRestarts},
		{len(f.Waits), s.writeWaits},
		{len(f.Events), s.writeEvents},
		{len(f.Containers), s.writeContainers},
		{len(f.Samples), s.writeSamples},
	}
	for _, st := range steps {
		if st.n == 0 {
			continue
		}
		if err := st.fn(ctx, tx, f, tm); err != nil {
			return err
		}
	}
	return s.recount(ctx, tx, tm)
}

func (s *Store) writeCronJobs(ctx context.Context, tx *sql.Tx, f *model.Facts, _ touched) error {
	st := tx.StmtContext(ctx, s.st.cronJob)
	for _, c := range f.CronJobs {
		if _, err := st.ExecContext(ctx, c.Cluster, c.Namespace, c.Name, c.UID, c.Schedule, boolInt(c.Suspend),
			ms(c.CreatedAt), ms(c.DeletedAt)); err != nil {
			return fmt.Errorf("write cronjob %s/%s/%s: %w", c.Cluster, c.Namespace, c.Name, err)
		}
	}
	return nil
}

func (s *Store) writeRuns(ctx context.Context, tx *sql.Tx, f *model.Facts, tm touched) error {
	before, st := tx.StmtContext(ctx, s.st.runTimes), tx.StmtContext(ctx, s.st.run)
	fill := []*sql.Stmt{
		tx.StmtContext(ctx, s.st.runEvents),
		tx.StmtContext(ctx, s.st.runPodEvents),
		tx.StmtContext(ctx, s.st.runPodRestart),
		tx.StmtContext(ctx, s.st.runPods),
	}
	group, orphans := tx.StmtContext(ctx, s.st.runGroup), tx.StmtContext(ctx, s.st.runOrphans)
	for _, r := range f.Runs {
		// A time may move earlier (see store.Store.Write): the minutes it
		// leaves are recounted too.
		var wasCreated, wasFinished sql.NullInt64
		err := before.QueryRowContext(ctx, r.UID, r.Cluster).Scan(&wasCreated, &wasFinished)
		if errors.Is(err, sql.ErrNoRows) && r.Inferred {
			continue // an inferred fact only completes a run already known
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read run %s/%s: %w", r.Cluster, r.UID, err)
		}
		var namespace, cronJob, outcome string
		var created, finished sql.NullInt64
		if err := st.QueryRowContext(ctx, r.Cluster, r.UID, r.Namespace, r.Name, r.CronJob,
			ms(r.CreatedAt), ms(r.ScheduledAt), ms(r.StartedAt), ms(r.FinishedAt),
			r.Outcome, r.Reason, r.Message, r.Succeeded, r.Failed, ms(r.DeletedAt)).
			Scan(&namespace, &cronJob, &created, &finished, &outcome); err != nil {
			return fmt.Errorf("write run %s/%s: %w", r.Cluster, r.UID, err)
		}
		tm.add(store.RunsCreated, r.Cluster, wasCreated, created)
		switch outcome {
		case model.OutcomeSucceeded:
			tm.add(store.RunsSucceeded, r.Cluster, wasFinished, finished)
		case model.OutcomeFailed:
			tm.add(store.RunsFailed, r.Cluster, wasFinished, finished)
		}
		if cronJob == "" {
			continue
		}
		if namespace != "" {
			if _, err := group.ExecContext(ctx, cronJob, namespace, r.Cluster); err != nil {
				return fmt.Errorf("record cronjob of run %s/%s: %w", r.Cluster, r.UID, err)
			}
			tm.addDay(cronJob, namespace, r.Cluster, wasCreated, created)
		}
		var found int
		if err := orphans.QueryRowContext(ctx, r.UID, r.Cluster, r.UID, r.Cluster).Scan(&found); err != nil {
			return fmt.Errorf("find pods and events of run %s/%s: %w", r.Cluster, r.UID, err)
		}
		if found == 0 {
			continue
		}
		args := [][]any{
			{cronJob, r.UID, r.Cluster},
			{cronJob, r.Cluster, r.UID, r.Cluster},
			{cronJob, r.Cluster, r.UID, r.Cluster},
			{cronJob, r.UID, r.Cluster},
		}
		for i, st := range fill {
			if _, err := st.ExecContext(ctx, args[i]...); err != nil {
				return fmt.Errorf("give cronjob of run %s/%s to its pods and events: %w", r.Cluster, r.UID, err)
			}
		}
	}
	return nil
}

func (s *Store) writePods(ctx context.Context, tx *sql.Tx, f *model.Facts, tm touched) error {
	before, st := tx.StmtContext(ctx, s.st.podFinished), tx.StmtContext(ctx, s.st.pod)
	orphans := tx.StmtContext(ctx, s.st.podOrphans)
	restarts, events := tx.StmtContext(ctx, s.st.podRestarts), tx.StmtContext(ctx, s.st.podEvents)
	for _, p := range f.Pods {
		var wasFinished sql.NullInt64
		if err := before.QueryRowContext(ctx, p.UID, p.Cluster).Scan(&wasFinished); err != nil &&
			!errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read pod %s/%s: %w", p.Cluster, p.UID, err)
		}
		var namespace, cronJob, phase string
		var finished sql.NullInt64
		if err := st.QueryRowContext(ctx, p.Cluster, p.UID, p.Namespace, p.Name, p.JobUID, p.JobName,
			p.CronJob, p.JobUID, p.Cluster, p.Node,
			ms(p.CreatedAt), ms(p.ScheduledAt), ms(p.StartedAt), ms(p.PendingUntil), ms(p.FinishedAt),
			p.Phase, p.Reason, p.Message, ms(p.DeletedAt)).Scan(&namespace, &cronJob, &finished, &phase); err != nil {
			return fmt.Errorf("write pod %s/%s: %w", p.Cluster, p.UID, err)
		}
		switch phase {
		case model.PhaseSucceeded:
			tm.add(store.PodsFinished, p.Cluster, wasFinished, finished)
			tm.add(store.PodsSucceeded, p.Cluster, wasFinished, finished)
		case model.PhaseFailed:
			tm.add(store.PodsFinished, p.Cluster, wasFinished, finished)
			tm.add(store.PodsFailed, p.Cluster, wasFinished, finished)
		}
		if namespace == "" && cronJob == "" {
			continue
		}
		var found int
		if err := orphans.QueryRowContext(ctx, p.UID, p.Cluster, p.UID, p.Cluster).Scan(&found); err != nil {
			return fmt.Errorf("find restarts and events of pod %s/%s: %w", p.Cluster, p.UID, err)
		}
		if found == 0 {
			continue
		}
		if _, err := restarts.ExecContext(ctx, namespace, cronJob, p.UID, p.Cluster); err != nil {
			return fmt.Errorf("give owner of pod %s/%s to its restarts: %w", p.Cluster, p.UID, err)
		}
		if cronJob == "" {
			continue
		}
		if _, err := events.ExecContext(ctx, cronJob, p.UID, p.Cluster); err != nil {
			return fmt.Errorf("give cronjob of pod %s/%s to its events: %w", p.Cluster, p.UID, err)
		}
	}
	return nil
}

// moveMin lowers a pod's oom_at or crashloop_at to t if it is earlier,
// touching the minutes it leaves and enters.
func moveMin(ctx context.Context, before, upsert *sql.Stmt, m store.Metric, cluster, podUID string, t sql.NullInt64, tm touched) error {
	var old, now sql.NullInt64
	if err := before.QueryRowContext(ctx, podUID, cluster).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err := upsert.QueryRowContext(ctx, cluster, podUID, t).Scan(&now); err != nil {
		return err
	}
	if old != now {
		tm.add(m, cluster, old, now)
	}
	return nil
}

func (s *Store) writeTerminations(ctx context.Context, tx *sql.Tx, f *model.Facts, tm touched) error {
	st := tx.StmtContext(ctx, s.st.termination)
	before, oom := tx.StmtContext(ctx, s.st.oomAt), tx.StmtContext(ctx, s.st.podOOM)
	for _, t := range f.Terminations {
		var reason string
		var finished sql.NullInt64
		if err := st.QueryRowContext(ctx, t.Cluster, t.PodUID, t.Container, t.Attempt, t.Reason, t.ExitCode,
			t.Signal, t.Message, ms(t.StartedAt), ms(t.FinishedAt)).Scan(&reason, &finished); err != nil {
			return fmt.Errorf("write termination %s/%s/%s/%d: %w", t.Cluster, t.PodUID, t.Container, t.Attempt, err)
		}
		if reason != model.ReasonOOMKilled || !finished.Valid {
			continue
		}
		if err := moveMin(ctx, before, oom, store.PodsOOM, t.Cluster, t.PodUID, finished, tm); err != nil {
			return fmt.Errorf("mark OOM kill of pod %s/%s: %w", t.Cluster, t.PodUID, err)
		}
	}
	return nil
}

func (s *Store) writeRestarts(ctx context.Context, tx *sql.Tx, f *model.Facts, tm touched) error {
	before, st := tx.StmtContext(ctx, s.st.restartAt), tx.StmtContext(ctx, s.st.restart)
	for _, r := range f.Restarts {
		var was, at sql.NullInt64
		if err := before.QueryRowContext(ctx, r.PodUID, r.Cluster, r.Container, r.Index).Scan(&was); err != nil &&
			!errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read restart %s/%s/%s/%d: %w", r.Cluster, r.PodUID, r.Container, r.Index, err)
		}
		if err := st.QueryRowContext(ctx, r.Cluster, r.PodUID, r.Container, r.Index, ms(r.At),
			r.PodUID, r.Cluster, r.PodUID, r.Cluster).Scan(&at); err != nil {
			return fmt.Errorf("write restart %s/%s/%s/%d: %w", r.Cluster, r.PodUID, r.Container, r.Index, err)
		}
		tm.add(store.Restarts, r.Cluster, was, at)
	}
	return nil
}

func (s *Store) writeWaits(ctx context.Context, tx *sql.Tx, f *model.Facts, tm touched) error {
	st := tx.StmtContext(ctx, s.st.wait)
	before, crash := tx.StmtContext(ctx, s.st.crashAt), tx.StmtContext(ctx, s.st.podCrash)
	for _, w := range f.Waits {
		var first sql.NullInt64
		if err := st.QueryRowContext(ctx, w.Cluster, w.PodUID, w.Container, w.Attempt, w.Reason, w.Message,
			ms(w.FirstSeen), ms(w.LastSeen)).Scan(&first); err != nil {
			return fmt.Errorf("write wait %s/%s/%s/%d/%s: %w", w.Cluster, w.PodUID, w.Container, w.Attempt, w.Reason, err)
		}
		if w.Reason != model.ReasonCrashLoopBackOff || !first.Valid {
			continue
		}
		if err := moveMin(ctx, before, crash, store.PodsCrashLoop, w.Cluster, w.PodUID, first, tm); err != nil {
			return fmt.Errorf("mark crash loop of pod %s/%s: %w", w.Cluster, w.PodUID, err)
		}
	}
	return nil
}

func (s *Store) writeEvents(ctx context.Context, tx *sql.Tx, f *model.Facts, tm touched) error {
	st, before := tx.StmtContext(ctx, s.st.event), tx.StmtContext(ctx, s.st.lastSeen)
	for _, e := range f.Events {
		var old, last sql.NullInt64
		if err := before.QueryRowContext(ctx, e.UID, e.Cluster).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read event %s/%s: %w", e.Cluster, e.UID, err)
		}
		if err := st.QueryRowContext(ctx, e.Cluster, e.UID, e.Namespace, e.InvolvedKind, e.InvolvedName,
			e.InvolvedUID, e.Type, e.Reason, e.Message, e.Source, e.Count, ms(e.FirstSeen), ms(e.LastSeen),
			e.InvolvedKind, e.InvolvedName, e.InvolvedUID, e.Cluster, e.InvolvedUID, e.Cluster).Scan(&last); err != nil {
			return fmt.Errorf("write event %s/%s: %w", e.Cluster, e.UID, err)
		}
		if old != last {
			tm.add(store.Events, e.Cluster, old, last)
		}
	}
	return nil
}

// recount brings minute_counts and cronjob_days up to date for every
// touched minute and day.
func (s *Store) recount(ctx context.Context, tx *sql.Tx, tm touched) error {
	if len(tm.days) > 0 {
		st := tx.StmtContext(ctx, s.st.recountDay)
		for k := range tm.days {
			if _, err := st.ExecContext(ctx, k.cronJob, k.namespace, k.day, k.cluster,
				k.cronJob, k.day, k.day+dayMS, k.namespace, k.cluster); err != nil {
				return fmt.Errorf("recount runs of cronjob %s/%s/%s on day %d: %w", k.cluster, k.namespace, k.cronJob, k.day, err)
			}
		}
	}
	stmts := make(map[store.Metric]*sql.Stmt)
	for k := range tm.minutes {
		st, ok := stmts[k.metric]
		if !ok {
			st = tx.StmtContext(ctx, s.st.recount[k.metric])
			stmts[k.metric] = st
		}
		if _, err := st.ExecContext(ctx, k.minute, k.cluster, k.minute, k.minute+minuteMS, k.cluster); err != nil {
			return fmt.Errorf("recount %s of cluster %s at minute %d: %w", k.metric, k.cluster, k.minute, err)
		}
	}
	return nil
}

// boolInt encodes a bool as the INTEGER 0 or 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
