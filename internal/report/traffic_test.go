package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

// stepped is a deploy that moved traffic 25% then 100% to green, as the
// switch step reports it.
func stepped() report.Result {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	return report.Result{
		Command: "deploy", App: "shop", Outcome: report.Success, Started: t0,
		Steps: []pipeline.Result{
			{Name: "lock", Status: pipeline.StatusOK, Duration: 4 * time.Millisecond},
			{Name: "verify", Status: pipeline.StatusSkipped},
			{Name: "switch traffic", Status: pipeline.StatusOK, Duration: 2 * time.Second},
			{Name: "bake and confirm", Status: pipeline.StatusOK, Duration: 30 * time.Second},
		},
		Traffic: []report.TrafficPoint{
			{At: t0.Add(10 * time.Millisecond), Blue: 100, Step: "read live state"},
			{At: t0.Add(1010 * time.Millisecond), Blue: 75, Green: 25, Step: "switch traffic 25%"},
			{At: t0.Add(2010 * time.Millisecond), Green: 100, Step: "switch traffic 100%"},
		},
	}
}

func TestTrafficChartGolden(t *testing.T) {
	t.Parallel()
	r := stepped()
	got := report.TrafficChart(r) + "---- plain\n" + strings.Join(report.TrafficTable(r), "\n") + "\n"
	testkit.Golden(t, "traffic.golden", []byte(got))
}

// TestNothingMovedDrawsNothing: a run that found the traffic and left it
// (a failure before the switch, a no-op) has no chart and no table.
func TestNothingMovedDrawsNothing(t *testing.T) {
	t.Parallel()
	r := stepped()
	r.Traffic = r.Traffic[:1]
	if got := report.TrafficChart(r); got != "" {
		t.Errorf("chart for a run that moved nothing:\n%s", got)
	}
	if got := report.TrafficTable(r); got != nil {
		t.Errorf("table for a run that moved nothing: %q", got)
	}
}

// TestStepNamesCannotBreakTheTimeline: a colon ends a gantt task's name, so
// one in a step name would shift its data.
func TestStepNamesCannotBreakTheTimeline(t *testing.T) {
	t.Parallel()
	r := stepped()
	r.Steps[0].Name = "lock: shop"
	got := report.TrafficChart(r)
	if !strings.Contains(got, "    lock  shop :") {
		t.Errorf("step name with a colon not neutralised:\n%s", got)
	}
}
