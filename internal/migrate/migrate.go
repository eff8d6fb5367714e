// Package migrate declares how a run changes a database schema around a
// switch: a command run with the new release (Migrator), before traffic
// moves (expand) or after the bake (contract), and built-in SQL migrations
// (SQLMigrator). The implementations live in the sub-packages: a
// Kubernetes Job, an ECS task, a local process, SQL files.
package migrate

import (
	"context"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

// Phase is when a migration runs: expand before any traffic moves,
// contract after the new release has baked.
type Phase string

// Migration phases.
const (
	Before Phase = "before"
	After  Phase = "after"
)

// Migrator runs a migration command with the new release: its image and
// the target color's configuration (environment, secrets, identity).
type Migrator interface {
	// Migrate runs command as color c's workload would and returns when
	// it ended. A non-zero exit is an error that carries the last lines
	// of its output. Each line of output goes to log as it comes.
	Migrate(ctx context.Context, c color.Color, phase Phase, command []string, log func(string)) error
}

// SQLMigrator applies SQL migration files to a database, holding a
// database lock so two runs never migrate at once.
type SQLMigrator interface {
	// Apply applies the pending migrations (none when dryRun, which only
	// lists them) and returns their names.
	Apply(ctx context.Context, dryRun bool, log func(string)) (applied []string, err error)
}
