package ecs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// ErrNoSource is returned by Deploy when there is neither a task
// definition file nor a service of the application to copy one from.
var ErrNoSource = errors.New("no task definition given and no service of the application exists to copy one from")

// Deploy implements platform.Platform: it registers a task definition
// revision that runs r and points color c's service at it, creating the
// service as a copy of the other color's when it does not exist. It does
// not wait.
func (p *Platform) Deploy(ctx context.Context, c color.Color, r platform.Release, replicas int32) error {
	name, otherName := p.Name(c), p.Name(c.Other())
	svcs, err := p.services(ctx, name, otherName)
	if err != nil {
		return err
	}
	own, other := svcs[name], svcs[otherName]
	for col, s := range map[color.Color]*types.Service{c: own, c.Other(): other} {
		if err := p.check(col, s); err != nil {
			return err
		}
	}
	src, err := p.source(ctx, own, other)
	if err != nil {
		return err
	}
	in, err := withRelease(src, p.cfg.Container, c, r)
	if err != nil {
		return err
	}
	var create *awsecs.CreateServiceInput
	if own == nil {
		if create, err = p.copyService(c, other, replicas); err != nil {
			return err
		}
	}
	if p.dryRun {
		return nil
	}
	reg, err := p.cfg.API.RegisterTaskDefinition(ctx, in)
	if err != nil {
		return fmt.Errorf("registering task definition %q: %w", aws.ToString(in.Family), err)
	}
	arn := aws.ToString(reg.TaskDefinition.TaskDefinitionArn)

	var svc *types.Service
	if create != nil {
		create.TaskDefinition = aws.String(arn)
		out, err := p.cfg.API.CreateService(ctx, create)
		if err != nil {
			return fmt.Errorf("creating service %q as a copy of %q: %w", name, otherName, err)
		}
		svc = out.Service
	} else {
		update := &awsecs.UpdateServiceInput{Cluster: aws.String(p.cfg.Cluster), Service: aws.String(name), TaskDefinition: aws.String(arn)}
		switch {
		case replicas > 0:
			update.DesiredCount = aws.Int32(replicas)
		case own.DesiredCount == 0:
			update.DesiredCount = aws.Int32(1)
		}
		out, err := p.cfg.API.UpdateService(ctx, update)
		if err != nil {
			return fmt.Errorf("updating service %q to %q: %w", name, arn, err)
		}
		svc = out.Service
	}
	started := rollout{taskDef: arn}
	if d := primary(svc); d != nil && aws.ToString(d.TaskDefinition) == arn {
		started.id, started.created = aws.ToString(d.Id), aws.ToTime(d.CreatedAt)
	}
	p.mu.Lock()
	p.started[c] = started
	p.mu.Unlock()
	return nil
}

// check refuses a service bluegreen cannot drive: one with another
// deployment controller, or one registering its tasks in a target group
// other than its color's, which the router would never send traffic to.
func (p *Platform) check(c color.Color, s *types.Service) error {
	if s == nil {
		return nil
	}
	name := aws.ToString(s.ServiceName)
	if s.DeploymentController != nil && s.DeploymentController.Type != types.DeploymentControllerTypeEcs {
		return fmt.Errorf("service %q uses the %s deployment controller; bluegreen drives ECS rolling deployments only", name, s.DeploymentController.Type)
	}
	want := p.cfg.TargetGroups[c]
	if want == "" || len(s.LoadBalancers) == 0 {
		return nil
	}
	for _, lb := range s.LoadBalancers {
		if aws.ToString(lb.TargetGroupArn) == want {
			return nil
		}
	}
	return fmt.Errorf("service %q registers its tasks in target group %q, not in the %s target group %q",
		name, aws.ToString(s.LoadBalancers[0].TargetGroupArn), c, want)
}

// source returns the task definition to deploy from: the file, else the
// other (live) color's, else this color's own.
func (p *Platform) source(ctx context.Context, own, other *types.Service) (*awsecs.RegisterTaskDefinitionInput, error) {
	if p.cfg.TaskDefinition != nil {
		return p.cfg.TaskDefinition, nil
	}
	from := other
	if from == nil {
		from = own
	}
	if from == nil {
		return nil, fmt.Errorf("deploying %q: %w; give a task definition file or create the service %q or %q",
			p.cfg.App, ErrNoSource, p.Name(color.Blue), p.Name(color.Green))
	}
	td, tags, err := p.taskDefinition(ctx, aws.ToString(from.TaskDefinition))
	if err != nil {
		return nil, err
	}
	return inputOf(td, tags), nil
}

// copyService builds the CreateService of color c from the other color's
// service: same network, capacity and deployment settings, its load
// balancer block pointed at c's target group.
func (p *Platform) copyService(c color.Color, other *types.Service, replicas int32) (*awsecs.CreateServiceInput, error) {
	name := p.Name(c)
	if other == nil {
		return nil, fmt.Errorf("service %q does not exist and there is no service %q to create it from; create one of them first", name, p.Name(c.Other()))
	}
	count := replicas
	if count <= 0 {
		count = max(other.DesiredCount, 1)
	}
	in := &awsecs.CreateServiceInput{
		Cluster:                       aws.String(p.cfg.Cluster),
		ServiceName:                   aws.String(name),
		DesiredCount:                  aws.Int32(count),
		CapacityProviderStrategy:      other.CapacityProviderStrategy,
		PlatformVersion:               other.PlatformVersion,
		NetworkConfiguration:          other.NetworkConfiguration,
		DeploymentConfiguration:       other.DeploymentConfiguration,
		HealthCheckGracePeriodSeconds: other.HealthCheckGracePeriodSeconds,
		PlacementConstraints:          other.PlacementConstraints,
		PlacementStrategy:             other.PlacementStrategy,
		PropagateTags:                 other.PropagateTags,
		EnableECSManagedTags:          other.EnableECSManagedTags,
		EnableExecuteCommand:          other.EnableExecuteCommand,
		SchedulingStrategy:            other.SchedulingStrategy,
		Tags:                          ownTags(other.Tags),
	}
	if len(other.CapacityProviderStrategy) == 0 {
		in.LaunchType = other.LaunchType
	}
	if len(other.LoadBalancers) == 0 {
		return in, nil
	}
	tg := p.cfg.TargetGroups[c]
	if tg == "" {
		return nil, fmt.Errorf("service %q does not exist and creating it as a copy of %q needs the %s target group; configure the target groups of both colors",
			name, aws.ToString(other.ServiceName), c)
	}
	otherTG := p.targetGroup(c.Other(), other)
	for _, lb := range other.LoadBalancers {
		if aws.ToString(lb.TargetGroupArn) != otherTG {
			return nil, fmt.Errorf("service %q has a load balancer block for %q (container %q), which is not the %s target group; create %q yourself",
				aws.ToString(other.ServiceName), aws.ToString(lb.TargetGroupArn), aws.ToString(lb.ContainerName), c.Other(), name)
		}
		lb.TargetGroupArn = aws.String(tg)
		in.LoadBalancers = append(in.LoadBalancers, lb)
	}
	return in, nil
}

// ownTags drops the tags AWS manages, which a create may not set.
func ownTags(tags []types.Tag) []types.Tag {
	return slices.DeleteFunc(slices.Clone(tags), func(t types.Tag) bool {
		return strings.HasPrefix(strings.ToLower(aws.ToString(t.Key)), "aws:")
	})
}
