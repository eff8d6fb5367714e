package deploy_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// point is a traffic point without its time, which tests cannot know.
type point struct {
	Blue, Green int
	Step        string
}

func points(res report.Result) []point {
	var out []point
	for i, p := range res.Traffic {
		if i > 0 && p.At.Before(res.Traffic[i-1].At) {
			panic("traffic points out of order")
		}
		out = append(out, point{p.Blue, p.Green, p.Step})
	}
	return out
}

// TestTrafficRecorded: a stepped deploy records the routing it read, then
// each traffic step it set; a rollback records its one move; a bake that
// fails records the weights put back. Each is what the report draws.
func TestTrafficRecorded(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	res, err, log := g.run("deploy", "shop:v2", func(o *deploy.Options) { o.TrafficSteps = []int{25, 100} })
	if err != nil {
		t.Fatalf("deploy failed: %v\n%s", err, log)
	}
	want := []point{
		{100, 0, "read live state"},
		{75, 25, "switch traffic: green 25%"},
		{0, 100, "switch traffic: green 100%"},
	}
	if diff := cmp.Diff(want, points(res)); diff != "" {
		t.Errorf("deploy in steps: traffic (-want +got):\n%s", diff)
	}
	if !res.Moved() {
		t.Error("a deploy that moved traffic reports that nothing moved")
	}

	res, err, log = g.run("rollback", "", nil)
	if err != nil {
		t.Fatalf("rollback failed: %v\n%s", err, log)
	}
	want = []point{{0, 100, "read live state"}, {100, 0, "switch traffic: blue 100%"}}
	if diff := cmp.Diff(want, points(res)); diff != "" {
		t.Errorf("rollback: traffic (-want +got):\n%s", diff)
	}

	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad release", http.StatusInternalServerError)
	}))
	defer prod.Close()
	res, err, log = g.run("deploy", "shop:v3", func(o *deploy.Options) {
		o.TrafficSteps, o.StepPause = []int{50, 100}, time.Minute
		o.BakeTime, o.ProductionURL = time.Second, prod.URL
	})
	if err == nil {
		t.Fatalf("deploy with a failing bake succeeded:\n%s", log)
	}
	// The production URL fails from the first step on: the step's watch
	// stops the run at 50% and the revert puts all back on blue.
	want = []point{
		{100, 0, "read live state"},
		{50, 50, "switch traffic: green 50%"},
		{100, 0, "switch traffic: put back to blue"},
	}
	if diff := cmp.Diff(want, points(res)); diff != "" {
		t.Errorf("failed bake: traffic (-want +got):\n%s", diff)
	}
	if b, gr := g.weights(); b == 0 || gr != 0 {
		t.Errorf("weights after a failed traffic step: blue %d green %d, want all back on blue", b, gr)
	}
	if res.Outcome != report.RolledBack {
		t.Errorf("outcome %s after a failed traffic step, want rolled-back", res.Outcome)
	}
}

// TestNothingMovedRecordsOnePoint: a run that fails before the switch
// leaves one point, the routing it read, and so draws nothing.
func TestNothingMovedRecordsOnePoint(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	res, err, _ := g.run("deploy", "shop:v1", nil) // already live: nothing to do
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]point{{100, 0, "read live state"}}, points(res)); diff != "" {
		t.Errorf("traffic (-want +got):\n%s", diff)
	}
	if res.Moved() {
		t.Error("a run that changed nothing reports traffic moved")
	}
}
