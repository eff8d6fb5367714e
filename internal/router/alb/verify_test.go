package alb

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	f := newFake(t, awsfake.Forward(blueTG, 1, greenTG, 0))
	r := newRouter(t, f, nil)

	err := r.Verify(t.Context(), color.Green)
	if err == nil || !strings.Contains(err.Error(), `green target group "`+greenTG+`" has no registered targets`) {
		t.Fatalf("Verify with no targets = %v", err)
	}

	f.Register(greenTG, 8080, "10.0.1.5", "10.0.1.6")
	f.Script(greenTG, "10.0.1.5", awsfake.Initial, awsfake.Checking, awsfake.Healthy)
	f.Script(greenTG, "10.0.1.6", awsfake.Initial, awsfake.Healthy)
	for i, want := range []string{
		"2 of 2 targets not healthy: 10.0.1.5:8080 initial (Elb.RegistrationInProgress: Target registration is in progress); 10.0.1.6:8080 initial (Elb.RegistrationInProgress",
		"1 of 2 targets not healthy: 10.0.1.5:8080 initial (Elb.InitialHealthChecking: Initial health checks in progress)",
		"",
	} {
		err := r.Verify(t.Context(), color.Green)
		switch {
		case want == "" && err != nil:
			t.Errorf("check %d: %v, want healthy", i, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("check %d: %v, want %q", i, err, want)
		}
	}

	f.SetHealth(greenTG, "10.0.1.6", awsfake.Mismatch)
	err = r.Verify(t.Context(), color.Green)
	if err == nil || !strings.Contains(err.Error(), "10.0.1.6:8080 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [503])") {
		t.Errorf("Verify with an unhealthy target = %v", err)
	}

	f.Deregister(greenTG, "10.0.1.6")
	if err := r.Verify(t.Context(), color.Green); err != nil {
		t.Errorf("draining targets must not count: %v", err)
	}
}

func TestVerifyUnusedAndUnchecked(t *testing.T) {
	t.Parallel()
	f := newFake(t, awsfake.Forward(blueTG, 1)) // green is in no forward action
	f.Register(greenTG, 8080, "10.0.1.5")
	f.SetHealth(greenTG, "10.0.1.5", awsfake.Healthy)
	err := newRouter(t, f, nil).Verify(t.Context(), color.Green)
	if err == nil || !strings.Contains(err.Error(), "unused (Target.NotInUse") || !strings.Contains(err.Error(), "add it to the forward action at weight 0") {
		t.Errorf("Verify of a target group no listener uses = %v", err)
	}

	f.Register(blueTG, 8080, "10.0.0.5")
	f.SetHealth(blueTG, "10.0.0.5", awsfake.Health{State: types.TargetHealthStateEnumUnavailable, Reason: types.TargetHealthReasonEnumHealthCheckDisabled})
	err = newRouter(t, f, nil).Verify(t.Context(), color.Blue)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Verify with health checks disabled = %v, want errors.ErrUnsupported", err)
	}

	f.ThrottleEvery(1)
	err = newRouter(t, f, nil).Verify(t.Context(), color.Blue)
	if err == nil || !strings.Contains(err.Error(), "Throttling") || !strings.Contains(err.Error(), blueTG) {
		t.Errorf("throttled Verify = %v, want the throttling error naming the group", err)
	}
}
