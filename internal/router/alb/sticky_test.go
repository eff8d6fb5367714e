package alb

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// TestStickiness: with WithStickiness a split write enables target-group
// stickiness on the weighted forward for the duration, the ALB double
// accepting it as ELBv2 does (1 s to 7 days); a write of the same split
// without it is still made; a switch of all traffic to one color turns
// it off; a write that changes nothing is not made.
func TestStickiness(t *testing.T) {
	t.Parallel()
	f := newFake(t, awsfake.Forward(blueTG, 1, greenTG, 0))
	r := newRouter(t, f, nil, WithStickiness(time.Hour))

	split := router.Weights{color.Blue: 90, color.Green: 10}
	if err := r.Set(t.Context(), split); err != nil {
		t.Fatal(err)
	}
	weights, stick, _ := forwardOf(t, f, listenerARN)
	if weights[blueTG] != 90 || weights[greenTG] != 10 || !aws.ToBool(stick.Enabled) || aws.ToInt32(stick.DurationSeconds) != 3600 {
		t.Errorf("after a sticky split: weights %v, stickiness %+v; want 90/10 sticky for 3600 s", weights, stick)
	}
	writes := f.Count("ModifyListener")
	if err := r.Set(t.Context(), split); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("ModifyListener") - writes; n != 0 {
		t.Errorf("setting the same sticky split again wrote %d times", n)
	}

	// The same split made earlier without stickiness gets it.
	plain := newRouter(t, f, nil)
	if err := plain.Set(t.Context(), router.All(color.Blue)); err != nil {
		t.Fatal(err)
	}
	if err := plain.Set(t.Context(), split); err != nil {
		t.Fatal(err)
	}
	if err := r.Set(t.Context(), split); err != nil {
		t.Fatal(err)
	}
	if _, stick, _ := forwardOf(t, f, listenerARN); !aws.ToBool(stick.Enabled) {
		t.Errorf("a split made without stickiness did not get it: %+v", stick)
	}

	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	weights, stick, _ = forwardOf(t, f, listenerARN)
	if weights[blueTG] != 0 || weights[greenTG] != 100 || aws.ToBool(stick.Enabled) {
		t.Errorf("after switching all to green: weights %v, stickiness %+v; want 0/100, not sticky", weights, stick)
	}
}

// TestStickinessOutOfRange: the ALB refuses a duration past 7 days, and
// the router says so rather than writing something else.
func TestStickinessOutOfRange(t *testing.T) {
	t.Parallel()
	f := newFake(t, awsfake.Forward(blueTG, 1, greenTG, 0))
	r := newRouter(t, f, nil, WithStickiness(8*24*time.Hour))
	if err := r.Set(t.Context(), router.Weights{color.Blue: 50, color.Green: 50}); err == nil {
		t.Fatal("a stickiness of 8 days was accepted")
	}
	if weights, _, _ := forwardOf(t, f, listenerARN); weights[greenTG] != 0 {
		t.Errorf("a refused write moved traffic: %v", weights)
	}
}

// TestSwitchEndsStickinessWithoutTheOption: a switch of all traffic to one
// color made without WithStickiness (the run that ends a split need not
// repeat sticky-duration) still disables the stickiness a sticky split
// enabled. On an ALB stickiness takes precedence over weights: left
// enabled, a client holding the cookie of the group now at weight 0 would
// keep reaching it while the weights read 0/100.
func TestSwitchEndsStickinessWithoutTheOption(t *testing.T) {
	t.Parallel()
	f := newFake(t, awsfake.Forward(blueTG, 1, greenTG, 0))
	if err := newRouter(t, f, nil, WithStickiness(time.Hour)).Set(t.Context(), router.Weights{color.Blue: 50, color.Green: 50}); err != nil {
		t.Fatal(err)
	}
	if got := f.Reaches(listenerARN, blueTG); len(got) != 1 || got[0] != blueTG {
		t.Fatalf("during the sticky split a client stuck to blue reaches %q, want blue only", got)
	}

	plain := newRouter(t, f, nil)
	if err := plain.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	weights, stick, _ := forwardOf(t, f, listenerARN)
	if weights[blueTG] != 0 || weights[greenTG] != 100 || aws.ToBool(stick.Enabled) {
		t.Errorf("after switching all to green without the option: weights %v, stickiness %+v; want 0/100, not sticky", weights, stick)
	}
	if got := f.Reaches(listenerARN, blueTG); len(got) != 1 || got[0] != greenTG {
		t.Errorf("after the switch a client stuck to blue reaches %q, want green only", got)
	}
}

// TestStickinessAtOneColorIsNotInPlace: a forward that already sends all
// traffic to one color but is sticky (an operator enabled it, or an older
// switch kept it) is not what Set asks for: Set disables the stickiness
// once, reading back past stale reads until it shows, and then finds it
// in place.
func TestStickinessAtOneColorIsNotInPlace(t *testing.T) {
	t.Parallel()
	sticky := awsfake.Forward(blueTG, 0, greenTG, 1)
	sticky.ForwardConfig.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(86400)}
	f := newFake(t, sticky)
	f.StaleReads(2)
	r := newRouter(t, f, nil)
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("ModifyListener"); n != 1 {
		t.Errorf("Set wrote %d times, want once, to disable the stickiness", n)
	}
	if _, stick, _ := forwardOf(t, f, listenerARN); aws.ToBool(stick.Enabled) {
		t.Errorf("stickiness %+v at all to green, want disabled", stick)
	}
	if n := f.Count("DescribeListeners"); n < 4 {
		t.Errorf("Set read the listener %d times, want the read-back to go past 2 stale reads", n)
	}
	f.StaleReads(0)
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("ModifyListener"); n != 1 {
		t.Errorf("a second Set wrote again (%d writes in all), want nothing once stickiness is off", n)
	}
}

// TestRevertPutsStickinessBack: a switch that disabled a split's
// stickiness, then reverted to the split by the same router (the run
// whose bake failed), puts the stickiness back as it was; a router that
// disabled nothing writes a split as read.
func TestRevertPutsStickinessBack(t *testing.T) {
	t.Parallel()
	f := newFake(t, awsfake.Forward(blueTG, 1, greenTG, 0))
	split := router.Weights{color.Blue: 50, color.Green: 50}
	if err := newRouter(t, f, nil, WithStickiness(time.Hour)).Set(t.Context(), split); err != nil {
		t.Fatal(err)
	}
	r := newRouter(t, f, nil)
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if _, stick, _ := forwardOf(t, f, listenerARN); aws.ToBool(stick.Enabled) {
		t.Fatalf("the switch left stickiness %+v", stick)
	}
	if err := r.Restore(t.Context(), split); err != nil {
		t.Fatal(err)
	}
	weights, stick, _ := forwardOf(t, f, listenerARN)
	if weights[blueTG] != 50 || weights[greenTG] != 50 || !aws.ToBool(stick.Enabled) || aws.ToInt32(stick.DurationSeconds) != 3600 {
		t.Errorf("after reverting to the split: weights %v, stickiness %+v; want 50/50 sticky for 3600 s, as before the switch", weights, stick)
	}

	if err := r.Set(t.Context(), router.All(color.Blue)); err != nil {
		t.Fatal(err)
	}
	if err := newRouter(t, f, nil).Set(t.Context(), split); err != nil {
		t.Fatal(err)
	}
	if _, stick, _ := forwardOf(t, f, listenerARN); aws.ToBool(stick.Enabled) {
		t.Errorf("a split by a router that disabled nothing got stickiness %+v", stick)
	}
}
