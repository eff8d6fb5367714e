package ecs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// sight is what one poll of Wait saw.
type sight struct {
	summary string // for progress lines and the final error
	ready   bool
	failed  string // set when the rollout cannot finish any more
	svc     *types.Service
	targets []elbTarget
}

// Wait implements platform.Platform. It polls the color's service (and
// its target group's health) until the deployment Deploy started, or the
// current one, is COMPLETED with every task running and every target
// healthy. It fails early when the rollout FAILED or the circuit breaker
// rolled it back, and at ctx's deadline; either way the error wraps
// platform.ErrNotReady and says what it last saw, with the service's
// recent events and why its tasks stopped.
func (p *Platform) Wait(ctx context.Context, c color.Color, progress func(string)) error {
	name := p.Name(c)
	p.mu.Lock()
	want := p.started[c]
	p.mu.Unlock()
	start := time.Now()
	var last sight
	var said string
	var saidAt time.Time
	throttled := 0
	for {
		s, err := p.look(ctx, c, &want)
		switch {
		case err == nil:
			last = s
			if s.ready {
				return nil
			}
			if s.failed != "" {
				return fmt.Errorf("%w: service %q: %s%s", platform.ErrNotReady, name, s.failed, p.diagnose(ctx, c, want, s))
			}
		case awsapi.IsThrottle(err):
			// The SDK retried already; the next poll is one more retry.
			throttled++
		case ctx.Err() != nil:
			// The deadline passed during the call; reported below.
		default:
			return fmt.Errorf("waiting for service %q: %w", name, err)
		}
		line := fmt.Sprintf("waiting for service %s: %s", name, orNoStatus(last.summary))
		if throttled > 0 {
			line += fmt.Sprintf(" (AWS throttled %d polls)", throttled)
		}
		if line != said || time.Since(saidAt) >= p.progress {
			progress(fmt.Sprintf("%s (%s elapsed)", line, time.Since(start).Round(time.Second)))
			said, saidAt = line, time.Now()
		}
		if err := awsapi.Sleep(ctx, p.poll); err != nil {
			break
		}
	}
	elapsed := time.Since(start).Round(time.Millisecond)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: service %q after %s: %s%s", platform.ErrNotReady, name, elapsed, orNoStatus(last.summary), p.diagnose(ctx, c, want, last))
	}
	return fmt.Errorf("waiting for service %q (%s): %w", name, orNoStatus(last.summary), context.Cause(ctx))
}

func orNoStatus(s string) string {
	if s == "" {
		return "no status read yet"
	}
	return s
}

// look reads the service once and judges its rollout against want, which
// it fills in from the PRIMARY deployment when Deploy did not.
func (p *Platform) look(ctx context.Context, c color.Color, want *rollout) (sight, error) {
	name := p.Name(c)
	svcs, err := p.services(ctx, name)
	if err != nil {
		return sight{}, err
	}
	svc := svcs[name]
	if svc == nil {
		return sight{failed: "the service does not exist"}, nil
	}
	s := sight{svc: svc}
	prim := primary(svc)
	if want.taskDef == "" && prim != nil {
		want.taskDef, want.id, want.created = aws.ToString(prim.TaskDefinition), aws.ToString(prim.Id), aws.ToTime(prim.CreatedAt)
	}
	ours := deployment(svc, *want)
	switch {
	case ours != nil && ours.RolloutState == types.DeploymentRolloutStateFailed:
		s.failed = fmt.Sprintf("deployment %s of %s FAILED (%s)", aws.ToString(ours.Id), revision(want.taskDef), strings.TrimSuffix(aws.ToString(ours.RolloutStateReason), "."))
		if prim != nil && prim != ours {
			s.failed += fmt.Sprintf("; ECS rolled the service back to %s", revision(aws.ToString(prim.TaskDefinition)))
		}
		return s, nil
	case ours == nil && prim != nil && want.id != "" && aws.ToTime(prim.CreatedAt).After(want.created):
		s.failed = fmt.Sprintf("deployment %s of %s is gone and the service now runs %s: rolled back by the circuit breaker, or replaced by another deploy",
			want.id, revision(want.taskDef), revision(aws.ToString(prim.TaskDefinition)))
		return s, nil
	case ours == nil:
		// Reads are eventually consistent: the deployment may not show yet.
		s.summary = fmt.Sprintf("the deployment of %s does not show yet", revision(want.taskDef))
		return s, nil
	case ours != prim:
		s.failed = fmt.Sprintf("deployment %s of %s was superseded by deployment %s of %s",
			aws.ToString(ours.Id), revision(want.taskDef), aws.ToString(prim.Id), revision(aws.ToString(prim.TaskDefinition)))
		return s, nil
	}
	s.summary = fmt.Sprintf("%d/%d tasks of %s running, rollout %s", ours.RunningCount, svc.DesiredCount, revision(want.taskDef), orUnknown(string(ours.RolloutState)))
	if ours.PendingCount > 0 {
		s.summary += fmt.Sprintf(", %d pending", ours.PendingCount)
	}
	if n := len(svc.Deployments) - 1; n > 0 {
		s.summary += fmt.Sprintf(", %d older deployments draining (%d tasks)", n, svc.RunningCount-ours.RunningCount)
	}
	if ours.FailedTasks > 0 {
		s.summary += fmt.Sprintf(", %d tasks failed", ours.FailedTasks)
	}
	done := complete(svc) == ""
	group := p.targetGroup(c, svc)
	if group == "" || p.cfg.ELB == nil {
		s.ready = done
		return s, nil
	}
	if ours.RunningCount == 0 {
		return s, nil // no targets to see yet
	}
	if s.targets, err = p.targets(ctx, group); err != nil {
		return s, err
	}
	healthy, registered := awsapi.CountHealthy(s.targets)
	s.summary += "; " + targetSummary(s.targets, healthy, registered)
	s.ready = done && awsapi.TargetsReady("target group", group, s.targets) == nil && int32(healthy) >= svc.DesiredCount
	return s, nil
}

// deployment finds the deployment of want: by ID when Deploy saw it, else
// by task definition.
func deployment(svc *types.Service, want rollout) *types.Deployment {
	for i := range svc.Deployments {
		d := &svc.Deployments[i]
		if want.id != "" && aws.ToString(d.Id) == want.id {
			return d
		}
		if want.id == "" && aws.ToString(d.TaskDefinition) == want.taskDef {
			return d
		}
	}
	return nil
}

// revision shortens a task definition ARN to family:revision.
func revision(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// targetSummary counts targets by state: "targets 1/2 healthy, 1 initial
// (Elb.RegistrationInProgress)".
func targetSummary(targets []elbTarget, healthy, registered int) string {
	others := map[string]int{}
	var order []string
	for _, t := range targets {
		if t.TargetHealth == nil || t.TargetHealth.State == "healthy" {
			continue
		}
		k := string(t.TargetHealth.State)
		if t.TargetHealth.Reason != "" {
			k += " (" + string(t.TargetHealth.Reason) + ")"
		}
		if others[k] == 0 {
			order = append(order, k)
		}
		others[k]++
	}
	out := fmt.Sprintf("targets %d/%d healthy", healthy, registered)
	for _, k := range order {
		out += fmt.Sprintf(", %d %s", others[k], k)
	}
	return out
}

// diagnose says why the rollout is not ready: the service's telling
// events since the deployment started, why the deployment's tasks
// stopped, and the targets that are not healthy. It uses a fresh context:
// ctx may be the one that expired.
func (p *Platform) diagnose(ctx context.Context, c color.Color, want rollout, last sight) string {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var b strings.Builder
	if last.svc != nil {
		// Newest first; an event ECS repeats is listed once, with a count.
		var order []string
		at, count := map[string]time.Time{}, map[string]int{}
		for _, e := range last.svc.Events {
			if !want.created.IsZero() && aws.ToTime(e.CreatedAt).Before(want.created) {
				break
			}
			msg := aws.ToString(e.Message)
			if routine.MatchString(msg) {
				continue
			}
			if count[msg] == 0 {
				if len(order) == maxEvents {
					break
				}
				order = append(order, msg)
				at[msg] = aws.ToTime(e.CreatedAt)
			}
			count[msg]++
		}
		for _, msg := range order {
			fmt.Fprintf(&b, "\n  event %s: %s", at[msg].UTC().Format(time.TimeOnly), msg)
			if count[msg] > 1 {
				fmt.Fprintf(&b, " (%d times)", count[msg])
			}
		}
	}
	b.WriteString(p.stoppedTasks(dctx, c, want.taskDef))
	for _, t := range last.targets {
		if t.TargetHealth != nil && t.TargetHealth.State != "healthy" {
			fmt.Fprintf(&b, "\n  target %s", awsapi.DescribeTarget(t))
		}
	}
	return b.String()
}

// maxEvents bounds the service events a diagnosis lists.
const maxEvents = 6

// routine matches service events that only count tasks and targets: the
// stopped tasks' own reasons say more.
var routine = regexp.MustCompile(`\) (has started \d+ tasks|has stopped \d+ running tasks|(de)?registered \d+ targets)`)
