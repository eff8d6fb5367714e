package sqlmigrate

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Errors of New, wrapped with what is wrong: a caller maps them to the
// inputs migrations-dir and database-url.
var (
	ErrInvalidDir = errors.New("invalid migrations directory")
	ErrInvalidURL = errors.New("invalid database URL")
)

// ErrLocked is returned, wrapped with the lock's holder and the time waited,
// when another run kept the migration lock past the lock timeout.
var ErrLocked = errors.New("another run holds the migration lock")

// Config names what to migrate.
type Config struct {
	// Dir holds the goose SQL migrations (00001_create_users.sql, ...).
	Dir string
	// DatabaseURL is a postgres:// or postgresql:// URL; it is a credential.
	DatabaseURL string
}

// Migrator applies the migrations of one directory to one database.
type Migrator struct {
	dir     string
	files   []migrationFile
	ignored []string
	conn    *pgx.ConnConfig
	target  string // `database "app" on db:5432 as user "deploy"`, for messages
	secrets scrubber
	opts    *options
}

// applicationName tells the migration's sessions apart in pg_stat_activity,
// and so in the message of a run that waits for another one's lock.
const applicationName = "bluegreen-migrate"

// defaultConnectTimeout bounds each connection attempt unless the URL sets
// connect_timeout: an unreachable host otherwise hangs for the kernel's TCP
// timeout, minutes.
const defaultConnectTimeout = 30 * time.Second

// New validates cfg before anything connects: Dir must hold at least one
// goose SQL migration, DatabaseURL must be a PostgreSQL URL. The URL and
// its password are masked first, and no error names them.
func New(cfg Config, opts ...Option) (*Migrator, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	secrets := secretsOf(cfg.DatabaseURL)
	for _, s := range secrets {
		o.mask(s)
	}
	m := &Migrator{dir: cfg.Dir, secrets: scrubber{secrets: secrets}, opts: o}
	if m.files, m.ignored, err = readDir(cfg.Dir); err != nil {
		return nil, err
	}
	if m.conn, err = m.parseURL(cfg.DatabaseURL); err != nil {
		return nil, err
	}
	// A URL without a password takes it from PGPASSWORD or ~/.pgpass: a secret all the same.
	if pw := m.conn.Password; pw != "" && !slices.Contains(secrets, pw) {
		o.mask(pw)
		m.secrets = scrubber{secrets: append(secrets, pw)}
	}
	if _, ok := m.conn.RuntimeParams["application_name"]; !ok {
		m.conn.RuntimeParams["application_name"] = applicationName
	}
	if m.conn.ConnectTimeout == 0 {
		m.conn.ConnectTimeout = defaultConnectTimeout
	}
	m.target = fmt.Sprintf("database %q on %s as user %q", m.conn.Database,
		net.JoinHostPort(m.conn.Host, strconv.Itoa(int(m.conn.Port))), m.conn.User)
	return m, nil
}

// parseURL checks the URL's shape itself, so that its messages never quote
// the URL, then lets pgx read it (and the PG* environment, ~/.pgpass) as it
// will when connecting. Every error wraps ErrInvalidURL and is scrubbed.
func (m *Migrator) parseURL(raw string) (*pgx.ConnConfig, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidURL, m.secrets.scrub(fmt.Sprintf(format, args...)))
	}
	if raw == "" {
		return nil, bad("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL; its cause alone says what is wrong.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, bad("%v", err)
	}
	switch {
	case u.Scheme != "postgres" && u.Scheme != "postgresql":
		if u.Scheme == "" {
			return nil, bad("no scheme; want a URL such as postgres://user:password@host:5432/database")
		}
		return nil, bad("scheme %q is not postgres or postgresql", u.Scheme)
	case u.Host == "" && u.Query().Get("host") == "":
		// A unix socket is given as ?host=/run/postgresql; nothing at all means pgx's guess.
		return nil, bad("no host; want a URL such as postgres://user:password@host:5432/database")
	}
	conn, err := pgx.ParseConfig(raw)
	if err != nil {
		// A pgconn.ParseConfigError keeps the unredacted URL in a field: keep only the text.
		return nil, bad("%v", err)
	}
	return conn, nil
}

// Files returns the names of the migrations in Dir, in the order they apply.
func (m *Migrator) Files() []string {
	return names(m.files)
}
