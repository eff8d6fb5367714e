package awsfake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type service struct {
	cluster *cluster
	svc     types.Service // configuration; counts and deployments are derived
	deploys []*deployment // PRIMARY first
	events  []types.ServiceEvent
	// completed is the task definition of the last deployment that
	// completed, which a circuit-breaker rollback returns to.
	completed string
}

type deployment struct {
	id       string
	status   string // PRIMARY, ACTIVE
	taskDef  string
	desired  int32
	failed   int32
	rollout  types.DeploymentRolloutState
	reason   string
	created  time.Time
	draining bool // its tasks were told to stop; removed on the next tick
}

func (s *service) primary() *deployment { return s.deploys[0] }

func (f *ECS) serviceARN(cluster, name string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", f.region, f.account, cluster, name)
}

func serviceName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// CreateService implements the ECS API.
func (f *ECS) CreateService(_ context.Context, in *ecs.CreateServiceInput, _ ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error) {
	const op = "CreateService"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.cluster(op, deref(in.Cluster))
	if err != nil {
		return nil, err
	}
	name := deref(in.ServiceName)
	if name == "" {
		return nil, f.invalidParam(op, "Service name should not be null or empty.")
	}
	if s := c.services[name]; s != nil && deref(s.svc.Status) == "ACTIVE" {
		return nil, f.invalidParam(op, "Creation of service was not idempotent.")
	}
	td := f.taskDef(deref(in.TaskDefinition))
	if td == nil {
		return nil, f.invalidParam(op, "TaskDefinition not found.")
	}
	if in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0 {
		return nil, f.invalidParam(op, "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if td.def.NetworkMode == types.NetworkModeAwsvpc && in.NetworkConfiguration == nil {
		return nil, f.invalidParam(op, "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	if err := f.validLoadBalancers(op, in.LoadBalancers, td); err != nil {
		return nil, err
	}
	desired := int32(1)
	if in.DesiredCount != nil {
		desired = *in.DesiredCount
	}
	s := &service{cluster: c, svc: types.Service{
		ServiceName:                   ptr(name),
		ServiceArn:                    ptr(f.serviceARN(c.name, name)),
		ClusterArn:                    ptr(f.ClusterARN(c.name)),
		Status:                        ptr("ACTIVE"),
		TaskDefinition:                td.def.TaskDefinitionArn,
		DesiredCount:                  desired,
		LaunchType:                    in.LaunchType,
		CapacityProviderStrategy:      in.CapacityProviderStrategy,
		PlatformVersion:               in.PlatformVersion,
		NetworkConfiguration:          in.NetworkConfiguration,
		LoadBalancers:                 slices.Clone(in.LoadBalancers),
		DeploymentConfiguration:       in.DeploymentConfiguration,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
		PropagateTags:                 in.PropagateTags,
		EnableECSManagedTags:          in.EnableECSManagedTags,
		EnableExecuteCommand:          in.EnableExecuteCommand,
		SchedulingStrategy:            types.SchedulingStrategyReplica,
		DeploymentController:          &types.DeploymentController{Type: types.DeploymentControllerTypeEcs},
		CreatedAt:                     ptr(f.now),
		Tags:                          in.Tags,
	}}
	s.deploys = []*deployment{f.newDeployment(deref(td.def.TaskDefinitionArn), desired)}
	c.services[name] = s
	return &ecs.CreateServiceOutput{Service: f.view(s, false)}, nil
}

func (f *ECS) validLoadBalancers(op string, lbs []types.LoadBalancer, td *taskDef) error {
	for _, lb := range lbs {
		tg := deref(lb.TargetGroupArn)
		if f.elb != nil && !f.elb.HasTargetGroup(tg) {
			return f.invalidParam(op, "Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.")
		}
		if f.elb != nil && !f.elb.InUse(tg) {
			return f.invalidParam(op, "The target group with targetGroupArn %s does not have an associated load balancer.", tg)
		}
		found := false
		for _, c := range td.def.ContainerDefinitions {
			found = found || deref(c.Name) == deref(lb.ContainerName)
		}
		if !found {
			return f.invalidParam(op, "The container %s does not exist in the task definition.", deref(lb.ContainerName))
		}
	}
	return nil
}

func (f *ECS) newDeployment(taskDef string, desired int32) *deployment {
	f.seq++
	return &deployment{
		id: fmt.Sprintf("ecs-svc/%019d", 1000+f.seq), status: "PRIMARY", taskDef: taskDef,
		desired: desired, rollout: types.DeploymentRolloutStateInProgress, reason: "ECS deployment in progress.", created: f.now,
	}
}

// UpdateService implements the ECS API. A new task definition (or a
// forced deployment) starts a new PRIMARY deployment; the previous one
// stays ACTIVE until its tasks are drained. A count alone scales the
// PRIMARY deployment.
func (f *ECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	const op = "UpdateService"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.cluster(op, deref(in.Cluster))
	if err != nil {
		return nil, err
	}
	s := c.services[serviceName(deref(in.Service))]
	if s == nil {
		return nil, f.fail(op, &types.ServiceNotFoundException{Message: ptr("Service not found.")})
	}
	if deref(s.svc.Status) != "ACTIVE" {
		return nil, f.fail(op, &types.ServiceNotActiveException{Message: ptr("Service was not ACTIVE.")})
	}
	if in.DesiredCount != nil {
		if *in.DesiredCount < 0 {
			return nil, f.invalidParam(op, "Desired count must be greater than or equal to 0.")
		}
		s.svc.DesiredCount = *in.DesiredCount
	}
	newDef := deref(s.svc.TaskDefinition)
	if in.TaskDefinition != nil {
		td := f.taskDef(*in.TaskDefinition)
		if td == nil {
			return nil, f.invalidParam(op, "TaskDefinition not found.")
		}
		newDef = deref(td.def.TaskDefinitionArn)
	}
	if newDef != deref(s.svc.TaskDefinition) || in.ForceNewDeployment {
		for _, d := range s.deploys {
			d.status = "ACTIVE"
		}
		s.deploys = append([]*deployment{f.newDeployment(newDef, s.svc.DesiredCount)}, s.deploys...)
		s.svc.TaskDefinition = ptr(newDef)
	}
	s.primary().desired = s.svc.DesiredCount
	return &ecs.UpdateServiceOutput{Service: f.view(s, false)}, nil
}

// DescribeServices implements the ECS API. A service that does not exist
// is not an error but a failure with reason MISSING.
func (f *ECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	const op = "DescribeServices"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.cluster(op, deref(in.Cluster))
	if err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, f.invalidParam(op, "Services must contain 1 to 10 names, got %d.", len(in.Services))
	}
	f.describes++
	if f.autoTick > 0 && f.describes%f.autoTick == 0 {
		f.tick()
	}
	out := &ecs.DescribeServicesOutput{}
	for _, ref := range in.Services {
		s := c.services[serviceName(ref)]
		if s == nil {
			out.Failures = append(out.Failures, types.Failure{Arn: ptr(f.serviceARN(c.name, serviceName(ref))), Reason: ptr("MISSING")})
			continue
		}
		out.Services = append(out.Services, *f.view(s, slices.Contains(in.Include, types.ServiceFieldTags)))
	}
	return out, nil
}

// view is the service as DescribeServices shows it, with counts derived
// from its tasks.
func (f *ECS) view(s *service, tags bool) *types.Service {
	v := s.svc
	if !tags {
		v.Tags = nil
	}
	v.LoadBalancers = slices.Clone(s.svc.LoadBalancers)
	v.RunningCount, v.PendingCount = 0, 0
	for _, d := range s.deploys {
		run, pend := s.cluster.count(deref(s.svc.ServiceName), d.id)
		v.RunningCount += run
		v.PendingCount += pend
		v.Deployments = append(v.Deployments, types.Deployment{
			Id: ptr(d.id), Status: ptr(d.status), TaskDefinition: ptr(d.taskDef),
			DesiredCount: d.desired, RunningCount: run, PendingCount: pend, FailedTasks: d.failed,
			RolloutState: d.rollout, RolloutStateReason: ptr(d.reason),
			CreatedAt: ptr(d.created), UpdatedAt: ptr(f.now), LaunchType: s.svc.LaunchType,
			NetworkConfiguration: s.svc.NetworkConfiguration,
		})
	}
	v.Events = slices.Clone(s.events)
	slices.Reverse(v.Events) // newest first, as ECS lists them
	if len(v.Events) > 100 {
		v.Events = v.Events[:100]
	}
	return &v
}

// ListTasks implements the ECS API for a cluster's tasks, optionally of
// one service and one desired status (RUNNING by default).
func (f *ECS) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	const op = "ListTasks"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.cluster(op, deref(in.Cluster))
	if err != nil {
		return nil, err
	}
	name := deref(in.ServiceName)
	if name != "" && c.services[name] == nil {
		return nil, f.fail(op, &types.ServiceNotFoundException{Message: ptr("Service not found.")})
	}
	want := string(in.DesiredStatus)
	if want == "" {
		want = string(types.DesiredStatusRunning)
	}
	out := &ecs.ListTasksOutput{}
	for _, t := range c.tasks {
		if (name == "" || t.service == name) && t.desiredStatus == want && (in.StartedBy == nil || *in.StartedBy == t.deployment) {
			out.TaskArns = append(out.TaskArns, t.arn)
		}
	}
	return out, nil
}

// DescribeTasks implements the ECS API.
func (f *ECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	const op = "DescribeTasks"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.cluster(op, deref(in.Cluster))
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, f.invalidParam(op, "Tasks must contain 1 to 100 ARNs, got %d.", len(in.Tasks))
	}
	out := &ecs.DescribeTasksOutput{}
	for _, ref := range in.Tasks {
		t := c.task(ref)
		if t == nil {
			out.Failures = append(out.Failures, types.Failure{Arn: ptr(ref), Reason: ptr("MISSING")})
			continue
		}
		out.Tasks = append(out.Tasks, t.view(f.ClusterARN(c.name)))
	}
	return out, nil
}
