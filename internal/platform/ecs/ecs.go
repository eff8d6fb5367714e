package ecs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// API is the part of the ECS client the platform uses.
type API interface {
	DescribeServices(context.Context, *awsecs.DescribeServicesInput, ...func(*awsecs.Options)) (*awsecs.DescribeServicesOutput, error)
	CreateService(context.Context, *awsecs.CreateServiceInput, ...func(*awsecs.Options)) (*awsecs.CreateServiceOutput, error)
	UpdateService(context.Context, *awsecs.UpdateServiceInput, ...func(*awsecs.Options)) (*awsecs.UpdateServiceOutput, error)
	RegisterTaskDefinition(context.Context, *awsecs.RegisterTaskDefinitionInput, ...func(*awsecs.Options)) (*awsecs.RegisterTaskDefinitionOutput, error)
	DescribeTaskDefinition(context.Context, *awsecs.DescribeTaskDefinitionInput, ...func(*awsecs.Options)) (*awsecs.DescribeTaskDefinitionOutput, error)
	ListTasks(context.Context, *awsecs.ListTasksInput, ...func(*awsecs.Options)) (*awsecs.ListTasksOutput, error)
	DescribeTasks(context.Context, *awsecs.DescribeTasksInput, ...func(*awsecs.Options)) (*awsecs.DescribeTasksOutput, error)
}

// ELB is the part of the ELBv2 client the platform uses to see its
// tasks' targets.
type ELB interface {
	DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

var (
	_ API               = (*awsecs.Client)(nil)
	_ ELB               = (*elbv2.Client)(nil)
	_ platform.Platform = (*Platform)(nil)
)

// Config holds what the platform needs.
type Config struct {
	API API
	// ELB, when set, lets the platform check its tasks' targets. Without
	// it readiness is ECS's own verdict only.
	ELB     ELB
	Cluster string
	// App names the application: its colors are the services
	// "<App>-blue" and "<App>-green".
	App string
	// Container names the container that gets the image; empty means
	// the first essential one.
	Container string
	// TaskDefinition, when set, is what every deploy registers (with the
	// image replaced); see ParseTaskDefinition. Otherwise a deploy copies
	// the live color's task definition.
	TaskDefinition *awsecs.RegisterTaskDefinitionInput
	// TargetGroups holds each color's target group ARN. When empty, a
	// color's target group is read from its service's load balancers;
	// creating a missing service needs it.
	TargetGroups map[color.Color]string
}

// Platform implements platform.Platform on ECS.
type Platform struct {
	cfg      Config
	dryRun   bool
	poll     time.Duration
	progress time.Duration

	mu      sync.Mutex
	started map[color.Color]rollout
}

// rollout is the deployment a Deploy started, for the Wait that follows.
type rollout struct {
	taskDef, id string
	created     time.Time
}

// Option tunes a Platform.
type Option func(*Platform)

// WithDryRun makes Deploy and Scale read and validate everything but
// write nothing.
func WithDryRun(on bool) Option { return func(p *Platform) { p.dryRun = on } }

// WithPoll sets the base interval of Wait's polls (jittered ±20%);
// default awsapi.DefaultPoll.
func WithPoll(d time.Duration) Option { return func(p *Platform) { p.poll = d } }

// WithProgressEvery sets how often Wait repeats an unchanged progress
// line; a change is reported at once. Default 15 s.
func WithProgressEvery(d time.Duration) Option { return func(p *Platform) { p.progress = d } }

// DryRun reports whether writes are validated and built but not sent.
func (p *Platform) DryRun() bool { return p.dryRun }

// New returns the platform for cfg.
func New(cfg Config, opts ...Option) (*Platform, error) {
	switch {
	case cfg.API == nil:
		return nil, errors.New("ecs platform: no ECS client")
	case cfg.Cluster == "":
		return nil, errors.New("ecs platform: no cluster")
	case cfg.App == "":
		return nil, errors.New("ecs platform: no app name")
	}
	p := &Platform{cfg: cfg, poll: awsapi.DefaultPoll, progress: 15 * time.Second, started: map[color.Color]rollout{}}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// Name is the service of color c.
func (p *Platform) Name(c color.Color) string { return p.cfg.App + "-" + string(c) }

// services reads the named services; those that do not exist (or are
// being deleted) are absent from the map.
func (p *Platform) services(ctx context.Context, names ...string) (map[string]*types.Service, error) {
	out, err := p.cfg.API.DescribeServices(ctx, &awsecs.DescribeServicesInput{
		Cluster: aws.String(p.cfg.Cluster), Services: names, Include: []types.ServiceField{types.ServiceFieldTags},
	})
	if err != nil {
		return nil, fmt.Errorf("describing services %q in cluster %q: %w", names, p.cfg.Cluster, err)
	}
	for _, f := range out.Failures {
		if reason := aws.ToString(f.Reason); reason != "MISSING" {
			return nil, fmt.Errorf("describing service %q in cluster %q: %s %s", aws.ToString(f.Arn), p.cfg.Cluster, reason, aws.ToString(f.Detail))
		}
	}
	found := map[string]*types.Service{}
	for i := range out.Services {
		s := &out.Services[i]
		if aws.ToString(s.Status) == "ACTIVE" {
			found[aws.ToString(s.ServiceName)] = s
		}
	}
	return found, nil
}

// targetGroup returns color c's target group: configured, or read from
// its service's load balancers. "" means unknown.
func (p *Platform) targetGroup(c color.Color, svc *types.Service) string {
	if tg := p.cfg.TargetGroups[c]; tg != "" {
		return tg
	}
	if svc != nil {
		for _, lb := range svc.LoadBalancers {
			if tg := aws.ToString(lb.TargetGroupArn); tg != "" {
				return tg
			}
		}
	}
	return ""
}

type elbTarget = elbtypes.TargetHealthDescription

// primary returns the service's PRIMARY deployment, or nil.
func primary(svc *types.Service) *types.Deployment {
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Status) == "PRIMARY" {
			return &svc.Deployments[i]
		}
	}
	return nil
}

// complete returns "" when ECS considers the service's rollout done: one
// deployment, COMPLETED, every desired task running. Otherwise it says
// what is missing.
func complete(svc *types.Service) string {
	d := primary(svc)
	switch {
	case d == nil:
		return "no PRIMARY deployment"
	case d.RolloutState == types.DeploymentRolloutStateFailed:
		return "rollout FAILED: " + aws.ToString(d.RolloutStateReason)
	case len(svc.Deployments) > 1:
		return fmt.Sprintf("%d deployments, older tasks still running", len(svc.Deployments))
	case d.RolloutState != types.DeploymentRolloutStateCompleted:
		return fmt.Sprintf("rollout %s", orUnknown(string(d.RolloutState)))
	case svc.DesiredCount == 0:
		return "scaled to 0"
	case svc.RunningCount != svc.DesiredCount || svc.PendingCount > 0:
		return fmt.Sprintf("%d/%d tasks running", svc.RunningCount, svc.DesiredCount)
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "state unknown"
	}
	return s
}

// Describe implements platform.Platform.
func (p *Platform) Describe(ctx context.Context, c color.Color) (platform.ColorState, error) {
	name := p.Name(c)
	svcs, err := p.services(ctx, name)
	if err != nil {
		return platform.ColorState{}, err
	}
	svc := svcs[name]
	if svc == nil {
		return platform.ColorState{Color: c}, nil
	}
	st := platform.ColorState{
		Color: c, Exists: true, Desired: svc.DesiredCount, Available: svc.RunningCount, Created: aws.ToTime(svc.CreatedAt),
		// The revision is the whole of what a service runs: a change by
		// hand registers another one.
		Spec: aws.ToString(svc.TaskDefinition),
	}
	if d := primary(svc); d != nil {
		st.Updated, st.Ready, st.Restarts = d.RunningCount, d.RunningCount, d.FailedTasks
	}
	td, tags, err := p.taskDefinition(ctx, aws.ToString(svc.TaskDefinition))
	if err != nil {
		return platform.ColorState{}, err
	}
	st.Release = releaseOf(td, tags, p.cfg.Container)
	st.Healthy = complete(svc) == ""
	if tg := p.targetGroup(c, svc); tg != "" && p.cfg.ELB != nil && svc.DesiredCount > 0 {
		targets, err := p.targets(ctx, tg)
		if err != nil {
			return platform.ColorState{}, err
		}
		healthy, _ := awsapi.CountHealthy(targets)
		st.Ready = min(st.Ready, int32(healthy))
		if awsapi.TargetsReady("target group", tg, targets) != nil || int32(healthy) < svc.DesiredCount {
			st.Healthy = false
		}
	}
	return st, nil
}

func (p *Platform) targets(ctx context.Context, tg string) ([]elbTarget, error) {
	out, err := p.cfg.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return nil, fmt.Errorf("reading target health of %q: %w", tg, err)
	}
	return out.TargetHealthDescriptions, nil
}

// taskDefinition reads a task definition with its tags.
func (p *Platform) taskDefinition(ctx context.Context, ref string) (*types.TaskDefinition, []types.Tag, error) {
	out, err := p.cfg.API.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("describing task definition %q: %w", ref, err)
	}
	return out.TaskDefinition, out.Tags, nil
}

// Scale implements platform.Platform: only the desired count changes.
func (p *Platform) Scale(ctx context.Context, c color.Color, replicas int32) error {
	if p.dryRun {
		return nil
	}
	_, err := p.cfg.API.UpdateService(ctx, &awsecs.UpdateServiceInput{
		Cluster: aws.String(p.cfg.Cluster), Service: aws.String(p.Name(c)), DesiredCount: aws.Int32(replicas),
	})
	if err != nil {
		return fmt.Errorf("scaling service %q to %d tasks: %w", p.Name(c), replicas, err)
	}
	return nil
}
