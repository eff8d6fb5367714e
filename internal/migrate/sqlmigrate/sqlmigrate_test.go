package sqlmigrate_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/sqlmigrate"
)

var _ migrate.SQLMigrator = (*sqlmigrate.Migrator)(nil)

const validURL = "postgres://deploy:s3cret-pw@db.internal:5432/app?sslmode=disable"

// writeDir creates a directory holding files (name -> content).
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const up = "-- +goose Up\nSELECT 1;\n"

func TestNewDir(t *testing.T) {
	t.Parallel()
	notDir := filepath.Join(t.TempDir(), "file.sql")
	if err := os.WriteFile(notDir, []byte(up), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		dir     string
		want    []string // Files, when New succeeds
		wantErr []string // substrings of the error, which wraps ErrInvalidDir
	}{
		{name: "testdata", dir: "testdata/ok", want: []string{"00001_create_users.sql", "00002_create_runs.sql", "00003_record_run.sql"}},
		{
			name: "numeric order, helpers ignored",
			dir: writeDir(t, map[string]string{
				"10_b.sql": up, "9_a.sql": up, "schema.sql": "CREATE TABLE x ();", "helpers.go": "package x",
				"README.md": "", "00011_lower_case_annotation.sql": "-- +goose up\nSELECT 1;\n",
			}),
			want: []string{"9_a.sql", "10_b.sql", "00011_lower_case_annotation.sql"},
		},
		{name: "not given", dir: "", wantErr: []string{"no directory given"}},
		{name: "missing", dir: "testdata/nope", wantErr: []string{`"testdata/nope" does not exist`}},
		{name: "a file", dir: notDir, wantErr: []string{"is not a directory"}},
		{name: "empty", dir: t.TempDir(), wantErr: []string{"holds no migrations named VERSION_description.sql"}},
		{
			name:    "only unversioned files",
			dir:     writeDir(t, map[string]string{"V1__init.sql": up, "notes.txt": ""}),
			wantErr: []string{"holds no migrations", `found ["V1__init.sql"]`},
		},
		{name: "plain SQL", dir: "testdata/plain", wantErr: []string{`"00001_create_users.sql"`, `no "-- +goose Up" line`}},
		{
			name:    "Go migration",
			dir:     writeDir(t, map[string]string{"00001_a.sql": up, "00002_b.go": "package x"}),
			wantErr: []string{`"00002_b.go"`, "Go migration"},
		},
		{
			name:    "duplicate version",
			dir:     writeDir(t, map[string]string{"00001_a.sql": up, "1_b.sql": up}),
			wantErr: []string{`"00001_a.sql" and "1_b.sql"`, "share version 1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := sqlmigrate.New(sqlmigrate.Config{Dir: tc.dir, DatabaseURL: validURL})
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("New: no error, want one with %q", tc.wantErr)
				}
				if !errors.Is(err, sqlmigrate.ErrInvalidDir) {
					t.Errorf("New: %v; want it to wrap ErrInvalidDir", err)
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("New: %v; want it to hold %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if diff := cmp.Diff(tc.want, m.Files()); diff != "" {
				t.Errorf("Files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		url      string
		password string   // must appear in no error
		wantErr  []string // substrings of the error, which wraps ErrInvalidURL; nil: valid
	}{
		{name: "postgres", url: validURL, password: "s3cret-pw"},
		{name: "postgresql", url: "postgresql://deploy:s3cret-pw@db.internal/app", password: "s3cret-pw"},
		{name: "unix socket", url: "postgres://deploy@/app?host=/run/postgresql"},
		{name: "password parameter", url: "postgres://deploy@db.internal/app?password=s3cret-pw", password: "s3cret-pw"},
		{name: "empty", url: "", wantErr: []string{"empty"}},
		{name: "mysql", url: "mysql://root:s3cret-pw@db.internal/app", password: "s3cret-pw", wantErr: []string{`scheme "mysql" is not postgres or postgresql`}},
		{name: "keyword form", url: "host=db.internal user=deploy password=s3cret-pw", password: "s3cret-pw", wantErr: []string{"no scheme"}},
		{name: "no host", url: "postgres://deploy:s3cret-pw@/app", password: "s3cret-pw", wantErr: []string{"no host"}},
		{name: "bad port", url: "postgres://deploy:s3cret-pw@db.internal:port/app", password: "s3cret-pw", wantErr: []string{"invalid port"}},
		{name: "bad sslmode", url: "postgres://deploy:s3cret-pw@db.internal/app?sslmode=sometimes", password: "s3cret-pw", wantErr: []string{"sslmode"}},
		{
			name: "escaped password, bad parameter", url: "postgres://deploy:p%40ss%2Fw0rd@db.internal/app?sslmode=sometimes",
			password: "p@ss/w0rd", wantErr: []string{"sslmode"},
		},
		{name: "space in password", url: "postgres://deploy:s3cret pw@db.internal/app", password: "s3cret pw", wantErr: []string{"invalid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var masked []string
			_, err := sqlmigrate.New(sqlmigrate.Config{Dir: "testdata/ok", DatabaseURL: tc.url},
				sqlmigrate.WithMask(func(s string) { masked = append(masked, s) }))
			if tc.url != "" && !slices.Contains(masked, tc.url) {
				t.Errorf("masked %q; want the whole URL masked", masked)
			}
			if tc.password != "" && !slices.Contains(masked, tc.password) {
				t.Errorf("masked %q; want the password %q masked", masked, tc.password)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New: no error, want one with %q", tc.wantErr)
			}
			if !errors.Is(err, sqlmigrate.ErrInvalidURL) {
				t.Errorf("New: %v; want it to wrap ErrInvalidURL", err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("New: %v; want it to hold %q", err, want)
				}
			}
			if tc.password != "" && strings.Contains(err.Error(), tc.password) {
				t.Errorf("New: %v; it shows the password", err)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "w0rd") {
				t.Errorf("New: %v; it shows part of the password", err)
			}
		})
	}
}

func TestMaskBeforeValidation(t *testing.T) {
	t.Parallel()
	// Masking comes first: an invalid directory must not leave the URL unmasked.
	var masked []string
	_, err := sqlmigrate.New(sqlmigrate.Config{Dir: "testdata/nope", DatabaseURL: validURL},
		sqlmigrate.WithMask(func(s string) { masked = append(masked, s) }))
	if !errors.Is(err, sqlmigrate.ErrInvalidDir) {
		t.Fatalf("New: %v; want ErrInvalidDir", err)
	}
	for _, want := range []string{validURL, "s3cret-pw"} {
		if !slices.Contains(masked, want) {
			t.Errorf("masked %q; want %q among them", masked, want)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opt     sqlmigrate.Option
		wantErr string // "": valid
	}{
		{name: "table", opt: sqlmigrate.WithTable("app_migrations")},
		{name: "schema table", opt: sqlmigrate.WithTable("ops.schema_versions")},
		{name: "upper case table", opt: sqlmigrate.WithTable("Migrations"), wantErr: "not a lowercase table name"},
		{name: "injected table", opt: sqlmigrate.WithTable("t; DROP TABLE users"), wantErr: "not a lowercase table name"},
		{name: "empty table", opt: sqlmigrate.WithTable(""), wantErr: "not a lowercase table name"},
		{name: "no wait", opt: sqlmigrate.WithLockTimeout(0)},
		{name: "negative timeout", opt: sqlmigrate.WithLockTimeout(-time.Second), wantErr: "negative timeout"},
		{name: "poll", opt: sqlmigrate.WithLockPoll(10 * time.Millisecond)},
		{name: "zero poll", opt: sqlmigrate.WithLockPoll(0), wantErr: "not positive"},
		{name: "nil mask", opt: sqlmigrate.WithMask(nil), wantErr: "nil mask"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := sqlmigrate.New(sqlmigrate.Config{Dir: "testdata/ok", DatabaseURL: validURL}, tc.opt)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("New: %v; want an error with %q", err, tc.wantErr)
			}
		})
	}
}

func TestMaskPasswordFromEnvironment(t *testing.T) {
	// Not parallel: t.Setenv. pgx takes a URL's missing password from PGPASSWORD.
	t.Setenv("PGPASSWORD", "from-env-pw")
	var masked []string
	_, err := sqlmigrate.New(sqlmigrate.Config{Dir: "testdata/ok", DatabaseURL: "postgres://deploy@db.internal/app"},
		sqlmigrate.WithMask(func(s string) { masked = append(masked, s) }))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !slices.Contains(masked, "from-env-pw") {
		t.Errorf("masked %q; want the password from PGPASSWORD among them", masked)
	}
}
