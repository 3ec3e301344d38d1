package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/batchlens/batchlens/internal/model"
)

// writeStmts are the statements of Write, prepared once on the writer.
type writeStmts struct {
	cronJob     *sql.Stmt
	run         *sql.Stmt // RETURNING the merged cronjob
	runPods     *sql.Stmt // fills the cronjob of a run's pods that have none
	pod         *sql.Stmt
	termination *sql.Stmt // RETURNING the merged reason and finished_at
	podOOM      *sql.Stmt
	restart     *sql.Stmt
	wait        *sql.Stmt // RETURNING the merged first_seen
	podCrash    *sql.Stmt
	event       *sql.Stmt
}

// Merge rules, one per column kind (see store.Store.Write). Each returns the
// SET clause of an upsert into table.

func firstTime(table, col string) string {
	return fmt.Sprintf("%[2]s = COALESCE(%[1]s.%[2]s, excluded.%[2]s)", table, col)
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
// DO UPDATE SET sets. values defaults to one ? per column.
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
	podCols := []string{"cluster", "uid", "known", "namespace", "name", "job_uid", "job_name", "cronjob", "node",
		"created_at", "scheduled_at", "started_at", "pending_until", "finished_at", "phase", "reason", "message", "deleted_at"}
	podValues := []string{"?", "?", "1", "?", "?", "?", "?",
		// A pod without a CronJob takes its run's.
		"COALESCE(NULLIF(?, ''), (SELECT r.cronjob FROM runs r WHERE r.cluster = ? AND r.uid = ?), '')",
		"?", "?", "?", "?", "?", "?", "?", "?", "?", "?"}

	stmts := []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.st.cronJob, upsert("cronjobs",
			[]string{"cluster", "namespace", "name", "uid", "schedule", "suspend", "created_at", "deleted_at"}, nil,
			[]string{"cluster", "namespace", "name"},
			[]string{
				firstText("cronjobs", "uid"),
				// Schedule and Suspend are settings, not facts: the last
				// write wins (an empty schedule means unknown).
				"schedule = CASE WHEN excluded.schedule = '' THEN cronjobs.schedule ELSE excluded.schedule END",
				"suspend = excluded.suspend",
				firstTime("cronjobs", "created_at"), firstTime("cronjobs", "deleted_at"),
			}, "")},
		{&s.st.run, upsert("runs",
			[]string{"cluster", "uid", "namespace", "name", "cronjob", "created_at", "scheduled_at", "started_at",
				"finished_at", "outcome", "reason", "message", "succeeded", "failed", "deleted_at"}, nil,
			[]string{"cluster", "uid"},
			[]string{
				firstText("runs", "namespace"), firstText("runs", "name"), firstText("runs", "cronjob"),
				firstTime("runs", "created_at"), firstTime("runs", "scheduled_at"), firstTime("runs", "started_at"),
				firstTime("runs", "finished_at"),
				firstText("runs", "outcome"), firstText("runs", "reason"), firstText("runs", "message"),
				largest("runs", "succeeded"), largest("runs", "failed"),
				firstTime("runs", "deleted_at"),
			}, "cronjob")},
		{&s.st.runPods, `UPDATE pods SET cronjob = ? WHERE cluster = ? AND job_uid = ? AND cronjob = ''`},
		{&s.st.pod, upsert("pods", podCols, podValues, []string{"cluster", "uid"},
			[]string{
				"known = 1",
				firstText("pods", "namespace"), firstText("pods", "name"), firstText("pods", "job_uid"),
				firstText("pods", "job_name"), firstText("pods", "cronjob"), firstText("pods", "node"),
				firstTime("pods", "created_at"), firstTime("pods", "scheduled_at"), firstTime("pods", "started_at"),
				firstTime("pods", "pending_until"), firstTime("pods", "finished_at"),
				forwardPhase("pods"),
				firstText("pods", "reason"), firstText("pods", "message"),
				firstTime("pods", "deleted_at"),
			}, "")},
		{&s.st.termination, upsert("terminations",
			[]string{"cluster", "pod_uid", "container", "attempt", "reason", "exit_code", "signal", "message",
				"started_at", "finished_at"}, nil,
			[]string{"cluster", "pod_uid", "container", "attempt"},
			[]string{
				firstText("terminations", "reason"),
				firstNonZero("terminations", "exit_code"), firstNonZero("terminations", "signal"),
				firstText("terminations", "message"),
				firstTime("terminations", "started_at"), firstTime("terminations", "finished_at"),
			}, "reason, finished_at")},
		// Inserts a row with known = 0 when the pod is not known yet.
		{&s.st.podOOM, upsert("pods", []string{"cluster", "uid", "oom_at"}, nil, []string{"cluster", "uid"},
			[]string{smallest("pods", "oom_at")}, "")},
		{&s.st.restart, upsert("restarts",
			[]string{"cluster", "pod_uid", "container", "restart_index", "restarted_at"}, nil,
			[]string{"cluster", "pod_uid", "container", "restart_index"},
			[]string{firstTime("restarts", "restarted_at")}, "")},
		{&s.st.wait, upsert("waits",
			[]string{"cluster", "pod_uid", "container", "attempt", "reason", "message", "first_seen", "last_seen"}, nil,
			[]string{"cluster", "pod_uid", "container", "attempt", "reason"},
			[]string{
				firstText("waits", "message"), firstTime("waits", "first_seen"), largest("waits", "last_seen"),
			}, "first_seen")},
		{&s.st.podCrash, upsert("pods", []string{"cluster", "uid", "crashloop_at"}, nil, []string{"cluster", "uid"},
			[]string{smallest("pods", "crashloop_at")}, "")},
		{&s.st.event, upsert("events",
			[]string{"cluster", "uid", "namespace", "involved_kind", "involved_name", "involved_uid", "event_type",
				"reason", "message", "source", "event_count", "first_seen", "last_seen"}, nil,
			[]string{"cluster", "uid"},
			[]string{
				firstText("events", "namespace"), firstText("events", "involved_kind"),
				firstText("events", "involved_name"), firstText("events", "involved_uid"),
				firstText("events", "event_type"), firstText("events", "reason"), firstText("events", "message"),
				firstText("events", "source"), largest("events", "event_count"),
				firstTime("events", "first_seen"), largest("events", "last_seen"),
			}, "")},
	}
	for _, st := range stmts {
		p, err := s.w.PrepareContext(ctx, s.d.rebind(st.sql))
		if err != nil {
			return fmt.Errorf("prepare %q: %w", st.sql, err)
		}
		*st.dst = p
	}
	return nil
}

func (s *Store) closeStmts() error {
	var errs []error
	for _, p := range []*sql.Stmt{s.st.cronJob, s.st.run, s.st.runPods, s.st.pod, s.st.termination, s.st.podOOM,
		s.st.restart, s.st.wait, s.st.podCrash, s.st.event} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// Write merges all facts of f in one transaction, following the rules of
// store.Store.Write. It also keeps each pod's oom_at (smallest FinishedAt of
// its OOMKilled terminations; one without FinishedAt gives no time) and
// crashloop_at (smallest FirstSeen of its CrashLoopBackOff waits; one
// without FirstSeen gives no time), creating a pod row that Pod does not
// report until the pod itself is written.
func (s *Store) Write(ctx context.Context, f model.Facts) error {
	if f.Empty() {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
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
	if len(f.CronJobs) > 0 {
		st := tx.StmtContext(ctx, s.st.cronJob)
		for _, c := range f.CronJobs {
			if _, err := st.ExecContext(ctx, c.Cluster, c.Namespace, c.Name, c.UID, c.Schedule, boolInt(c.Suspend),
				ms(c.CreatedAt), ms(c.DeletedAt)); err != nil {
				return fmt.Errorf("write cronjob %s/%s/%s: %w", c.Cluster, c.Namespace, c.Name, err)
			}
		}
	}
	if len(f.Runs) > 0 {
		st, pods := tx.StmtContext(ctx, s.st.run), tx.StmtContext(ctx, s.st.runPods)
		for _, r := range f.Runs {
			var cronJob string
			if err := st.QueryRowContext(ctx, r.Cluster, r.UID, r.Namespace, r.Name, r.CronJob,
				ms(r.CreatedAt), ms(r.ScheduledAt), ms(r.StartedAt), ms(r.FinishedAt),
				r.Outcome, r.Reason, r.Message, r.Succeeded, r.Failed, ms(r.DeletedAt)).Scan(&cronJob); err != nil {
				return fmt.Errorf("write run %s/%s: %w", r.Cluster, r.UID, err)
			}
			if cronJob == "" {
				continue
			}
			if _, err := pods.ExecContext(ctx, cronJob, r.Cluster, r.UID); err != nil {
				return fmt.Errorf("fill cronjob of pods of run %s/%s: %w", r.Cluster, r.UID, err)
			}
		}
	}
	if len(f.Pods) > 0 {
		st := tx.StmtContext(ctx, s.st.pod)
		for _, p := range f.Pods {
			if _, err := st.ExecContext(ctx, p.Cluster, p.UID, p.Namespace, p.Name, p.JobUID, p.JobName,
				p.CronJob, p.Cluster, p.JobUID, p.Node,
				ms(p.CreatedAt), ms(p.ScheduledAt), ms(p.StartedAt), ms(p.PendingUntil), ms(p.FinishedAt),
				p.Phase, p.Reason, p.Message, ms(p.DeletedAt)); err != nil {
				return fmt.Errorf("write pod %s/%s: %w", p.Cluster, p.UID, err)
			}
		}
	}
	if len(f.Terminations) > 0 {
		st, oom := tx.StmtContext(ctx, s.st.termination), tx.StmtContext(ctx, s.st.podOOM)
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
			if _, err := oom.ExecContext(ctx, t.Cluster, t.PodUID, finished); err != nil {
				return fmt.Errorf("mark OOM of pod %s/%s: %w", t.Cluster, t.PodUID, err)
			}
		}
	}
	if len(f.Restarts) > 0 {
		st := tx.StmtContext(ctx, s.st.restart)
		for _, r := range f.Restarts {
			if _, err := st.ExecContext(ctx, r.Cluster, r.PodUID, r.Container, r.Index, ms(r.At)); err != nil {
				return fmt.Errorf("write restart %s/%s/%s/%d: %w", r.Cluster, r.PodUID, r.Container, r.Index, err)
			}
		}
	}
	if len(f.Waits) > 0 {
		st, crash := tx.StmtContext(ctx, s.st.wait), tx.StmtContext(ctx, s.st.podCrash)
		for _, w := range f.Waits {
			var first sql.NullInt64
			if err := st.QueryRowContext(ctx, w.Cluster, w.PodUID, w.Container, w.Attempt, w.Reason, w.Message,
				ms(w.FirstSeen), ms(w.LastSeen)).Scan(&first); err != nil {
				return fmt.Errorf("write wait %s/%s/%s/%d/%s: %w", w.Cluster, w.PodUID, w.Container, w.Attempt, w.Reason, err)
			}
			if w.Reason != model.ReasonCrashLoopBackOff || !first.Valid {
				continue
			}
			if _, err := crash.ExecContext(ctx, w.Cluster, w.PodUID, first); err != nil {
				return fmt.Errorf("mark crash loop of pod %s/%s: %w", w.Cluster, w.PodUID, err)
			}
		}
	}
	if len(f.Events) > 0 {
		st := tx.StmtContext(ctx, s.st.event)
		for _, e := range f.Events {
			if _, err := st.ExecContext(ctx, e.Cluster, e.UID, e.Namespace, e.InvolvedKind, e.InvolvedName,
				e.InvolvedUID, e.Type, e.Reason, e.Message, e.Source, e.Count, ms(e.FirstSeen), ms(e.LastSeen)); err != nil {
				return fmt.Errorf("write event %s/%s: %w", e.Cluster, e.UID, err)
			}
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
