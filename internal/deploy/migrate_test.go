package deploy_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bluegreen-dev/bluegreen-action/internal/pgtest"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// versions returns the goose versions recorded in the database.
func versions(t *testing.T, dbURL string) []int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(), "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return nil
	}
	rows, err := conn.Query(t.Context(), "SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	v, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSQLMigrationsGateTheSwitch runs the built-in migrations on a real
// PostgreSQL within a real deploy: a failing migration means no switch and
// the earlier migrations stay recorded; passing ones are applied once and
// the switch happens.
func TestSQLMigrationsGateTheSwitch(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	_, rv := g.selector("shop")
	failing, err := filepath.Abs("../migrate/sqlmigrate/testdata/failing")
	if err != nil {
		t.Fatal(err)
	}
	ok, err := filepath.Abs("../migrate/sqlmigrate/testdata/ok")
	if err != nil {
		t.Fatal(err)
	}

	db := pgtest.Database(t)
	r := g.exec(t.Context(), map[string]string{"IMAGE": v2, "MIGRATIONS_DIR": failing, "DATABASE_URL": db.URL}, nil)
	if r.err == nil {
		t.Fatalf("a deploy whose migration failed succeeded:\n%s", r.log)
	}
	contains(t, r.err.Error(), "traffic not moved")
	if r.res.Outcome != report.Failed {
		t.Errorf("outcome %s, want failed", r.res.Outcome)
	}
	if sel, rv2 := g.selector("shop"); sel != "blue" || rv2 != rv {
		t.Errorf("Service shop = %s@%s, want untouched blue@%s", sel, rv2, rv)
	}
	if got := versions(t, db.URL); len(got) != 2 {
		t.Errorf("recorded versions %v, want the two before the broken one", got)
	}
	if strings.Contains(r.log.String(), db.Password) || strings.Contains(r.err.Error(), db.Password) {
		t.Error("the database password appears in the run's log or error")
	}

	db2 := pgtest.Database(t)
	g.exec(t.Context(), map[string]string{"IMAGE": v2, "MIGRATIONS_DIR": ok, "DATABASE_URL": db2.URL}, nil).mustSucceed(t)
	if sel, _ := g.selector("shop"); sel != "green" {
		t.Errorf("after passing migrations Service shop selects %q, want green", sel)
	}
	if got := versions(t, db2.URL); len(got) != 3 {
		t.Errorf("recorded versions %v, want 3", got)
	}
	// Deploying again applies nothing new.
	g.exec(t.Context(), map[string]string{"IMAGE": "registry.example.com/shop:3.0.0", "MIGRATIONS_DIR": ok, "DATABASE_URL": db2.URL}, nil).mustSucceed(t)
	if got := versions(t, db2.URL); len(got) != 3 {
		t.Errorf("after a second deploy recorded versions %v, want still 3", got)
	}
}
