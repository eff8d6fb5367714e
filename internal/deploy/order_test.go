package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

// phaseMigrator fails the phases it is told to and records the others.
type phaseMigrator struct {
	fail   map[migrate.Phase]error
	record func(string)
}

func (m phaseMigrator) Migrate(_ context.Context, _ color.Color, phase migrate.Phase, _ []string, _ func(string)) error {
	if err := m.fail[phase]; err != nil {
		return err
	}
	m.record("migrate " + string(phase))
	return nil
}

// TestWritesInOrder runs a deploy on the in-memory platform and router and
// checks the writes it makes, in order: what runs before the switch, what
// a failure before the commit undoes, and that nothing is undone after it.
func TestWritesInOrder(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	cases := []struct {
		name     string
		fail     map[migrate.Phase]error
		onSwitch bool // the new color stops answering right after the switch
		outcome  report.Outcome
		ops      []string
		live     color.Color
	}{
		{
			name:    "success",
			outcome: report.Success,
			ops:     []string{"deploy green shop:v2", "migrate before", "set blue 0% / green 100%", "migrate after"},
			live:    color.Green,
		},
		{
			name:    "expand fails: traffic never moves",
			fail:    map[migrate.Phase]error{migrate.Before: boom},
			outcome: report.Failed,
			ops:     []string{"deploy green shop:v2"},
			live:    color.Blue,
		},
		{
			name:     "bake fails: the switch is undone",
			onSwitch: true,
			outcome:  report.RolledBack,
			ops:      []string{"deploy green shop:v2", "migrate before", "set blue 0% / green 100%", "set blue 100% / green 0%"},
			live:     color.Blue,
		},
		{
			name:    "contract fails after the commit: traffic stays",
			fail:    map[migrate.Phase]error{migrate.After: boom},
			outcome: report.Failed,
			ops:     []string{"deploy green shop:v2", "migrate before", "set blue 0% / green 100%"},
			live:    color.Green,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newMemGround(t)
			var mu sync.Mutex
			var ops []string
			record := func(op string) {
				mu.Lock()
				defer mu.Unlock()
				ops = append(ops, op)
			}
			g.platform.Record = record
			g.router.Record = func(op string) {
				record(op)
				if tc.onSwitch && strings.Contains(op, "green 100%") {
					g.platform.FailOn("describe", color.Green, boom)
				}
			}
			log := &testkit.SyncBuffer{}
			opts := deploy.Options{
				App: "shop", Owner: "run-1", Release: platform.Release{Image: "shop:v2"}, WaitTimeout: time.Minute,
				Poll: time.Millisecond, RouteGrace: time.Millisecond, BakeTime: time.Millisecond,
				MigrateBefore: []string{"migrate", "up"}, MigrateAfter: []string{"migrate", "contract"},
			}
			deps := deploy.Deps{
				Platform: g.platform, Router: g.router, Locker: g.locker, Reporter: plain.New(log),
				Migrator: phaseMigrator{fail: tc.fail, record: record},
			}
			res, err := deploy.New("deploy", opts, deps).Execute(t.Context())
			if (err == nil) != (tc.outcome == report.Success) || res.Outcome != tc.outcome {
				t.Errorf("outcome %s, error %v; want %s\n%s", res.Outcome, err, tc.outcome, log.String())
			}
			mu.Lock()
			got := slices.Clone(ops)
			mu.Unlock()
			if diff := cmp.Diff(tc.ops, got); diff != "" {
				t.Errorf("writes (-want +got):\n%s\n%s", diff, log.String())
			}
			if live := g.router.Weights().Live(); live != tc.live {
				t.Errorf("%s is live, want %s", live, tc.live)
			}
			if h := g.locker.Holder(); h != "" {
				t.Errorf("lock still held by %q", h)
			}
		})
	}
}
