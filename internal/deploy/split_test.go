package deploy_test

import (
	"github.com/google/go-cmp/cmp"
	"slices"

	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

func splitAt(pct int) func(*deploy.Options) {
	return func(o *deploy.Options) { o.SplitWeight = pct }
}

// TestALBSplit runs command split on the ALB double: the new release gets
// the asked share of the listener and both colors stay live; a deploy of
// another release is refused while both serve; a second split moves the
// weights; a deploy of the split's release finishes it; a rollback takes
// a split back to the release that was live.
func TestALBSplit(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)

	res, err, log := g.run("split", "shop:v2", splitAt(10))
	if err != nil {
		t.Fatalf("split failed: %v\n%s", err, log)
	}
	if b, gr := g.weights(); b != 90 || gr != 10 {
		t.Errorf("after split 10: weights blue %d green %d, want 90/10", b, gr)
	}
	if res.Outcome != report.Split || res.ActiveColor != "green" || res.PreviousColor != "blue" || !res.Changed {
		t.Errorf("split result %s, active %s, previous %s, changed %v; want split, green, blue, true", res.Outcome, res.ActiveColor, res.PreviousColor, res.Changed)
	}
	if got := stepStatus(res, "scale down old color"); got != "absent" {
		t.Errorf("a split has a scale-down step (%s): the old release still serves", got)
	}
	if got := colorState(res, "blue"); !got.Live || got.Weight != 90 || got.Image != "shop:v1" {
		t.Errorf("blue after the split = %+v, want live at 90%% with shop:v1", got)
	}

	modifies := g.elb.Count("ModifyListener")
	res, err, _ = g.run("deploy", "shop:v3", nil)
	if err == nil || res.Outcome != report.Failed || !strings.Contains(err.Error(), "split") {
		t.Fatalf("deploy of another release during a split: outcome %s, err %v; want failed naming the split", res.Outcome, err)
	}
	if n := g.elb.Count("ModifyListener") - modifies; n != 0 {
		t.Errorf("a refused deploy wrote the listener %d times", n)
	}
	if g.imageOf("blue") != "shop:v1" || g.imageOf("green") != "shop:v2" {
		t.Errorf("a refused deploy changed a color: blue %s, green %s", g.imageOf("blue"), g.imageOf("green"))
	}

	res, err, log = g.run("split", "shop:v2", splitAt(50))
	if err != nil {
		t.Fatalf("second split failed: %v\n%s", err, log)
	}
	if b, gr := g.weights(); b != 50 || gr != 50 || res.Outcome != report.Split {
		t.Errorf("after split 50: weights %d/%d, outcome %s; want 50/50, split", b, gr, res.Outcome)
	}
	if got := stepStatus(res, "deploy idle color"); got != "skipped" {
		t.Errorf("moving a split redeployed the release: deploy step %s", got)
	}

	res, err, log = g.run("deploy", "shop:v2", func(o *deploy.Options) { o.TrafficSteps = []int{25, 75, 100} })
	if err != nil {
		t.Fatalf("deploy finishing the split failed: %v\n%s", err, log)
	}
	if b, gr := g.weights(); b != 0 || gr != 100 {
		t.Errorf("after the finishing deploy: weights blue %d green %d, want all on green", b, gr)
	}
	if res.Outcome != report.Success || res.ActiveColor != "green" || res.PreviousColor != "blue" {
		t.Errorf("finishing deploy: %s, active %s, previous %s; want success, green, blue", res.Outcome, res.ActiveColor, res.PreviousColor)
	}
	// The steps at or below the 50% green had go; only 75 and 100 remain.
	if diff := points(res); len(diff) != 3 || diff[1].Green != 75 || diff[2].Green != 100 {
		t.Errorf("finishing deploy traffic %+v, want 50 -> 75 -> 100 on green", diff)
	}

	if _, err, log = g.run("split", "shop:v4", splitAt(20)); err != nil {
		t.Fatalf("split onto blue failed: %v\n%s", err, log)
	}
	if b, gr := g.weights(); b != 20 || gr != 80 {
		t.Errorf("after split 20 onto blue: weights blue %d green %d, want 20/80", b, gr)
	}
	res, err, log = g.run("rollback", "", nil)
	if err != nil {
		t.Fatalf("rollback of a split failed: %v\n%s", err, log)
	}
	if b, gr := g.weights(); b != 0 || gr != 100 {
		t.Errorf("after rolling back the split: weights blue %d green %d, want all back on green", b, gr)
	}
	if res.Outcome != report.Success || res.ActiveColor != "green" || res.Image != "shop:v2" {
		t.Errorf("rollback of a split: %s, active %s, image %s; want success, green, shop:v2", res.Outcome, res.ActiveColor, res.Image)
	}
}

// TestSplitOfTheLiveRelease: splitting traffic with the release that is
// live already changes nothing.
func TestSplitOfTheLiveRelease(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	res, err, _ := g.run("split", "shop:v1", splitAt(10))
	if err != nil || res.Outcome != report.Success || res.Changed {
		t.Errorf("split of the live release: %s, changed %v, err %v; want success with nothing changed", res.Outcome, res.Changed, err)
	}
	if b, gr := g.weights(); b == 0 || gr != 0 || g.elb.Count("ModifyListener") != 0 {
		t.Errorf("weights %d/%d after %d listener writes, want untouched on blue", b, gr, g.elb.Count("ModifyListener"))
	}
}

// TestRedBlack is a split at 50 finished by command switch, on the ALB
// double with the history in the task definition family: at 50/50 the
// weights cannot tell the new release from the old, the history's split
// can. A second split is taken back by rollback. The history records each.
func TestRedBlack(t *testing.T) {
	t.Parallel()
	g := newApprovalGround(t)
	res, err, log := g.run("split", "shop:v2", splitAt(50))
	if err != nil || res.Outcome != report.Split {
		t.Fatalf("split 50: %s, %v\n%s", res.Outcome, err, log)
	}
	if b, gr := g.forward(listener); b != 50 || gr != 50 {
		t.Fatalf("after split 50: weights %d/%d, want 50/50", b, gr)
	}
	res, err, log = g.run("switch", "")
	if err != nil {
		t.Fatalf("switch after a split: %v\n%s", err, log)
	}
	if b, gr := g.forward(listener); b != 0 || gr != 100 {
		t.Errorf("after the switch: weights blue %d green %d, want all on green, the split's release", b, gr)
	}
	if res.Outcome != report.Success || res.ActiveColor != "green" || res.Image != "shop:v2" {
		t.Errorf("switch: %s, active %s, image %s; want success, green, shop:v2", res.Outcome, res.ActiveColor, res.Image)
	}

	if _, err, log = g.run("split", "shop:v3", splitAt(50)); err != nil {
		t.Fatalf("second split: %v\n%s", err, log)
	}
	if _, err, log = g.run("switch", "shop:v2"); err == nil || !strings.Contains(err.Error(), "shop:v3") {
		t.Errorf("switch naming another image than the split's: %v, want refused naming shop:v3\n%s", err, log)
	}
	if res, err, log = g.run("rollback", ""); err != nil {
		t.Fatalf("rollback of the second split: %v\n%s", err, log)
	}
	if b, gr := g.forward(listener); b != 0 || gr != 100 || res.ActiveColor != "green" {
		t.Errorf("after rolling back the split: weights blue %d green %d, active %s; want all on green", b, gr, res.ActiveColor)
	}

	entries, err := g.history.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Task definition tags hold whole seconds: runs within one second
	// cannot be ordered, so the entries are compared as a set. The refused
	// switch wrote nothing and is not recorded.
	var got []string
	for _, e := range entries {
		got = append(got, string(e.Command)+" "+e.Color+" "+e.Image+" "+e.Result)
	}
	slices.Sort(got)
	want := []string{
		"deploy  shop:v1 unknown",
		"rollback green shop:v2 success",
		"split blue shop:v3 split",
		"split green shop:v2 split",
		"switch green shop:v2 success",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}
