package sqlmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3/lock"

	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/sqlmigrate"
)

var okFiles = []string{"00001_create_users.sql", "00002_create_runs.sql", "00003_record_run.sql"}

func TestIntegrationApplyOnce(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	m, logs := newMigrator(t, "testdata/ok", db.url, db.password)

	applied, err := m.Apply(t.Context(), false, logs.add)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if diff := cmp.Diff(okFiles, applied); diff != "" {
		t.Errorf("Apply applied (-want +got):\n%s", diff)
	}
	for _, f := range okFiles {
		if !logs.has("applied " + f + " in ") {
			t.Errorf("no log line for %s with its duration; logs:\n%s", f, strings.Join(logs.all(), "\n"))
		}
	}
	if !logs.has("applied 3 migrations in", "at version 3") {
		t.Errorf("no summary line; logs:\n%s", strings.Join(logs.all(), "\n"))
	}

	again, err := m.Apply(t.Context(), false, logs.add)
	if err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	if len(again) != 0 {
		t.Errorf("second Apply applied %q, want nothing", again)
	}
	if !logs.has("no pending migrations", "at version 3") {
		t.Errorf("second Apply did not say it had nothing to do; logs:\n%s", strings.Join(logs.all(), "\n"))
	}
	if diff := cmp.Diff([]int64{0, 1, 2, 3}, db.versions(t)); diff != "" {
		t.Errorf("recorded versions (-want +got):\n%s", diff)
	}
	if got, want := db.count(t, "runs"), 1; got != want {
		t.Errorf("rows in runs = %d, want %d", got, want)
	}
}

func TestIntegrationDryRun(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	m, logs := newMigrator(t, "testdata/ok", db.url, db.password)

	pending, err := m.Apply(t.Context(), true, logs.add)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if diff := cmp.Diff(okFiles, pending); diff != "" {
		t.Errorf("dry run listed (-want +got):\n%s", diff)
	}
	if !logs.has("dry run: would apply 00001_create_users.sql") {
		t.Errorf("no dry-run line; logs:\n%s", strings.Join(logs.all(), "\n"))
	}
	// Nothing changed, not even goose's version table.
	for _, table := range []string{sqlmigrate.DefaultTable, "users", "runs"} {
		if db.tableExists(t, table) {
			t.Errorf("the dry run created table %q", table)
		}
	}

	// Two of three applied: the dry run lists the third and still changes nothing.
	first, _ := newMigrator(t, copyDir(t, "ok", okFiles[:2]...), db.url, db.password)
	if _, err := first.Apply(t.Context(), false, logs.add); err != nil {
		t.Fatalf("Apply of the first two: %v", err)
	}
	pending, err = m.Apply(t.Context(), true, logs.add)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if diff := cmp.Diff(okFiles[2:], pending); diff != "" {
		t.Errorf("dry run listed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{0, 1, 2}, db.versions(t)); diff != "" {
		t.Errorf("recorded versions after the dry run (-want +got):\n%s", diff)
	}
	if got := db.count(t, "runs"); got != 0 {
		t.Errorf("rows in runs = %d after the dry run, want 0", got)
	}
}

func TestIntegrationConcurrentApply(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	const runs = 3
	type result struct {
		applied []string
		err     error
	}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]result, runs)
	)
	for i := range runs {
		// A Migrator each, as separate CI jobs would have: nothing shared but the database.
		m, logs := newMigrator(t, "testdata/ok", db.url, db.password)
		wg.Go(func() {
			<-start
			applied, err := m.Apply(t.Context(), false, logs.add)
			results[i] = result{applied, err}
		})
	}
	close(start)
	wg.Wait()

	var all []string
	for i, r := range results {
		if r.err != nil {
			t.Errorf("run %d: %v", i, r.err)
		}
		all = append(all, r.applied...)
	}
	slices.Sort(all)
	if diff := cmp.Diff(okFiles, all); diff != "" {
		t.Errorf("migrations applied by all runs together (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{0, 1, 2, 3}, db.versions(t)); diff != "" {
		t.Errorf("recorded versions (-want +got):\n%s", diff)
	}
	if got, want := db.count(t, "runs"), 1; got != want {
		t.Errorf("rows in runs = %d, want %d: a migration ran more than once", got, want)
	}
}

func TestIntegrationFailingMigration(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	m, logs := newMigrator(t, "testdata/failing", db.url, db.password)

	for _, attempt := range []struct {
		name string
		want []string
	}{
		{"first", []string{"00001_create_users.sql", "00002_create_runs.sql"}},
		{"retry", nil}, // the first two stay applied; the broken one fails again
	} {
		applied, err := m.Apply(t.Context(), false, logs.add)
		if diff := cmp.Diff(attempt.want, applied); diff != "" {
			t.Errorf("%s Apply applied (-want +got):\n%s", attempt.name, diff)
		}
		if err == nil {
			t.Fatalf("%s Apply: no error, want one naming 00003_broken.sql", attempt.name)
		}
		noPassword(t, err, db.password)
		for _, want := range []string{`applying migration "00003_broken.sql"`, `syntax error at or near "TABEL"`, "SQLSTATE 42601"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s Apply: %v; want it to hold %q", attempt.name, err, want)
			}
		}
	}
	if diff := cmp.Diff([]int64{0, 1, 2}, db.versions(t)); diff != "" {
		t.Errorf("recorded versions (-want +got):\n%s", diff)
	}
	// The broken migration's transaction rolled back whole; the one after it never ran.
	for _, table := range []string{"audit", "never_created"} {
		if db.tableExists(t, table) {
			t.Errorf("table %q exists", table)
		}
	}
}

func TestIntegrationOutOfOrder(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	a := "-- +goose Up\nCREATE TABLE a (id int);\n"
	b := "-- +goose Up\nCREATE TABLE b (id int);\n"
	c := "-- +goose Up\nCREATE TABLE c (id int);\n"
	m, logs := newMigrator(t, writeDir(t, map[string]string{"00001_a.sql": a, "00003_c.sql": c}), db.url, db.password)
	if _, err := m.Apply(t.Context(), false, logs.add); err != nil {
		t.Fatalf("Apply: %v", err)
	}

	// A branch merged late adds version 2 below the applied version 3.
	late, logs := newMigrator(t, writeDir(t, map[string]string{"00001_a.sql": a, "00002_b.sql": b, "00003_c.sql": c}), db.url, db.password)
	for _, dryRun := range []bool{true, false} {
		_, err := late.Apply(t.Context(), dryRun, logs.add)
		if err == nil || !strings.Contains(err.Error(), `["00002_b.sql"] were never applied but are older than version 3`) {
			t.Errorf("Apply (dry run %t): %v; want an error naming 00002_b.sql", dryRun, err)
		}
	}
	if db.tableExists(t, "b") {
		t.Error("table b exists")
	}
}

func TestIntegrationWrongPassword(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	u, err := url.Parse(db.url)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "wrong-" + db.password + "-wrong"
	u.User = url.UserPassword(u.User.Username(), wrong)
	var masked []string
	m, logs := newMigrator(t, "testdata/ok", u.String(), wrong,
		sqlmigrate.WithMask(func(s string) { masked = append(masked, s) }))
	if !slices.Contains(masked, wrong) || !slices.Contains(masked, u.String()) {
		t.Errorf("masked %q; want the URL and the password", masked)
	}

	_, err = m.Apply(t.Context(), false, logs.add)
	if err == nil {
		t.Fatal("Apply: no error with a wrong password")
	}
	noPassword(t, err, wrong)
	noPassword(t, err, db.password)
	for _, want := range []string{"connecting to database", "password authentication failed", "28P01"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Apply: %v; want it to hold %q", err, want)
		}
	}
}

func TestIntegrationLockTimeout(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	// Another session holds the lock, as a run still migrating would.
	holder, err := pgx.Connect(t.Context(), db.url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_lock($1)", lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	pid := holder.PgConn().PID()

	m, logs := newMigrator(t, "testdata/ok", db.url, db.password, sqlmigrate.WithLockTimeout(150*time.Millisecond))
	start := time.Now()
	applied, err := m.Apply(t.Context(), false, logs.add)
	if !errors.Is(err, sqlmigrate.ErrLocked) {
		t.Fatalf("Apply: %v; want ErrLocked", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Apply took %s to give up, want about 150ms", elapsed)
	}
	noPassword(t, err, db.password)
	for _, want := range []string{"waiting for the migration lock", fmt.Sprintf("pid %d", pid), "after 150ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Apply: %v; want it to hold %q", err, want)
		}
	}
	if len(applied) != 0 || db.tableExists(t, "users") {
		t.Errorf("Apply applied %q without the lock", applied)
	}
	if !logs.has("waiting up to 150ms for the migration lock", fmt.Sprintf("pid %d", pid)) {
		t.Errorf("no waiting line; logs:\n%s", strings.Join(logs.all(), "\n"))
	}

	// Cancelled while it waits: the context's error, at once.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	patient, _ := newMigrator(t, "testdata/ok", db.url, db.password)
	if _, err := patient.Apply(ctx, false, logs.add); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Apply with a cancelled context: %v; want context.DeadlineExceeded", err)
	}

	// Released: the next run applies everything.
	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_unlock($1)", lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	applied, err = m.Apply(t.Context(), false, logs.add)
	if err != nil {
		t.Fatalf("Apply after the release: %v", err)
	}
	if diff := cmp.Diff(okFiles, applied); diff != "" {
		t.Errorf("Apply after the release applied (-want +got):\n%s", diff)
	}
}

func TestIntegrationScrubsEchoedPassword(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	if db.password == "" {
		t.Skip("the test server's URL holds no password")
	}
	// The server quotes the offending value back: here, the password.
	echo := fmt.Sprintf("-- +goose Up\nSELECT '%s'::int;\n", db.password)
	m, logs := newMigrator(t, writeDir(t, map[string]string{"00001_echo.sql": echo}), db.url, db.password)
	_, err := m.Apply(t.Context(), false, logs.add)
	if err == nil {
		t.Fatal("Apply: no error from a failing migration")
	}
	noPassword(t, err, db.password)
	if want := `invalid input syntax for type integer: "***"`; !strings.Contains(err.Error(), want) {
		t.Errorf("Apply: %v; want it to hold %q", err, want)
	}
}
