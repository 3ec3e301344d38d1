// Package sqlstore implements store.Store over database/sql with SQL that
// SQLite and PostgreSQL both understand. A backend (store/sqlite,
// store/postgres) opens the connections, runs Migrate and wraps New.
//
// Portability rules followed by every statement here:
//   - placeholders are written as ?; Dialect.Rebind turns them into the
//     backend's own ($1, $2, … for PostgreSQL), and a ? whose type the
//     statement does not show is written CAST(? AS BIGINT) or CAST(? AS TEXT);
//   - upserts are INSERT … ON CONFLICT (key) DO UPDATE SET … excluded.…,
//     with RETURNING where Write needs the merged row;
//   - no min()/max() scalar functions, GREATEST or LEAST: CASE instead;
//   - partial indexes whose predicate the queries repeat literally.
//
// Encoding: a time is a BIGINT of Unix milliseconds, NULL when unknown (the
// zero time.Time). Strings are NOT NULL, empty when unknown. Every table has
// a cluster column in every key; keys start with the UID (see migrations).
//
// Speed: besides the facts, Write keeps two caches of counts, recounted from
// the facts inside the same transaction for every minute or day a write
// touches, so they can never drift from them: minute_counts (per metric,
// cluster and minute) and cronjob_days (runs created per CronJob and day).
// Count (unless it filters by namespace or CronJob) and TopCronJobs read
// whole minutes or days there and only the edges of a range from the facts,
// so a 30-day query reads tens of thousands of rows rather than millions.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/batchlens/batchlens/internal/store"
)

// Dialect adapts the shared SQL to one database.
type Dialect struct {
	// Rebind rewrites the ? placeholders of a statement into the
	// database's own. Nil leaves them as they are.
	Rebind func(query string) string

	// LockWrites, when not empty, is run first in every Write transaction
	// to make writers wait for each other, across processes too: the
	// recounts of minute_counts and cronjob_days are only exact when no
	// other write commits in between. PostgreSQL needs one, for instance
	// "SELECT pg_advisory_xact_lock(…)"; SQLite already has a single writer
	// (BEGIN IMMEDIATE).
	LockWrites string

	// ClusteredKeys, when not empty, ends the CREATE TABLE of the usage
	// rollups to store their rows in key order: "WITHOUT ROWID" for
	// SQLite. It is part of the schema: a backend always gives the same.
	ClusteredKeys string
}

func (d Dialect) rebind(q string) string {
	if d.Rebind == nil {
		return q
	}
	return d.Rebind(q)
}

// Store is a store.Store over a writer and a reader *sql.DB. It owns the
// statements it prepares but not the databases: the backend closes those.
type Store struct {
	w, r *sql.DB
	d    Dialect
	st   writeStmts
}

// New returns a Store that writes through w and reads through r (they may
// be the same pool). The schema must be current (see Migrate). Writes run in
// transactions on w, which must not interleave: give w one connection and
// take the write lock at BEGIN (SQLite), or set d.LockWrites.
func New(ctx context.Context, w, r *sql.DB, d Dialect) (*Store, error) {
	s := &Store{w: w, r: r, d: d}
	if err := s.prepare(ctx); err != nil {
		s.closeStmts()
		return nil, err
	}
	return s, nil
}

// Close releases the prepared statements; the databases stay open.
func (s *Store) Close() error {
	return s.closeStmts()
}

// ms encodes a time for the database: Unix milliseconds, or NULL for the
// zero time.
func ms(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMS decodes a time written by ms.
func fromMS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

// conds collects AND-ed conditions and their arguments.
type conds struct {
	sql  []string
	args []any
}

func (c *conds) add(cond string, args ...any) {
	c.sql = append(c.sql, cond)
	c.args = append(c.args, args...)
}

// and returns the conditions as " AND c1 AND c2 …", or "" when there are none.
func (c *conds) and() string {
	if len(c.sql) == 0 {
		return ""
	}
	return " AND " + strings.Join(c.sql, " AND ")
}

// joined returns the conditions as "c1 AND c2 …"; there must be one.
func (c *conds) joined() string {
	return strings.Join(c.sql, " AND ")
}

// filter adds filt's non-empty fields, matched against the given columns.
func (c *conds) filter(filt store.Filter, cluster, namespace, cronjob string) {
	if filt.Cluster != "" {
		c.add(cluster+" = ?", filt.Cluster)
	}
	if filt.Namespace != "" {
		c.add(namespace+" = ?", filt.Namespace)
	}
	if filt.CronJob != "" {
		c.add(cronjob+" = ?", filt.CronJob)
	}
}

// rollback ends tx after a failure; the first error is the one reported.
func rollback(tx *sql.Tx, err error) error {
	if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
		return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
	}
	return err
}
