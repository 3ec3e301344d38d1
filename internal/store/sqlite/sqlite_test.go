package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlstore"
	"github.com/batchlens/batchlens/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "batchlens.db"))
	})
}

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return s
}

func schemaVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.r.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// testRun is a finished run created at t0.
func testRun(t0 time.Time) model.Run {
	return model.Run{Cluster: "c1", Namespace: "ml", UID: "run-1", Name: "train-1", CronJob: "train",
		CreatedAt: t0, FinishedAt: t0.Add(time.Minute), Outcome: model.OutcomeSucceeded, Succeeded: 1}
}

// TestReopen: facts survive close and reopen, and reopening applies no
// migration again (the steps create tables without IF NOT EXISTS, so a step
// applied twice would fail).
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "batchlens.db")
	run := testRun(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, path)
	if err := s.Write(context.Background(), model.Facts{Runs: []model.Run{run}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		s = open(t, path)
		if v := schemaVersion(t, s); v != sqlstore.SchemaVersion() {
			t.Errorf("reopen %d: schema version %d, want %d", i, v, sqlstore.SchemaVersion())
		}
		got, err := s.Run(context.Background(), "c1", "run-1")
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if got.Name != run.Name || !got.FinishedAt.Equal(run.FinishedAt) {
			t.Errorf("reopen %d: run %+v, want %+v", i, got, run)
		}
		if err := sqlstore.Migrate(context.Background(), s.w, dialect()); err != nil {
			t.Errorf("reopen %d: Migrate again: %v", i, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "batchlens.db")
	s := open(t, path)
	if _, err := s.w.Exec(`UPDATE schema_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema: no error")
	}
	if !errors.Is(err, sqlstore.ErrNewerSchema) {
		t.Errorf("Open of a newer schema: %v, want sqlstore.ErrNewerSchema", err)
	}
}

func TestOpenPaths(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "a b?c#d%20.db")
	s := open(t, odd)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("database not at the path given: %v", err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing", "x.db"), "", ":memory:", "file::memory:?cache=shared"} {
		if s, err := Open(context.Background(), bad); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", bad)
		}
	}
}

// TestConcurrentReadsDuringWrites: queries run while batches are written,
// and every count they see is a whole number of batches (a transaction is
// seen entirely or not at all).
func TestConcurrentReadsDuringWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "batchlens.db"))
	defer s.Close()
	const batches, perBatch, readers = 40, 250, 3
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	run := testRun(t0)
	b := store.Buckets{From: t0, To: t0.Add(time.Hour), Step: time.Hour}

	var wg sync.WaitGroup
	errs := make(chan error, readers+1)
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := range batches {
			var f model.Facts
			for j := range perBatch {
				r := run
				r.UID = fmt.Sprintf("run-%d-%d", i, j)
				f.Runs = append(f.Runs, r)
			}
			if err := s.Write(ctx, f); err != nil {
				errs <- err
				return
			}
		}
	})
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := s.Count(ctx, store.RunsCreated, b, store.Filter{CronJob: "train"})
				if err != nil {
					errs <- err
					return
				}
				if got[0]%perBatch != 0 {
					errs <- fmt.Errorf("saw %d runs, not a whole number of batches", got[0])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Count(ctx, store.RunsCreated, b, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != batches*perBatch {
		t.Errorf("runs_created = %d, want %d", got[0], batches*perBatch)
	}
}
