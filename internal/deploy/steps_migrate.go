package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
)

// migrateStep runs one migration phase. Before the switch a failure
// leaves traffic untouched (the run has not moved it yet). After the
// switch the schema may already be contracted, so traffic stays on the
// new release unless rollback-on-migrate-failure asks otherwise.
type migrateStep struct {
	r     *Run
	phase migrate.Phase
}

func (m migrateStep) String() string { return "migrate " + string(m.phase) }

func (m migrateStep) command() []string {
	if m.phase == migrate.Before {
		return m.r.opts.MigrateBefore
	}
	return m.r.opts.MigrateAfter
}

func (m migrateStep) Skip(s *State) (string, bool) {
	sql := m.phase == migrate.Before && m.r.deps.SQL != nil
	switch {
	case len(m.command()) == 0 && !sql:
		return fmt.Sprintf("no migrate-%s command given", m.phase), true
	case s.UpToDate:
		return fmt.Sprintf("%s already serves this image", s.Live), true
	case s.Finishing && m.phase == migrate.Before:
		return fmt.Sprintf("%s already serves part of the traffic with this image: the expansion ran before that", s.Target), true
	case m.r.opts.DryRun && !sql:
		return fmt.Sprintf("dry run: would run %q with the new image", strings.Join(m.command(), " ")), true
	}
	return "", false
}

func (m migrateStep) Run(ctx context.Context, s *State) error {
	log := m.r.deps.Reporter.Info
	if !m.r.opts.DryRun {
		if err := m.r.mayWrite(ctx, s, "migrating"); err != nil {
			return err
		}
	}
	if m.phase == migrate.Before && m.r.deps.SQL != nil {
		applied, err := m.r.deps.SQL.Apply(ctx, m.r.opts.DryRun, log)
		s.Migrated = append(s.Migrated, applied...)
		if m.r.opts.DryRun {
			for _, a := range applied {
				s.note("apply migration " + a)
			}
		}
		if err != nil {
			return fmt.Errorf("applying migrations: %w; traffic not moved", err)
		}
	}
	if len(m.command()) == 0 || m.r.opts.DryRun {
		return nil
	}
	err := m.r.deps.Migrator.Migrate(ctx, s.Target, m.phase, m.command(), log)
	if err == nil {
		return nil
	}
	if m.phase == migrate.Before {
		return fmt.Errorf("migration before the switch: %w; traffic not moved", err)
	}
	if !m.r.opts.RollbackOnMigrateFailure {
		m.r.deps.Reporter.Error(fmt.Sprintf("the contract migration failed after traffic moved to %s; traffic stays there because the schema may already be contracted (set rollback-on-migrate-failure to move it back)", s.Target))
		return fmt.Errorf("migration after the switch: %w", err)
	}
	if rerr := (switchStep{m.r}).Revert(ctx, s); rerr != nil {
		return fmt.Errorf("migration after the switch: %w; moving traffic back also failed: %w", err, rerr)
	}
	return fmt.Errorf("migration after the switch: %w; traffic moved back to %s", err, s.Previous.Live())
}

func (m migrateStep) Detail(s *State) string {
	var parts []string
	if n := len(s.Migrated); m.phase == migrate.Before && m.r.deps.SQL != nil {
		parts = append(parts, fmt.Sprintf("%d SQL migrations applied", n))
	}
	if c := m.command(); len(c) > 0 {
		parts = append(parts, fmt.Sprintf("%q ran with %s's image", strings.Join(c, " "), s.Target))
	}
	return strings.Join(parts, "; ")
}
