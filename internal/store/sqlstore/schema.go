package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNewerSchema is returned by Migrate when the database was migrated by a
// newer batchlens than this one.
var ErrNewerSchema = errors.New("database schema is newer than this batchlens")

// PendingAt splits the pods it counts by how long they stayed Pending, so
// that each instant only reads the pods created shortly before it (see
// pendingAt). The partial indexes pods_pending_long and pods_pending_longer
// repeat these predicates literally, as the queries must for a planner to
// use them: changing a window needs a migration that recreates its index.
const (
	pendingShortMS  = 900_000    // 15 minutes
	pendingMediumMS = 14_400_000 // 4 hours
	pendingLong     = "(pending_until IS NULL OR pending_until - created_at > 900000)"
	pendingLonger   = "(pending_until IS NULL OR pending_until - created_at > 14400000)"
)

// migrations returns the schema steps in order; step i brings the schema
// from version i to i+1. Steps are only ever appended.
//
// Keys put the UID before the cluster: an index led by cluster would
// tempt SQLite's planner (which has no statistics) to read a whole cluster
// for "cluster = ?" instead of the time range it was asked for.
func migrations(d Dialect) [][]string {
	return [][]string{
		{
			`CREATE TABLE cronjobs (
				cluster    TEXT NOT NULL,
				namespace  TEXT NOT NULL,
				name       TEXT NOT NULL,
				uid        TEXT NOT NULL DEFAULT '',
				schedule   TEXT NOT NULL DEFAULT '',
				suspend    INTEGER NOT NULL DEFAULT 0,
				created_at BIGINT,
				deleted_at BIGINT,
				PRIMARY KEY (name, namespace, cluster)
			)`,

			`CREATE TABLE runs (
				uid          TEXT NOT NULL,
				cluster      TEXT NOT NULL,
				namespace    TEXT NOT NULL DEFAULT '',
				name         TEXT NOT NULL DEFAULT '',
				cronjob      TEXT NOT NULL DEFAULT '',
				created_at   BIGINT,
				scheduled_at BIGINT,
				started_at   BIGINT,
				finished_at  BIGINT,
				outcome      TEXT NOT NULL DEFAULT '',
				reason       TEXT NOT NULL DEFAULT '',
				message      TEXT NOT NULL DEFAULT '',
				succeeded    INTEGER NOT NULL DEFAULT 0,
				failed       INTEGER NOT NULL DEFAULT 0,
				deleted_at   BIGINT,
				PRIMARY KEY (uid, cluster)
			)`,
			// Per counted time: one index by time (rollups, their edges and
			// cluster filters), one by namespace and one by CronJob, each
			// covering the filters so that no count visits the table.
			`CREATE INDEX runs_created ON runs (created_at, cluster)`,
			`CREATE INDEX runs_ns_created ON runs (namespace, created_at, cluster, cronjob)`,
			// Also TopCronJobs: one range per CronJob.
			`CREATE INDEX runs_cronjob_created ON runs (cronjob, created_at, namespace, cluster)`,
			`CREATE INDEX runs_finished ON runs (finished_at, outcome, cluster)`,
			`CREATE INDEX runs_ns_finished ON runs (namespace, finished_at, outcome, cluster, cronjob)`,
			`CREATE INDEX runs_cronjob_finished ON runs (cronjob, finished_at, outcome, cluster, namespace)`,
			// For TopCronJobs: the CronJobs that own runs, and how many runs
			// each created per UTC day (start in Unix ms), a cache of runs
			// that Write recounts for every day it touches. Both leave out
			// runs whose namespace is not known.
			`CREATE TABLE run_cronjobs (
				cronjob   TEXT NOT NULL,
				namespace TEXT NOT NULL,
				cluster   TEXT NOT NULL,
				PRIMARY KEY (cronjob, namespace, cluster)
			)`,
			`CREATE TABLE cronjob_days (
				cronjob   TEXT NOT NULL,
				namespace TEXT NOT NULL,
				day_at    BIGINT NOT NULL,
				cluster   TEXT NOT NULL,
				n         BIGINT NOT NULL,
				PRIMARY KEY (cronjob, namespace, day_at, cluster)
			)`,
			`CREATE INDEX cronjob_days_n ON cronjob_days (cronjob, namespace, day_at, cluster, n)`,

			// known is 0 for a row created only to hold oom_at or
			// crashloop_at of a pod whose Pod fact has not been written yet.
			// oom_at is the smallest FinishedAt of the pod's OOMKilled
			// terminations, crashloop_at the smallest FirstSeen of its
			// CrashLoopBackOff waits; Write maintains both.
			`CREATE TABLE pods (
				uid           TEXT NOT NULL,
				cluster       TEXT NOT NULL,
				known         INTEGER NOT NULL DEFAULT 0,
				namespace     TEXT NOT NULL DEFAULT '',
				name          TEXT NOT NULL DEFAULT '',
				job_uid       TEXT NOT NULL DEFAULT '',
				job_name      TEXT NOT NULL DEFAULT '',
				cronjob       TEXT NOT NULL DEFAULT '',
				node          TEXT NOT NULL DEFAULT '',
				created_at    BIGINT,
				scheduled_at  BIGINT,
				started_at    BIGINT,
				pending_until BIGINT,
				finished_at   BIGINT,
				phase         TEXT NOT NULL DEFAULT '',
				reason        TEXT NOT NULL DEFAULT '',
				message       TEXT NOT NULL DEFAULT '',
				deleted_at    BIGINT,
				oom_at        BIGINT,
				crashloop_at  BIGINT,
				PRIMARY KEY (uid, cluster)
			)`,
			// Pods waiting for their run's CronJob (see Write).
			`CREATE INDEX pods_job_nocron ON pods (job_uid, cluster) WHERE cronjob = ''`,
			`CREATE INDEX pods_finished ON pods (finished_at, phase, cluster)`,
			`CREATE INDEX pods_ns_finished ON pods (namespace, finished_at, phase, cluster, cronjob)`,
			`CREATE INDEX pods_cronjob_finished ON pods (cronjob, finished_at, phase, cluster, namespace)`,
			`CREATE INDEX pods_oom ON pods (oom_at, cluster, namespace, cronjob) WHERE oom_at IS NOT NULL`,
			`CREATE INDEX pods_crashloop ON pods (crashloop_at, cluster, namespace, cronjob) WHERE crashloop_at IS NOT NULL`,
			`CREATE INDEX pods_created ON pods (created_at, pending_until, cluster, namespace, cronjob)`,
			`CREATE INDEX pods_pending_long ON pods (created_at, pending_until, cluster, namespace, cronjob) WHERE ` + pendingLong,
			`CREATE INDEX pods_pending_longer ON pods (created_at, pending_until, cluster, namespace, cronjob) WHERE ` + pendingLonger,

			`CREATE TABLE terminations (
				pod_uid     TEXT NOT NULL,
				cluster     TEXT NOT NULL,
				container   TEXT NOT NULL,
				attempt     INTEGER NOT NULL,
				reason      TEXT NOT NULL DEFAULT '',
				exit_code   INTEGER NOT NULL DEFAULT 0,
				signal      INTEGER NOT NULL DEFAULT 0,
				message     TEXT NOT NULL DEFAULT '',
				started_at  BIGINT,
				finished_at BIGINT,
				PRIMARY KEY (pod_uid, cluster, container, attempt)
			)`,
			// namespace and cronjob are the pod's, copied by Write so that
			// filtered counts need no join.
			`CREATE TABLE restarts (
				pod_uid       TEXT NOT NULL,
				cluster       TEXT NOT NULL,
				container     TEXT NOT NULL,
				restart_index INTEGER NOT NULL,
				restarted_at  BIGINT,
				namespace     TEXT NOT NULL DEFAULT '',
				cronjob       TEXT NOT NULL DEFAULT '',
				PRIMARY KEY (pod_uid, cluster, container, restart_index)
			)`,
			`CREATE INDEX restarts_at ON restarts (restarted_at, cluster, namespace, cronjob)`,
			`CREATE TABLE waits (
				pod_uid    TEXT NOT NULL,
				cluster    TEXT NOT NULL,
				container  TEXT NOT NULL,
				attempt    INTEGER NOT NULL,
				reason     TEXT NOT NULL,
				message    TEXT NOT NULL DEFAULT '',
				first_seen BIGINT,
				last_seen  BIGINT,
				PRIMARY KEY (pod_uid, cluster, container, attempt, reason)
			)`,
			// cronjob is the CronJob the event is about, directly or through
			// a run or pod, resolved by Write ('' while unknown).
			`CREATE TABLE events (
				uid           TEXT NOT NULL,
				cluster       TEXT NOT NULL,
				namespace     TEXT NOT NULL DEFAULT '',
				involved_kind TEXT NOT NULL DEFAULT '',
				involved_name TEXT NOT NULL DEFAULT '',
				involved_uid  TEXT NOT NULL DEFAULT '',
				event_type    TEXT NOT NULL DEFAULT '',
				reason        TEXT NOT NULL DEFAULT '',
				message       TEXT NOT NULL DEFAULT '',
				source        TEXT NOT NULL DEFAULT '',
				event_count   INTEGER NOT NULL DEFAULT 0,
				first_seen    BIGINT,
				last_seen     BIGINT,
				cronjob       TEXT NOT NULL DEFAULT '',
				PRIMARY KEY (uid, cluster)
			)`,
			`CREATE INDEX events_last_seen ON events (last_seen, cluster)`,
			`CREATE INDEX events_ns_last_seen ON events (namespace, last_seen, cluster, cronjob)`,
			`CREATE INDEX events_cronjob_last_seen ON events (cronjob, last_seen, cluster, namespace)`,
			`CREATE INDEX events_unresolved ON events (involved_uid, cluster) WHERE cronjob = ''`,

			// How many facts of each metric fall into each minute (start in
			// Unix ms) of each cluster: a cache of the fact tables that Write
			// recounts for every minute it touches. Count reads whole minutes
			// here when it does not filter by namespace or CronJob.
			`CREATE TABLE minute_counts (
				metric    TEXT NOT NULL,
				minute_at BIGINT NOT NULL,
				cluster   TEXT NOT NULL,
				n         BIGINT NOT NULL,
				PRIMARY KEY (metric, minute_at, cluster)
			)`,
			`CREATE INDEX minute_counts_n ON minute_counts (metric, minute_at, cluster, n)`,
		},
		usageSchema(d),
	}
}

// usageSchema is migration 2: resource usage. containers holds the
// requests and limits of pods' containers; samples the raw looks at pods
// (kept for the raw retention); usage_minutes and usage_hours the sums of
// the samples per CronJob (cronjob ” for pods of Jobs without one) and
// minute or hour of the sample's time (kept for the rollup retention);
// run_usage the summary of each run, kept with the run for good. Write adds
// a sample to the rollups and to its run's summary only when the sample is
// new, so writing it again changes nothing.
//
// Sums of gauges over time (memory, ephemeral storage) are in byte-seconds,
// as REAL; counters are BIGINT: core-nanoseconds, bytes, errors; window_ms
// sums the samples' windows; peak_* keep the largest; runs_at_risk counts
// the runs whose peak_ratio first went over store.OOMRiskRatio with a
// sample of that unit (always 0 in run_usage).
func usageSchema(d Dialect) []string {
	sums := `cpu_ns BIGINT NOT NULL DEFAULT 0,
				window_ms BIGINT NOT NULL DEFAULT 0,
				memory_bs REAL NOT NULL DEFAULT 0,
				storage_bs REAL NOT NULL DEFAULT 0,
				disk_read BIGINT NOT NULL DEFAULT 0,
				disk_write BIGINT NOT NULL DEFAULT 0,
				net_rx BIGINT NOT NULL DEFAULT 0,
				net_tx BIGINT NOT NULL DEFAULT 0,
				net_errors BIGINT NOT NULL DEFAULT 0,
				peak_memory BIGINT NOT NULL DEFAULT 0,
				peak_ratio REAL NOT NULL DEFAULT 0,
				peak_nanocores BIGINT NOT NULL DEFAULT 0,
				runs_at_risk BIGINT NOT NULL DEFAULT 0`
	// A rollup's key leads with the CronJob, so that summing a range per
	// CronJob reads it in key order; with d.ClusteredKeys the rows are
	// stored in that order (SQLite: WITHOUT ROWID), so such a sum reads
	// the table once instead of an index and the table.
	rollup := func(table, at string) string {
		q := `CREATE TABLE ` + table + ` (
			cronjob   TEXT NOT NULL,
			namespace TEXT NOT NULL,
			cluster   TEXT NOT NULL,
			` + at + ` BIGINT NOT NULL,
			` + sums + `,
			PRIMARY KEY (cronjob, namespace, cluster, ` + at + `)
		)`
		if d.ClusteredKeys != "" {
			q += " " + d.ClusteredKeys
		}
		return q
	}
	return []string{
		`CREATE TABLE containers (
			pod_uid         TEXT NOT NULL,
			cluster         TEXT NOT NULL,
			name            TEXT NOT NULL,
			cpu_request     BIGINT NOT NULL DEFAULT 0,
			cpu_limit       BIGINT NOT NULL DEFAULT 0,
			memory_request  BIGINT NOT NULL DEFAULT 0,
			memory_limit    BIGINT NOT NULL DEFAULT 0,
			storage_request BIGINT NOT NULL DEFAULT 0,
			storage_limit   BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (pod_uid, cluster, name)
		)`,
		`CREATE TABLE samples (
			pod_uid      TEXT NOT NULL,
			cluster      TEXT NOT NULL,
			at           BIGINT NOT NULL,
			namespace    TEXT NOT NULL DEFAULT '',
			cronjob      TEXT NOT NULL DEFAULT '',
			run_uid      TEXT NOT NULL DEFAULT '',
			pod          TEXT NOT NULL DEFAULT '',
			window_ms    BIGINT NOT NULL DEFAULT 0,
			cpu_ns       BIGINT NOT NULL DEFAULT 0,
			cpu_nanocores BIGINT NOT NULL DEFAULT 0,
			memory       BIGINT NOT NULL DEFAULT 0,
			rss          BIGINT NOT NULL DEFAULT 0,
			memory_ratio REAL NOT NULL DEFAULT 0,
			storage      BIGINT NOT NULL DEFAULT 0,
			disk_read    BIGINT NOT NULL DEFAULT 0,
			disk_write   BIGINT NOT NULL DEFAULT 0,
			net_rx       BIGINT NOT NULL DEFAULT 0,
			net_tx       BIGINT NOT NULL DEFAULT 0,
			net_rx_errors BIGINT NOT NULL DEFAULT 0,
			net_tx_errors BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (pod_uid, cluster, at)
		)`,
		`CREATE INDEX samples_at ON samples (at, cluster, namespace, cronjob)`,
		`CREATE INDEX samples_cronjob_at ON samples (cronjob, at, namespace, cluster)`,
		rollup("usage_minutes", "minute_at"),
		`CREATE INDEX usage_minutes_at ON usage_minutes (minute_at)`,
		rollup("usage_hours", "hour_at"),
		`CREATE INDEX usage_hours_at ON usage_hours (hour_at)`,
		rollup("usage_blocks", "block_at"),
		`CREATE INDEX usage_blocks_at ON usage_blocks (block_at)`,
		// Each pod's usage over its life, to pick the pods a by-pod widget
		// shows without reading every sample of the range.
		`CREATE TABLE pod_usage (
			pod_uid   TEXT NOT NULL,
			cluster   TEXT NOT NULL,
			namespace TEXT NOT NULL DEFAULT '',
			cronjob   TEXT NOT NULL DEFAULT '',
			pod       TEXT NOT NULL DEFAULT '',
			first_at  BIGINT,
			last_at   BIGINT,
			` + sums + `,
			PRIMARY KEY (pod_uid, cluster)
		)`,
		`CREATE INDEX pod_usage_last ON pod_usage (last_at, first_at, cluster, namespace, cronjob, cpu_ns)`,
		`CREATE INDEX pod_usage_cronjob ON pod_usage (cronjob, last_at, first_at, cluster, namespace, cpu_ns)`,
		`CREATE TABLE run_usage (
			run_uid       TEXT NOT NULL,
			cluster       TEXT NOT NULL,
			` + sums + `,
			PRIMARY KEY (run_uid, cluster)
		)`,
	}
}

// SchemaVersion is the schema version this package migrates to.
func SchemaVersion() int { return len(migrations(Dialect{})) }

// Migrate brings the schema of db to SchemaVersion, one step per
// transaction, recording progress in table schema_version. Steps already
// applied are skipped, so Migrate on a current database does nothing. A
// database with a newer version fails with ErrNewerSchema.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	steps := migrations(d)
	for {
		done, err := migrateOne(ctx, db, d, steps)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the first missing step, reading the version inside the
// step's transaction so that two processes migrating at once do not apply a
// step twice. It reports done when there is nothing left to apply.
func migrateOne(ctx context.Context, db *sql.DB, d Dialect, steps [][]string) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	var v int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`)
	}
	if err != nil {
		return false, rollback(tx, fmt.Errorf("read schema version: %w", err))
	}
	switch {
	case v > len(steps):
		return false, rollback(tx, fmt.Errorf("%w: database has version %d, this batchlens knows %d", ErrNewerSchema, v, len(steps)))
	case v == len(steps):
		return true, rollback(tx, nil)
	}
	for i, stmt := range steps[v] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, rollback(tx, fmt.Errorf("migration %d, statement %d: %w", v+1, i+1, err))
		}
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`UPDATE schema_version SET version = ?`), v+1); err != nil {
		return false, rollback(tx, fmt.Errorf("record schema version %d: %w", v+1, err))
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %d: %w", v+1, err)
	}
	return false, nil
}
