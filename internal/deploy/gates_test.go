package deploy_test

import (
	"strings"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/gate"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// TestAlarmGateBetweenSteps: a CloudWatch alarm in ALARM at the first
// traffic step stops the deploy there and puts all traffic back; with the
// alarm OK the deploy goes on, and the report shows every reading.
func TestAlarmGateBetweenSteps(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	cw := awsfake.NewCloudWatch()
	cw.PutAlarm("shop-5xx", false, cwtypes.StateValueAlarm)
	cw.PutAlarm("shop-latency", true, cwtypes.StateValueOk)
	g.gates = []gate.Gate{&gate.Alarms{API: cw, Names: []string{"shop-5xx", "shop-latency"}}}
	steps := func(o *deploy.Options) { o.TrafficSteps, o.StepPause = []int{25, 100}, 20*time.Millisecond }

	res, err, log := g.run("deploy", "shop:v2", steps)
	if err == nil || !strings.Contains(err.Error(), "gate cloudwatch alarms shop-5xx,shop-latency failed: shop-5xx=ALARM, shop-latency=OK") {
		t.Fatalf("deploy with an alarm in ALARM = %v\n%s", err, log)
	}
	want := []point{
		{100, 0, "read live state"},
		{75, 25, "switch traffic: green 25%"},
		{100, 0, "switch traffic: put back to blue"},
	}
	if diff := cmp.Diff(want, points(res)); diff != "" {
		t.Errorf("traffic (-want +got):\n%s", diff)
	}
	if res.Outcome != report.RolledBack {
		t.Errorf("outcome %s, want rolled-back", res.Outcome)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "at traffic step (blue 75% / green 25%)") {
		t.Errorf("the report does not show the reading at the step:\n%s", strings.Join(res.Notes, "\n"))
	}

	cw.SetState("shop-5xx", cwtypes.StateValueOk)
	res, err, log = g.run("deploy", "shop:v2", steps)
	if err != nil {
		t.Fatalf("deploy with alarms OK: %v\n%s", err, log)
	}
	var readings []string
	for _, n := range res.Notes {
		if strings.HasPrefix(n, "gate ") {
			readings = append(readings, n)
		}
	}
	// At least one reading during the step and one after the switch.
	if len(readings) < 2 || !strings.Contains(readings[len(readings)-1], "at after the switch") {
		t.Errorf("readings of a passing gate:\n%s", strings.Join(readings, "\n"))
	}
}
