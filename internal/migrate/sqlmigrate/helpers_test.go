package sqlmigrate_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/sqlmigrate"
	"github.com/bluegreen-dev/bluegreen-action/internal/pgtest"
)

// testDB is a database of its own for one test, dropped when it ends.
type testDB struct {
	url      string
	password string
}

func newDatabase(t *testing.T) testDB {
	t.Helper()
	db := pgtest.Database(t)
	return testDB{url: db.URL, password: db.Password}
}

// exec runs statements on the database at dbURL.
func exec(t *testing.T, dbURL, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// versions returns the versions recorded in goose's table, in the order
// they were recorded, or nil when the table does not exist.
func (d testDB) versions(t *testing.T) []int64 {
	t.Helper()
	if !d.tableExists(t, sqlmigrate.DefaultTable) {
		return nil
	}
	conn := d.connect(t)
	rows, err := conn.Query(t.Context(), "SELECT version_id FROM "+sqlmigrate.DefaultTable+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (d testDB) tableExists(t *testing.T, table string) bool {
	t.Helper()
	var ok bool
	if err := d.connect(t).QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func (d testDB) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := d.connect(t).QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (d testDB) connect(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), d.url)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// logs collects what Apply logs, from any goroutine.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *logs) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// has reports whether a line holds every one of parts.
func (l *logs) has(parts ...string) bool {
	return slices.ContainsFunc(l.all(), func(line string) bool {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				return false
			}
		}
		return true
	})
}

// newMigrator builds a Migrator of dir for dbURL, polling the lock every
// 20ms. When the test ends it fails the test if any line the Migrator
// logged shows password.
func newMigrator(t *testing.T, dir, dbURL, password string, opts ...sqlmigrate.Option) (*sqlmigrate.Migrator, *logs) {
	t.Helper()
	m, err := sqlmigrate.New(sqlmigrate.Config{Dir: dir, DatabaseURL: dbURL},
		append([]sqlmigrate.Option{sqlmigrate.WithLockPoll(20 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l := &logs{}
	t.Cleanup(func() {
		for _, line := range l.all() {
			if password != "" && strings.Contains(line, password) {
				t.Errorf("a log line shows the password: %q", line)
			}
		}
	})
	return m, l
}

// noPassword fails the test if err shows password.
func noPassword(t *testing.T, err error, password string) {
	t.Helper()
	if err != nil && password != "" && strings.Contains(err.Error(), password) {
		t.Errorf("the error shows the password: %v", err)
	}
}

// copyDir returns a directory holding the named files of testdata/src.
func copyDir(t *testing.T, src string, names ...string) string {
	t.Helper()
	files := map[string]string{}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", src, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	return writeDir(t, files)
}
