package deploy_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/ecstag"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/ecs"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/alb"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// flappingELB is the ELBv2 double as the code under test sees it. On a
// share of the DescribeTargetHealth calls, drawn from a seeded generator,
// one target of the group fails a health check or two before it is healthy
// again, or stays unhealthy until ECS replaces its task, and the call
// already shows it. Health only changes inside those
// calls, so whatever a caller saw last is still true when it writes: a
// listener write that sends traffic to a color whose tasks are not all
// healthy is the caller's fault, and is recorded as such.
type flappingELB struct {
	*awsfake.ELBv2
	ecs *awsfake.ECS

	mu         sync.Mutex
	rng        *rand.Rand
	flap       float64 // share of DescribeTargetHealth calls that flap a target
	startLive  string  // target group serving when the run started: writing back to it is a revert
	flaps      int
	violations []string
}

// DescribeTargetHealth flaps a target, sometimes, then answers.
func (f *flappingELB) DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	f.mu.Lock()
	if f.flap > 0 && f.rng.Float64() < f.flap {
		tg := aws.ToString(in.TargetGroupArn)
		var ids []string
		for id, h := range f.Targets(tg) {
			if h.State != awsfake.Draining.State {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			slices.Sort(ids)
			id := ids[f.rng.IntN(len(ids))]
			switch f.rng.IntN(3) {
			case 0:
				// It stays unhealthy: ECS replaces its task on the next tick.
				f.SetHealth(tg, id, awsfake.Unhealthy)
			default:
				// It fails a check or two, then passes again.
				steps := []awsfake.Health{awsfake.Unhealthy}
				if f.rng.IntN(2) == 0 {
					steps = append(steps, awsfake.Mismatch)
				}
				f.Script(tg, id, append(steps, awsfake.Healthy)...)
			}
			f.flaps++
		}
	}
	f.mu.Unlock()
	return f.ELBv2.DescribeTargetHealth(ctx, in, opts...)
}

// ModifyListener checks, once the write succeeded, every color it sends
// traffic to: its service must run all its tasks, of one deployment, and
// every one of its targets must be healthy.
func (f *flappingELB) ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, opts ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	out, err := f.ELBv2.ModifyListener(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	for _, a := range in.DefaultActions {
		if a.ForwardConfig == nil {
			continue
		}
		for _, tg := range a.ForwardConfig.TargetGroups {
			arn := aws.ToString(tg.TargetGroupArn)
			if aws.ToInt32(tg.Weight) == 0 || arn == f.startLive {
				continue
			}
			if why := f.unservable(arn); why != "" {
				f.mu.Lock()
				f.violations = append(f.violations, fmt.Sprintf("the listener was switched to %s while %s", colorOfTG(arn), why))
				f.mu.Unlock()
			}
		}
	}
	return out, nil
}

// unservable says why the color behind target group tg cannot take
// traffic now, "" when it can.
func (f *flappingELB) unservable(tg string) string {
	svc := f.ecs.Service("prod", "shop-"+colorOfTG(tg))
	if svc == nil {
		return "its service does not exist"
	}
	if svc.DesiredCount == 0 || svc.RunningCount != svc.DesiredCount || svc.PendingCount != 0 || len(svc.Deployments) != 1 {
		return fmt.Sprintf("its service runs %d of %d tasks (%d pending, %d deployments)", svc.RunningCount, svc.DesiredCount, svc.PendingCount, len(svc.Deployments))
	}
	healthy := int32(0)
	for id, h := range f.Targets(tg) {
		switch h.State {
		case elbtypes.TargetHealthStateEnumHealthy:
			healthy++
		case elbtypes.TargetHealthStateEnumDraining:
		default:
			return fmt.Sprintf("target %s is %s (%s)", id, h.State, h.Reason)
		}
	}
	if healthy < svc.DesiredCount {
		return fmt.Sprintf("only %d of %d targets are healthy", healthy, svc.DesiredCount)
	}
	return ""
}

func colorOfTG(tg string) string {
	if tg == blueTG {
		return "blue"
	}
	return "green"
}

// listenerState is the listener as the test reads it, without faults:
// the colors' shares in percent (forward weights 1:0 and 100:0 are the
// same route).
type listenerState struct {
	blue, green int32
	live        string // "" when split or nowhere
}

func (g *awsGround) listenerNow() listenerState {
	b, gr := g.weights()
	s := listenerState{}
	if b+gr > 0 {
		s.blue = b * 100 / (b + gr)
		s.green = 100 - s.blue
	}
	switch {
	case b > 0 && gr == 0:
		s.live = "blue"
	case gr > 0 && b == 0:
		s.live = "green"
	}
	return s
}

// settleReads lets the listener's reads catch up with its last write, as
// time between two runs does: stale reads are used up by reading.
func (g *awsGround) settleReads() {
	for range 10 {
		_, _ = g.elb.DescribeListeners(context.Background(), &elbv2.DescribeListenersInput{ListenerArns: []string{listener}})
	}
}

// imageOf returns the image the color's service runs now, as bluegreen
// tagged its task definition.
func (g *awsGround) imageOf(c string) string {
	svc := g.ecs.Service("prod", "shop-"+c)
	if svc == nil {
		return ""
	}
	return g.ecs.TaskDefinitionTags(aws.ToString(svc.TaskDefinition))[ecs.ImageTag]
}

// awsFaultRun runs command name over the doubles as aws_test.go's run does,
// with the ELBv2 client the code sees replaced by f.
func awsFaultRun(ctx context.Context, g *awsGround, f *flappingELB, name, image string) run {
	groups := map[color.Color]string{color.Blue: blueTG, color.Green: greenTG}
	log := &syncBuffer{}
	p, err := ecs.New(ecs.Config{API: g.ecs, ELB: f, Cluster: "prod", App: "shop", TargetGroups: groups},
		ecs.WithPoll(time.Millisecond), ecs.WithProgressEvery(time.Hour))
	if err != nil {
		return run{err: err, log: log}
	}
	r, err := alb.New(alb.Config{API: f, ListenerARN: listener, TargetGroups: groups}, alb.WithReadBack(5, time.Millisecond))
	if err != nil {
		return run{err: err, log: log}
	}
	// The tag lock, on the ECS double that throttles: its checks before
	// every write meet the faults too. A lock left behind lapses a second
	// after the next run first sees it, within that run's lock-timeout.
	lk, err := ecstag.New(ecstag.Config{API: g.ecs, ClusterARN: g.ecs.ClusterARN("prod"), App: "shop"},
		ecstag.WithDuration(time.Second), ecstag.WithRenew(250*time.Millisecond),
		ecstag.WithSettle(10*time.Millisecond), ecstag.WithPoll(10*time.Millisecond), ecstag.WithWarning(log.warn))
	if err != nil {
		return run{err: err, log: log}
	}
	opts := deploy.Options{
		App: "shop", Release: platform.Release{Image: image}, WaitTimeout: 5 * time.Second, VerifyTimeout: time.Second,
		Poll: time.Millisecond, Grace: 5 * time.Second, LockTimeout: 3 * time.Second, Owner: "fault run",
		RevertBackoff: 5 * time.Millisecond,
	}
	deps := deploy.Deps{Platform: p, Router: r, Reporter: plain.New(log), Checker: &verify.Checker{Interval: time.Millisecond}, Locker: lk}
	res, err := deploy.New(command.Name(name), opts, deps).Execute(ctx)
	return run{res: res, err: err, log: log}
}

// awsInvariants checks one ECS + ALB run against the listener and services
// before and after it. It returns every broken invariant, and notes.
func awsInvariants(g *awsGround, f *flappingELB, command, image string, before, after listenerState, imagesBefore map[string]string, r run) (bad, notes []string) {
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	f.mu.Lock()
	bad = append(bad, f.violations...)
	f.mu.Unlock()

	unchanged := func(why string) {
		if after != before {
			fail("%s, but the listener changed from %+v to %+v", why, before, after)
		}
	}
	sw := stepStatus(r.res, "switch traffic")
	switch {
	case r.err == nil && r.res.Outcome != report.Success:
		fail("no error but outcome %q", r.res.Outcome)
	case r.err == nil && r.res.Changed:
		if after.live == "" || after.live == before.live {
			fail("reported a switch, but the listener forwards %+v (before %+v)", after, before)
			break
		}
		want := image
		if command == "rollback" {
			want = imagesBefore[after.live]
			if r.res.Image != want {
				fail("rollback reports image %q, but %s ran %q", r.res.Image, after.live, want)
			}
		}
		if got := g.imageOf(after.live); got != want {
			fail("reported success, but the listener forwards to %s, whose service runs %q, not %q", after.live, got, want)
		}
	case r.err == nil:
		unchanged("reported success without a change")
		if command == "deploy" && g.imageOf(before.live) != image {
			fail("reported an up-to-date deploy of %q, but %s runs %q", image, before.live, g.imageOf(before.live))
		}
	case sw == "reverted":
		if after != before {
			fail("the switch was reverted, but the listener forwards %+v, not %+v as before", after, before)
		}
	case sw == "revert failed":
		notes = append(notes, "revert failed")
		revertFailed(fail, r)
	case sw == "ok":
		if after.live == before.live {
			fail("the run failed after committing its switch, but the listener did not move (%+v)", after)
		}
	case sw == "failed":
		// A failed switch puts traffic back itself: a write whose
		// read-back stayed stale did land.
		switch {
		case strings.Contains(errText(r.err), "putting traffic back"):
			notes = append(notes, "switch and its own revert failed")
		case after != before:
			fail("the switch failed, but the listener forwards %+v, not %+v as before", after, before)
		}
		switch o := r.res.Outcome; o {
		case report.RevertFailed:
			revertFailed(fail, r)
		case report.Failed, report.RolledBack:
		default:
			fail("the switch failed but the outcome is %q", o)
		}
		if r.res.Outcome == report.Failed && after == before && strings.Contains(errText(r.err), "still reads") {
			notes = append(notes, "reported failed, but traffic moved and was put back")
		}
	default:
		unchanged(fmt.Sprintf("the run failed with the switch %s", sw))
		if r.res.Outcome != report.Failed {
			fail("failed before the switch but the outcome is %q", r.res.Outcome)
		}
	}
	// The lock is released, or the run warned that it could not be.
	if v := g.ecs.ClusterTags("prod")[ecstag.Key("shop")]; v != "" {
		if !strings.Contains(r.log.String(), "releasing the deploy lock") {
			fail("the lock tag %q is left after the run, and the log does not warn of it", v)
		}
		notes = append(notes, "lock left to lapse")
	}
	// The report reads the listener at the end of the run: after a
	// read-back that stayed stale, that read may be stale too.
	switch a := r.res.ActiveColor; {
	case a == "unknown" || after.live == "" || a == after.live:
	case strings.Contains(errText(r.err), "still reads"):
		notes = append(notes, "the report's live color came from a stale read")
	default:
		fail("the report says %s is live, the listener forwards to %s", a, after.live)
	}
	return bad, notes
}
