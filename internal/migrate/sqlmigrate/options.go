package sqlmigrate

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/pressly/goose/v3"
)

// Defaults of the options.
const (
	// DefaultLockTimeout is how long Apply waits for another run's migrations, as goose does.
	DefaultLockTimeout = 5 * time.Minute
	// DefaultLockPoll is how often Apply tries the lock while another run holds it.
	DefaultLockPoll = time.Second
	// DefaultTable records the applied versions: goose's own table, so the goose CLI agrees.
	DefaultTable = goose.DefaultTablename
)

// Option tunes a Migrator.
type Option func(*options) error

type options struct {
	mask        func(string)
	lockTimeout time.Duration
	lockPoll    time.Duration
	table       string
}

func makeOptions(opts []Option) (*options, error) {
	o := &options{
		mask:        func(string) {},
		lockTimeout: DefaultLockTimeout,
		lockPoll:    DefaultLockPoll,
		table:       DefaultTable,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithMask hides secrets in the CI log (a Reporter's Mask): New calls it
// with the database URL and its password before it parses anything.
func WithMask(mask func(string)) Option {
	return func(o *options) error {
		if mask == nil {
			return errors.New("WithMask: nil mask function")
		}
		o.mask = mask
		return nil
	}
}

// WithLockTimeout is how long Apply waits for another run to release the
// migration lock before it fails with ErrLocked; 0 fails at once.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("WithLockTimeout: negative timeout %s", d)
		}
		o.lockTimeout = d
		return nil
	}
}

// WithLockPoll is how often Apply tries the migration lock while another
// run holds it.
func WithLockPoll(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithLockPoll: poll interval %s is not positive", d)
		}
		o.lockPoll = d
		return nil
	}
}

// goose writes the table name into its SQL unquoted and looks it up in
// pg_tables as written, so only names that PostgreSQL keeps as they are
// qualify: lowercase, optionally schema-qualified.
var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$`)

// WithTable records applied versions in table (optionally "schema.table")
// instead of DefaultTable.
func WithTable(table string) Option {
	return func(o *options) error {
		if !tableName.MatchString(table) || len(table) > 127 {
			return fmt.Errorf("WithTable: %q is not a lowercase table name, optionally schema-qualified", table)
		}
		o.table = table
		return nil
	}
}
