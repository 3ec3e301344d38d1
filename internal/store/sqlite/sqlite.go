// Package sqlite is the embedded store of batchlens: store.Store in one
// SQLite file, through the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=NORMAL: a crash of the
// machine may lose the last transactions but never corrupts the file, and
// readers never wait for the writer. Writes go through one connection, so
// they are serialised in the process; queries use a separate pool of
// read-only connections. The SQL itself lives in store/sqlstore, shared with
// other backends; see there for the schema and its encoding.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlstore"
)

var _ store.Store = (*Store)(nil)

// busyTimeoutMS is how long a connection waits for a lock held by another
// process (another batchlens on the same file, a backup) before failing.
const busyTimeoutMS = 10_000

// cacheKiB is the page cache of each connection. SQLite's default (2 MiB)
// makes large writes and scans read the same pages from the file again
// and again.
const cacheKiB = 32 << 10

// dialect is SQLite's: ? placeholders, one writer, rollups WITHOUT ROWID.
func dialect() sqlstore.Dialect { return sqlstore.Dialect{ClusteredKeys: "WITHOUT ROWID"} }

// Store is a store.Store in a SQLite file.
type Store struct {
	*sqlstore.Store
	w, r *sql.DB
}

// Open opens the SQLite database at path, creating it if needed, and
// migrates its schema to the current version. A database written by a newer
// batchlens is refused with an error wrapping sqlstore.ErrNewerSchema. path
// must name a file (not a "file:" URI): the writer and the readers are
// separate connections, so an in-memory database would not be shared
// between them.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.Contains(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open %q: want the path of a database file", path)
	}
	w, err := openDB(ctx, path, false)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := sqlstore.Migrate(ctx, w, dialect()); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate %s: %w", path, err), w.Close())
	}
	r, err := openDB(ctx, path, true)
	if err != nil {
		return nil, errors.Join(err, w.Close())
	}
	n := max(2, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s, err := sqlstore.New(ctx, w, r, dialect())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), r.Close(), w.Close())
	}
	return &Store{Store: s, w: w, r: r}, nil
}

// openDB opens a pool on path; readOnly pools refuse writes. The writer
// takes its write lock at BEGIN (IMMEDIATE), so that a transaction never
// fails half-way for want of it.
func openDB(ctx context.Context, path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(0)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
	// Statement journals (every upsert in a transaction has one) and
	// sorts in memory, not in temporary files.
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	// As a file: URI the path may hold any character, ? and # included.
	dsn := "file:" + url.PathEscape(path) + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Connect now, so that a bad path fails Open rather than the first use.
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	return db, nil
}

// Close releases the store: its statements, then the reader and writer
// connections. No method may be called after it.
func (s *Store) Close() error {
	return errors.Join(s.Store.Close(), s.r.Close(), s.w.Close())
}
