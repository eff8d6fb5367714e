package ecs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// deployGreen creates shop-green running shop:v2 and waits for it.
func deployGreen(t *testing.T, p *Platform) {
	t.Helper()
	if err := p.Deploy(t.Context(), color.Green, release("shop:v2"), 2); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(t.Context(), color.Green, func(string) {}); err != nil {
		t.Fatal(err)
	}
}

func wantAll(t *testing.T, err error, parts ...string) {
	t.Helper()
	if !errors.Is(err, platform.ErrNotReady) {
		t.Fatalf("Wait = %v, want platform.ErrNotReady", err)
	}
	t.Logf("Wait: %v", err)
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error lacks %q:\n%v", p, err)
		}
	}
}

func TestWaitCircuitBreakerRollback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, nil)
	deployGreen(t, p)

	e.ecs.SetOutcome("shop:bad", awsfake.Crashes)
	if err := p.Deploy(t.Context(), color.Green, release("shop:bad"), 2); err != nil {
		t.Fatal(err)
	}
	err := p.Wait(t.Context(), color.Green, func(string) {})
	wantAll(t, err,
		`service "shop-green": deployment ecs-svc/`, "of shop:3 FAILED (ECS deployment circuit breaker: tasks failed to start)",
		"ECS rolled the service back to shop:2",
		"deployment failed: tasks failed to start.", "rolling back to deployment",
		"stopped: Essential container in task exited; container web exit 1 (Essential container exited with code 1) (and 3 more tasks)",
	)
	// The live system agrees: green is back on shop:2, which Describe
	// reports, so no later step can mistake the rollback for success.
	e.ecs.Settle()
	st, derr := p.Describe(t.Context(), color.Green)
	if derr != nil || st.Release.Image != "shop:v2" {
		t.Errorf("Describe after the rollback = %+v, %v; want shop:v2", st.Release, derr)
	}
}

func TestWaitRolledBackBeforeFirstPoll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, nil)
	deployGreen(t, p)
	e.ecs.SetOutcome("shop:bad", awsfake.Crashes)
	if err := p.Deploy(t.Context(), color.Green, release("shop:bad"), 2); err != nil {
		t.Fatal(err)
	}
	e.ecs.Settle() // failed, rolled back and drained before Wait looks
	err := p.Wait(t.Context(), color.Green, func(string) {})
	wantAll(t, err, "of shop:3 is gone and the service now runs shop:2", "rolled back by the circuit breaker",
		"deployment failed: tasks failed to start.", "rolling back to deployment", "has reached a steady state")
}

func TestWaitFailedRollout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, failOnly)
	p := e.platform(t, nil)
	e.ecs.SetOutcome("shop:bad", awsfake.Crashes)
	if err := p.Deploy(t.Context(), color.Blue, release("shop:bad"), 2); err != nil {
		t.Fatal(err)
	}
	err := p.Wait(t.Context(), color.Blue, func(string) {})
	wantAll(t, err, "of shop:2 FAILED (ECS deployment circuit breaker", "stopped: Essential container in task exited")
	if strings.Contains(err.Error(), "rolled the service back") {
		t.Errorf("no rollback was configured: %v", err)
	}
}

func TestWaitDeadlineWithUnhealthyTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noBreaker)
	p := e.platform(t, nil, WithProgressEvery(0))
	e.ecs.SetOutcome("shop:sick", awsfake.FailsHealthChecks)
	if err := p.Deploy(t.Context(), color.Blue, release("shop:sick"), 2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	var progress lines
	err := p.Wait(ctx, color.Blue, progress.add)
	wantAll(t, err, `service "shop-blue" after `, "tasks of shop:2 running, rollout IN_PROGRESS", "older deployments draining",
		"Task failed ELB health checks in (target-group "+blueTG+")", "is unhealthy in (target-group")
	if !strings.Contains(progress.String(), "unhealthy (Target.FailedHealthChecks)") {
		t.Errorf("progress never showed the unhealthy targets:\n%s", &progress)
	}
	// The old deployment was never drained: blue still serves shop:v1.
	if s := e.ecs.Service("prod", "shop-blue"); len(s.Deployments) != 2 || s.Deployments[1].RunningCount != 2 {
		t.Errorf("old deployment %+v, want it still ACTIVE with 2 tasks", s.Deployments)
	}
}

func TestWaitThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, nil, WithProgressEvery(0))
	if err := p.Deploy(t.Context(), color.Green, release("shop:v2"), 2); err != nil {
		t.Fatal(err)
	}
	e.ecs.ThrottleEvery(3)
	var progress lines
	if err := p.Wait(t.Context(), color.Green, progress.add); err != nil {
		t.Fatalf("Wait with throttled polls = %v", err)
	}
	if !strings.Contains(progress.String(), "(AWS throttled 1 polls)") {
		t.Errorf("progress does not say polls were throttled:\n%s", &progress)
	}
}

func TestWaitCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noBreaker)
	e.ecs.AutoTick(0) // nothing moves
	p := e.platform(t, nil)
	if err := p.Deploy(t.Context(), color.Blue, release("shop:v2"), 2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errors.New("job cancelled"))
	err := p.Wait(ctx, color.Blue, func(string) {})
	if err == nil || errors.Is(err, platform.ErrNotReady) || !strings.Contains(err.Error(), "job cancelled") {
		t.Fatalf("Wait on a cancelled context = %v", err)
	}
	if got := aws.ToString(e.ecs.Service("prod", "shop-blue").Deployments[0].Status); got != "PRIMARY" {
		t.Errorf("status %q", got)
	}
}

func TestWaitWithoutDeploy(t *testing.T) {
	t.Parallel()
	// A rollback scales the old color up and waits for it, in a run that
	// did not deploy it.
	e := newEnv(t, rollBack)
	p := e.platform(t, nil)
	if err := p.Scale(t.Context(), color.Blue, 3); err != nil {
		t.Fatal(err)
	}
	fresh := e.platform(t, nil)
	if err := fresh.Wait(t.Context(), color.Blue, func(string) {}); err != nil {
		t.Fatal(err)
	}
	st, err := fresh.Describe(t.Context(), color.Blue)
	if err != nil || !st.Healthy || st.Ready != 3 {
		t.Errorf("Describe = %+v, %v; want 3/3 healthy", st, err)
	}
}
