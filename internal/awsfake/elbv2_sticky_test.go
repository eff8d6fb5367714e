package awsfake

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/google/go-cmp/cmp"
)

// TestReachesStickiness: a client holding a target group's stickiness
// cookie keeps reaching that group at weight 0 while stickiness is
// enabled, and goes by the weights once it is disabled; a client without
// the cookie always goes by the weights.
func TestReachesStickiness(t *testing.T) {
	t.Parallel()
	f := newLB(t)
	forward := func(blue, green int32, sticky bool) {
		t.Helper()
		fwd := Forward(testBlue, int(blue), testGreen, int(green))
		fwd.ForwardConfig.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{Enabled: aws.Bool(sticky)}
		if sticky {
			fwd.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds = aws.Int32(3600)
		}
		if _, err := f.ModifyListener(t.Context(), &elbv2.ModifyListenerInput{ListenerArn: aws.String(testListener), DefaultActions: []types.Action{fwd}}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name        string
		blue, green int32
		sticky      bool
		stuckTo     string
		want        []string
	}{
		{name: "split, new client", blue: 50, green: 50, sticky: true, want: []string{testBlue, testGreen}},
		{name: "split, stuck to blue", blue: 50, green: 50, sticky: true, stuckTo: testBlue, want: []string{testBlue}},
		{name: "all green, still sticky, stuck to blue", blue: 0, green: 100, sticky: true, stuckTo: testBlue, want: []string{testBlue}},
		{name: "all green, stickiness off, stuck to blue", blue: 0, green: 100, stuckTo: testBlue, want: []string{testGreen}},
		{name: "all green, still sticky, new client", blue: 0, green: 100, sticky: true, want: []string{testGreen}},
	}
	for _, tc := range cases {
		forward(tc.blue, tc.green, tc.sticky)
		if diff := cmp.Diff(tc.want, f.Reaches(testListener, tc.stuckTo)); diff != "" {
			t.Errorf("%s: target groups reached (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestStoredStickinessIsACopy: a caller changing the stickiness it sent
// after the write does not change what the load balancer holds.
func TestStoredStickinessIsACopy(t *testing.T) {
	t.Parallel()
	f := newLB(t)
	fwd := Forward(testBlue, 50, testGreen, 50)
	enabled, seconds := aws.Bool(true), aws.Int32(60)
	fwd.ForwardConfig.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{Enabled: enabled, DurationSeconds: seconds}
	if _, err := f.ModifyListener(t.Context(), &elbv2.ModifyListenerInput{ListenerArn: aws.String(testListener), DefaultActions: []types.Action{fwd}}); err != nil {
		t.Fatal(err)
	}
	*enabled, *seconds = false, 1
	s := f.DefaultActions(testListener)[0].ForwardConfig.TargetGroupStickinessConfig
	if !aws.ToBool(s.Enabled) || aws.ToInt32(s.DurationSeconds) != 60 {
		t.Errorf("stored stickiness %v for %d s after the caller changed its copy, want enabled for 60 s", aws.ToBool(s.Enabled), aws.ToInt32(s.DurationSeconds))
	}
}
