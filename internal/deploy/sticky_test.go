package deploy_test

import (
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// TestALBStickySplitEnded: a split with sticky-duration makes the
// listener's forward sticky; the switch that finishes it and the rollback
// that drops the next one are run without sticky-duration, and each still
// leaves no client on the color at weight 0. On an ALB stickiness takes
// precedence over weights: a forward left sticky would keep clients
// holding the old color's cookie there while the weights read 0.
func TestALBStickySplitEnded(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)

	g.sticky = time.Hour
	if res, err, log := g.run("split", "shop:v2", splitAt(30)); err != nil || res.Outcome != report.Split {
		t.Fatalf("sticky split: %s, %v\n%s", res.Outcome, err, log)
	}
	if got := g.elb.Reaches(listener, blueTG); len(got) != 1 || got[0] != blueTG {
		t.Fatalf("during the sticky split a client stuck to blue reaches %q, want blue: the split is not sticky", got)
	}

	g.sticky = 0
	res, err, log := g.run("switch", "", nil)
	if err != nil || res.Outcome != report.Success || res.ActiveColor != "green" {
		t.Fatalf("switch after the sticky split: %s, active %s, %v\n%s", res.Outcome, res.ActiveColor, err, log)
	}
	if got := g.elb.Reaches(listener, blueTG); len(got) != 1 || got[0] != greenTG {
		t.Errorf("after the switch a client stuck to blue reaches %q, want green only", got)
	}

	g.sticky = time.Hour
	if res, err, log := g.run("split", "shop:v3", splitAt(40)); err != nil || res.Outcome != report.Split {
		t.Fatalf("second sticky split: %s, %v\n%s", res.Outcome, err, log)
	}
	g.sticky = 0
	res, err, log = g.run("rollback", "", nil)
	if err != nil || res.Outcome != report.Success || res.ActiveColor != "green" {
		t.Fatalf("rollback of the sticky split: %s, active %s, %v\n%s", res.Outcome, res.ActiveColor, err, log)
	}
	if b, gr := g.weights(); b != 0 || gr != 100 {
		t.Errorf("after the rollback: weights blue %d green %d, want all on green", b, gr)
	}
	if got := g.elb.Reaches(listener, blueTG); len(got) != 1 || got[0] != greenTG {
		t.Errorf("after the rollback a client stuck to blue, the split's release, reaches %q, want green only", got)
	}
}

// TestALBFailedSwitchRestoresStickySplit: a switch run without
// sticky-duration ends a sticky split, its bake fails, and traffic is put
// back to the split as it was, stickiness included: clients go back to
// staying on the color they first reached.
func TestALBFailedSwitchRestoresStickySplit(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	g.sticky = time.Hour
	if res, err, log := g.run("split", "shop:v2", splitAt(50)); err != nil || res.Outcome != report.Split {
		t.Fatalf("sticky split: %s, %v\n%s", res.Outcome, err, log)
	}
	g.sticky = 0
	var switched []string
	bake := badBake(t, func() { switched = g.elb.Reaches(listener, blueTG) })
	res, err, log := g.run("switch", "", func(o *deploy.Options) {
		o.BakeTime, o.ProductionURL, o.RevertBackoff, o.RouteGrace = time.Minute, bake, time.Millisecond, 5*time.Millisecond
	})
	if err == nil || res.Outcome != report.RolledBack {
		t.Fatalf("switch with a failing bake: %s, %v; want rolled-back\n%s", res.Outcome, err, log)
	}
	if len(switched) != 1 || switched[0] != greenTG {
		t.Errorf("during the bake a client stuck to blue reached %q, want green only", switched)
	}
	if b, gr := g.weights(); b != 50 || gr != 50 {
		t.Errorf("after the revert: weights blue %d green %d, want the split 50/50 back", b, gr)
	}
	if got := g.elb.Reaches(listener, blueTG); len(got) != 1 || got[0] != blueTG {
		t.Errorf("after the revert a client stuck to blue reaches %q, want blue: the split is back without its stickiness", got)
	}
}
