package setup

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
)

// TestEveryRowHasAConstructor keeps config's tables, which validation
// reads, and the constructors here in step: a router or platform that
// validation accepts can be built, and nothing is built that validation
// would refuse.
func TestEveryRowHasAConstructor(t *testing.T) {
	t.Parallel()
	var routers, platforms []string
	for _, r := range config.Routers() {
		routers = append(routers, r.Name)
	}
	for _, p := range config.Platforms() {
		platforms = append(platforms, p.Name)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(routers)), slices.Sorted(maps.Keys(routerBuilders))); diff != "" {
		t.Errorf("routers of config.Routers (-) and with a constructor in routerBuilders (+):\n%s", diff)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(platforms)), slices.Sorted(maps.Keys(platformBuilders))); diff != "" {
		t.Errorf("platforms of config.Platforms (-) and with a constructor in platformBuilders (+):\n%s", diff)
	}
}

// TestALBNeedsBothTargetGroups: router alb switches between the colors'
// target groups, so one that neither the inputs nor the color's ECS
// service give is a bad input, named, before AWS is asked anything.
func TestALBNeedsBothTargetGroups(t *testing.T) {
	t.Parallel()
	e := &buildEnv{
		cfg:    &config.Config{App: "shop", Platform: "ecs", Router: "alb"},
		deps:   &deploy.Deps{},
		groups: map[color.Color]string{color.Blue: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/0123456789abcdef"},
	}
	err := newRouter(t.Context(), e)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Input != "target-group-green" {
		t.Fatalf("newRouter = %v, want a bad input target-group-green", err)
	}
	if e.awsCfg != nil || e.deps.Router != nil {
		t.Errorf("AWS configuration loaded or router set before the check: %v, %v", e.awsCfg, e.deps.Router)
	}
}
