package sqlmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// Apply applies the pending migrations in version order, each in its own
// transaction, holding the migration lock, and returns the names of those
// it applied. On a failing migration it stops: the error names the file and
// carries the database's error, and the migrations applied before it are
// returned, applied and recorded. With dryRun it changes nothing and returns
// the names of the migrations it would apply. Each step goes to log.
//
// Each call opens its own connections and closes them before it returns;
// calls may run at once, from one Migrator or many.
func (m *Migrator) Apply(ctx context.Context, dryRun bool, log func(string)) (applied []string, err error) {
	logf := func(format string, args ...any) {
		if log != nil {
			log(m.secrets.scrub(fmt.Sprintf(format, args...)))
		}
	}
	applied, err = m.apply(ctx, dryRun, logf)
	return applied, m.secrets.err(err)
}

type logFunc func(format string, args ...any)

func (m *Migrator) apply(ctx context.Context, dryRun bool, logf logFunc) ([]string, error) {
	db := stdlib.OpenDB(*m.conn)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", m.target, connectError(err))
	}
	if len(m.ignored) > 0 {
		logf("ignoring %q in %q: not named VERSION_description.sql", m.ignored, m.dir)
	}
	pending, version, err := m.pending(ctx, db)
	if err != nil {
		return nil, err
	}
	if dryRun {
		for _, f := range pending {
			logf("dry run: would apply %s", f.name)
		}
		logf("dry run: %d of %d migrations pending; %s at version %d", len(pending), len(m.files), m.target, version)
		return names(pending), nil
	}
	if len(pending) == 0 {
		logf("no pending migrations; %s at version %d", m.target, version)
		return nil, nil
	}
	logf("applying %d of %d migrations to %s, at version %d", len(pending), len(m.files), m.target, version)

	results := &resultLog{logf: logf, logged: map[string]bool{}}
	locker := &advisoryLocker{
		id:      lock.DefaultLockID,
		timeout: m.opts.lockTimeout,
		poll:    m.opts.lockPoll,
		log:     func(s string) { logf("%s", s) },
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS(m.dir),
		goose.WithTableName(m.opts.table),
		goose.WithSessionLocker(locker),
		// Only the files of Dir: Go migrations registered by any imported package stay out.
		goose.WithDisableGlobalRegistry(true),
		// Verbose, so that goose reports each migration as it completes; resultLog keeps only those.
		goose.WithVerbose(true),
		goose.WithSlog(slog.New(results)),
	)
	if err != nil {
		return nil, fmt.Errorf("reading migrations in %q: %w", m.dir, err)
	}
	start := time.Now()
	done, err := p.Up(ctx)
	var applied []string
	for _, r := range done {
		results.report(r)
		applied = append(applied, path.Base(r.Source.Path))
	}
	var perr *goose.PartialError
	switch {
	case errors.As(err, &perr):
		for _, r := range perr.Applied {
			results.report(r)
			applied = append(applied, path.Base(r.Source.Path))
		}
		return applied, fmt.Errorf("applying migration %q: %w%s", path.Base(perr.Failed.Source.Path), perr.Err, pgDetail(perr.Err))
	case locker.lastErr() != nil:
		// Nothing ran. goose prefixes "failed to initialize: "; the locker's message says it all.
		return nil, locker.lastErr()
	case err != nil:
		return applied, fmt.Errorf("migrating %s: %w", m.target, err)
	case len(applied) == 0:
		logf("nothing left to apply: another run applied the %d pending migrations while this one waited", len(pending))
		return nil, nil
	}
	logf("applied %d migrations in %s; %s at version %d", len(applied), round(time.Since(start)),
		m.target, done[len(done)-1].Source.Version)
	return applied, nil
}

// pending returns the migrations not yet recorded in the version table and
// the highest version recorded, reading only: a dry run must not even
// create the table, as goose's own Status and HasPending would. A file
// older than the recorded version and never applied is an error, as it is
// for goose's Up, which applies versions in order only.
func (m *Migrator) pending(ctx context.Context, db *sql.DB) (pending []migrationFile, version int64, err error) {
	store, err := database.NewStore(database.DialectPostgres, m.opts.table)
	if err != nil {
		return nil, 0, err
	}
	ext, ok := store.(database.StoreExtender)
	if !ok {
		return nil, 0, fmt.Errorf("goose's PostgreSQL store cannot tell whether table %q exists", m.opts.table)
	}
	exists, err := ext.TableExists(ctx, db)
	if err != nil {
		return nil, 0, fmt.Errorf("looking for the version table %q: %w", m.opts.table, err)
	}
	if !exists {
		return m.files, 0, nil
	}
	rows, err := store.ListMigrations(ctx, db)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the version table %q: %w", m.opts.table, err)
	}
	recorded := map[int64]bool{}
	for _, r := range rows {
		recorded[r.Version] = true
		version = max(version, r.Version)
	}
	var missing []string
	for _, f := range m.files {
		switch {
		case recorded[f.version]:
		case f.version < version:
			missing = append(missing, f.name)
		default:
			pending = append(pending, f)
		}
	}
	if len(missing) > 0 {
		return nil, version, fmt.Errorf("migrations %q were never applied but are older than version %d of %s; migrations apply in version order: give them versions above %d",
			missing, version, m.target, version)
	}
	return pending, version, nil
}

// connectError shortens pgx's connection errors: its ConnectError repeats
// the user and database that the target already names, and lists each
// attempt (sslmode=prefer tries TLS, then plain text) on a line of its own,
// often the same line twice.
func connectError(err error) error {
	var cerr *pgconn.ConnectError
	if !errors.As(err, &cerr) || cerr.Unwrap() == nil {
		return err
	}
	var lines []string
	for line := range strings.Lines(cerr.Unwrap().Error()) {
		if line = strings.TrimSpace(line); line != "" && !slices.Contains(lines, line) {
			lines = append(lines, line)
		}
	}
	return &textError{msg: strings.Join(lines, "; "), err: err}
}

// pgDetail returns the parts of a PostgreSQL error that its Error leaves
// out and a reader needs: the detail (which key, which row) and the hint.
func pgDetail(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return ""
	}
	var b strings.Builder
	if pgErr.Detail != "" {
		b.WriteString("; detail: " + pgErr.Detail)
	}
	if pgErr.Hint != "" {
		b.WriteString("; hint: " + pgErr.Hint)
	}
	return b.String()
}

// resultLog is the slog.Handler goose reports to: it logs each migration
// as goose completes it, with its duration, and drops the rest (goose's
// verbose output includes every statement). report covers results goose
// returns without having logged them, so none is missed or told twice.
type resultLog struct {
	logf   logFunc
	mu     sync.Mutex
	logged map[string]bool
}

func (h *resultLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *resultLog) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *resultLog) WithGroup(string) slog.Handler { return h }

func (h *resultLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "migration completed" {
		return nil
	}
	var (
		name  string
		d     time.Duration
		empty bool
	)
	r.Attrs(func(a slog.Attr) bool {
		switch v := a.Value.Resolve(); a.Key {
		case "source":
			name = v.String()
		case "duration_seconds":
			if v.Kind() == slog.KindFloat64 {
				d = time.Duration(v.Float64() * float64(time.Second))
			}
		case "state":
			empty = v.String() == "empty"
		}
		return true
	})
	if name != "" {
		h.log(name, d, empty)
	}
	return nil
}

func (h *resultLog) report(r *goose.MigrationResult) {
	h.log(path.Base(r.Source.Path), r.Duration, r.Empty)
}

func (h *resultLog) log(name string, d time.Duration, empty bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.logged[name] {
		return
	}
	h.logged[name] = true
	note := ""
	if empty {
		note = " (no statements)"
	}
	h.logf("applied %s in %s%s", name, round(d), note)
}

// round keeps durations readable: milliseconds, or microseconds below one.
func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

func names(files []migrationFile) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.name)
	}
	return out
}
