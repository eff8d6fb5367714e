package ecs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/alb"
)

// TestDeployWaitSwitchCalls runs what a deploy does against ECS and an
// ALB, in the deploy steps' order, and counts the AWS API calls: a
// two-task service deployed to the idle color, waited for, and switched
// to. Each DescribeServices moves the ECS double one scheduler step.
func TestDeployWaitSwitchCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, nil)
	r, err := alb.New(alb.Config{API: e.elb, ListenerARN: listenerARN, TargetGroups: colors}, alb.WithReadBack(5, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ecsBefore, elbBefore := e.ecs.ByOperation(), e.elb.ByOperation()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// read live state
	w, err := r.Read(ctx)
	must(err)
	if w.Live() != color.Blue {
		t.Fatalf("live %s, want blue", w)
	}
	for _, c := range color.All {
		_, err := p.Describe(ctx, c)
		must(err)
	}
	// deploy idle color, wait until ready
	must(p.Deploy(ctx, color.Green, release("shop:v2"), 2))
	polls := e.ecs.Count("DescribeServices")
	must(p.Wait(ctx, color.Green, func(string) {}))
	polls = e.ecs.Count("DescribeServices") - polls
	_, err = p.Describe(ctx, color.Green)
	must(err)
	// switch: re-check readiness right before the write
	st, err := p.Describe(ctx, color.Green)
	must(err)
	if !st.Healthy {
		t.Fatalf("green not healthy before the switch: %+v", st)
	}
	must(r.Verify(ctx, color.Green))
	must(r.Set(ctx, router.All(color.Green)))
	// confirm from the live system
	w, err = r.Read(ctx)
	must(err)
	st, err = p.Describe(ctx, color.Green)
	must(err)
	if w.Live() != color.Green || w.Split() || st.Release.Image != "shop:v2" || !st.Healthy {
		t.Fatalf("after the switch: route %s, green %+v", w, st)
	}
	// final report
	_, err = r.Read(ctx)
	must(err)
	for _, c := range color.All {
		_, err := p.Describe(ctx, c)
		must(err)
	}

	ops := map[string]int{}
	total := 0
	for op, n := range e.ecs.ByOperation() {
		if d := n - ecsBefore[op]; d > 0 {
			ops["ECS "+op] = d
			total += d
		}
	}
	for op, n := range e.elb.ByOperation() {
		if d := n - elbBefore[op]; d > 0 {
			ops["ELBv2 "+op] = d
			total += d
		}
	}
	var b strings.Builder
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		fmt.Fprintf(&b, "\n  %-30s %d", op, ops[op])
	}
	t.Logf("AWS API calls of a 2-task ECS deploy + wait (%d polls) + ALB switch: %d%s", polls, total, b.String())
	if ops["ELBv2 ModifyListener"] != 1 || ops["ECS RegisterTaskDefinition"] != 1 || ops["ECS CreateService"] != 1 {
		t.Errorf("writes %v, want one task definition, one service created, one listener write", ops)
	}
}
