package local_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/local"
)

func TestMigrateRunsWithTheRelease(t *testing.T) {
	t.Parallel()
	m := &local.Migrator{App: "shop", Image: "shop:2.0"}
	var lines []string
	err := m.Migrate(context.Background(), color.Green, migrate.Before,
		[]string{"sh", "-c", `echo "$BLUEGREEN_PHASE $BLUEGREEN_APP $BLUEGREEN_COLOR $BLUEGREEN_IMAGE"`}, func(l string) { lines = append(lines, l) })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(lines, "|"), "before shop green shop:2.0"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	err = m.Migrate(context.Background(), color.Green, migrate.After, []string{"sh", "-c", "echo boom; exit 4"}, func(string) {})
	if err == nil || !strings.Contains(err.Error(), "migrate-after") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing migration = %v", err)
	}
}
