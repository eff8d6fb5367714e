package deploy_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/kubejob"
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

// TestMigrationJobsRunTheNewImage runs migrate-before and migrate-after as
// Jobs made from the new color's pod template, around the switch.
func TestMigrationJobsRunTheNewImage(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	r := g.exec(t.Context(), map[string]string{
		"IMAGE": v2, "MIGRATE_BEFORE": "bin/migrate expand", "MIGRATE_AFTER": `["bin/migrate", "contract"]`,
	}, nil).mustSucceed(t)
	for _, step := range []string{"migrate before", "migrate after"} {
		if got := stepStatus(r.res, step); got != "ok" {
			t.Errorf("step %q %s, want ok", step, got)
		}
	}
	batch, err := batchclient.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := batch.Jobs(g.ns).List(t.Context(), metav1.ListOptions{LabelSelector: kubejob.MigrationLabel})
	if err != nil {
		t.Fatal(err)
	}
	commands := map[string]bool{}
	for _, j := range jobs.Items {
		c := j.Spec.Template.Spec.Containers[0]
		if c.Image != v2 {
			t.Errorf("job %s runs %q, want the new image %q", j.Name, c.Image, v2)
		}
		if _, ok := j.Spec.Template.Labels["bluegreen.dev/color"]; ok {
			t.Errorf("job %s's pods carry the color label: Services would send them traffic", j.Name)
		}
		commands[strings.Join(c.Command, " ")] = true
	}
	if !commands["bin/migrate expand"] || !commands["bin/migrate contract"] {
		t.Errorf("job commands %v, want both phases", commands)
	}
	if sel, _ := g.selector("shop"); sel != "green" {
		t.Errorf("Service selects %q, want green", sel)
	}
}
