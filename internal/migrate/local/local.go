// Package local runs migration commands on the machine bluegreen runs on,
// for platforms whose machines bluegreen does not manage (hosts): the
// command learns the release and color from BLUEGREEN_* variables.
package local

import (
	"context"
	"fmt"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/localcmd"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/hosts"
)

// Migrator runs migrate-before and migrate-after as local commands.
type Migrator struct {
	App, Image string
}

var _ migrate.Migrator = (*Migrator)(nil)

// Migrate runs command with BLUEGREEN_APP, BLUEGREEN_COLOR,
// BLUEGREEN_IMAGE and BLUEGREEN_PHASE (before or after) set.
func (m *Migrator) Migrate(ctx context.Context, c color.Color, phase migrate.Phase, command []string, log func(string)) error {
	env := append(hosts.Env(m.App, c, m.Image), "BLUEGREEN_PHASE="+string(phase))
	if err := localcmd.Run(ctx, command, env, log); err != nil {
		return fmt.Errorf("migrate-%s: %w", phase, err)
	}
	return nil
}
