package awsfake

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type task struct {
	arn, service, deployment, taskDef, container, image, ip string
	port                                                    int32
	lastStatus, desiredStatus                               string
	stoppedReason                                           string
	stopCode                                                types.TaskStopCode
	exitCode                                                *int32
	groups                                                  []string // target groups it is registered in
	created, stopped                                        time.Time
	run                                                     *runTask // set when RunTask started it; see ecs_runtask.go
}

const (
	statusPending = "PENDING"
	statusRunning = "RUNNING"
	statusStopped = "STOPPED"
)

func (c *cluster) count(service, deployment string) (running, pending int32) {
	for _, t := range c.tasks {
		if t.service != service || t.deployment != deployment || t.desiredStatus != statusRunning {
			continue
		}
		if t.lastStatus == statusRunning {
			running++
		} else {
			pending++
		}
	}
	return running, pending
}

func (c *cluster) task(ref string) *task {
	for _, t := range c.tasks {
		if t.arn == ref || strings.HasSuffix(t.arn, "/"+ref) {
			return t
		}
	}
	return nil
}

func (t *task) view(clusterARN string) types.Task {
	if t.run != nil {
		return t.runView(clusterARN)
	}
	v := types.Task{
		TaskArn: ptr(t.arn), ClusterArn: ptr(clusterARN), TaskDefinitionArn: ptr(t.taskDef),
		Group: ptr("service:" + t.service), StartedBy: ptr(t.deployment),
		LastStatus: ptr(t.lastStatus), DesiredStatus: ptr(t.desiredStatus), CreatedAt: ptr(t.created),
		Containers: []types.Container{{Name: ptr(t.container), Image: ptr(t.image), LastStatus: ptr(t.lastStatus), ExitCode: t.exitCode}},
	}
	if t.stoppedReason != "" {
		v.StoppedReason, v.StopCode, v.StoppedAt = ptr(t.stoppedReason), t.stopCode, ptr(t.stopped)
		if t.exitCode != nil {
			v.Containers[0].Reason = ptr(fmt.Sprintf("Essential container exited with code %d", *t.exitCode))
		}
	}
	return v
}

func shortID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// Tick advances every service by one step of the ECS scheduler: pending
// tasks start (or crash), new targets finish their first health checks,
// unhealthy tasks are replaced, a deployment whose tasks are all running
// and healthy drains the older ones and then completes, and the circuit
// breaker fails (and may roll back) a deployment with too many failed
// tasks.
func (f *ECS) Tick() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tick()
}

// Settle ticks until no deployment is in progress, at most 100 times, and
// returns the number of ticks.
func (f *ECS) Settle() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := 1; n <= 100; n++ {
		f.tick()
		if f.steady() {
			return n
		}
	}
	return 100
}

func (f *ECS) steady() bool {
	for _, c := range f.clusters {
		for _, s := range c.services {
			if len(s.deploys) > 1 || s.primary().rollout == types.DeploymentRolloutStateInProgress {
				return false
			}
		}
	}
	return true
}

func (f *ECS) tick() {
	f.now = f.now.Add(15 * time.Second)
	for _, cn := range slices.Sorted(maps.Keys(f.clusters)) {
		c := f.clusters[cn]
		for _, sn := range slices.Sorted(maps.Keys(c.services)) {
			if s := c.services[sn]; deref(s.svc.Status) == "ACTIVE" {
				f.step(s)
			}
		}
	}
	f.tickRunTasks()
}

func (f *ECS) event(s *service, format string, args ...any) {
	f.seq++
	s.events = append(s.events, types.ServiceEvent{
		Id: ptr(fmt.Sprintf("ev-%d", f.seq)), CreatedAt: ptr(f.now),
		Message: ptr(fmt.Sprintf("(service %s) ", deref(s.svc.ServiceName)) + fmt.Sprintf(format, args...)),
	})
}

func (f *ECS) step(s *service) {
	name := deref(s.svc.ServiceName)
	// Deployments drained on the previous tick are gone, and so are the
	// targets that were draining.
	p := s.primary()
	s.deploys = slices.DeleteFunc(s.deploys, func(d *deployment) bool { return d.draining && d != p })
	for _, lb := range s.svc.LoadBalancers {
		if f.elb != nil {
			f.elb.FinishDraining(deref(lb.TargetGroupArn))
		}
	}
	for _, t := range s.cluster.tasks {
		if t.service == name && t.desiredStatus == statusRunning {
			f.advance(s, t)
		}
	}
	if p.rollout == types.DeploymentRolloutStateInProgress && f.breaker(s) && p.failed >= threshold(p.desired) {
		f.failDeployment(s, p)
		p = s.primary()
	}
	if p.rollout != types.DeploymentRolloutStateFailed {
		f.scale(s, p)
	}
	if p.rollout == types.DeploymentRolloutStateFailed || !f.allHealthy(s, p) {
		return
	}
	if len(s.deploys) > 1 {
		for _, d := range s.deploys[1:] {
			if !d.draining {
				f.stopDeployment(s, d, fmt.Sprintf("Scaling activity initiated by (deployment %s)", p.id))
				d.draining = true
			}
		}
		return
	}
	if p.rollout == types.DeploymentRolloutStateInProgress {
		p.rollout, p.reason = types.DeploymentRolloutStateCompleted, fmt.Sprintf("ECS deployment %s completed.", p.id)
		s.completed = p.taskDef
		f.event(s, "(deployment %s) deployment completed.", p.id)
		f.event(s, "has reached a steady state.")
	}
}

// breaker reports whether the service's deployment circuit breaker is on.
func (f *ECS) breaker(s *service) bool {
	dc := s.svc.DeploymentConfiguration
	return dc != nil && dc.DeploymentCircuitBreaker != nil && dc.DeploymentCircuitBreaker.Enable
}

// threshold is the circuit breaker's failed-task threshold: half the
// desired count, at least 3 and at most 200.
func threshold(desired int32) int32 { return max(3, min(200, (desired+1)/2)) }

func (f *ECS) failDeployment(s *service, p *deployment) {
	p.rollout, p.reason = types.DeploymentRolloutStateFailed, "ECS deployment circuit breaker: tasks failed to start."
	f.event(s, "(deployment %s) deployment failed: tasks failed to start.", p.id)
	dc := s.svc.DeploymentConfiguration
	if !dc.DeploymentCircuitBreaker.Rollback || s.completed == "" || s.completed == p.taskDef {
		return
	}
	back := f.newDeployment(s.completed, s.svc.DesiredCount)
	p.status = "ACTIVE"
	s.deploys = append([]*deployment{back}, s.deploys...)
	s.svc.TaskDefinition = ptr(s.completed)
	f.event(s, "rolling back to deployment %s.", back.id)
}

// advance moves one task along: a pending task starts or crashes, a new
// target finishes its first health checks, an unhealthy task is stopped.
func (f *ECS) advance(s *service, t *task) {
	d := s.deployment(t.deployment)
	outcome := f.outcomes[t.image]
	switch {
	case t.lastStatus == statusPending && outcome == Crashes:
		f.stopTask(s, t, "Essential container in task exited", types.TaskStopCodeEssentialContainerExited, ptr(int32(1)))
		if d != nil {
			d.failed++
		}
	case t.lastStatus == statusPending:
		t.lastStatus = statusRunning
		for _, lb := range s.svc.LoadBalancers {
			if f.elb != nil && deref(lb.ContainerName) == t.container {
				tg := deref(lb.TargetGroupArn)
				f.elb.Register(tg, t.port, t.ip)
				t.groups = append(t.groups, tg)
				f.event(s, "registered 1 targets in (target-group %s)", tg)
			}
		}
	default:
		for _, tg := range t.groups {
			switch f.elb.Targets(tg)[t.ip].State {
			case Initial.State:
				h := Healthy
				if outcome == FailsHealthChecks {
					h = Unhealthy
				}
				f.elb.SetHealth(tg, t.ip, h)
			case Unhealthy.State:
				f.event(s, "(port %d) is unhealthy in (target-group %s) due to (reason Health checks failed).", t.port, tg)
				f.stopTask(s, t, fmt.Sprintf("Task failed ELB health checks in (target-group %s)", tg), types.TaskStopCodeServiceSchedulerInitiated, nil)
				if d != nil {
					d.failed++
				}
				return
			}
		}
	}
}

func (s *service) deployment(id string) *deployment {
	for _, d := range s.deploys {
		if d.id == id {
			return d
		}
	}
	return nil
}

// scale starts or stops tasks of the PRIMARY deployment to match its
// desired count.
func (f *ECS) scale(s *service, p *deployment) {
	name := deref(s.svc.ServiceName)
	var live []*task
	for _, t := range s.cluster.tasks {
		if t.service == name && t.deployment == p.id && t.desiredStatus == statusRunning {
			live = append(live, t)
		}
	}
	for _, t := range live[min(int(p.desired), len(live)):] {
		f.stopTask(s, t, fmt.Sprintf("Scaling activity initiated by (deployment %s)", p.id), types.TaskStopCodeServiceSchedulerInitiated, nil)
	}
	var started []string
	for range int(p.desired) - len(live) {
		t := f.newTask(s, p)
		s.cluster.tasks = append(s.cluster.tasks, t)
		started = append(started, "(task "+shortID(t.arn)+")")
	}
	if len(started) > 0 {
		f.event(s, "has started %d tasks: %s.", len(started), strings.Join(started, " "))
	}
}

func (f *ECS) newTask(s *service, d *deployment) *task {
	f.seq++
	t := &task{
		arn:     fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%032x", f.region, f.account, s.cluster.name, f.seq),
		service: deref(s.svc.ServiceName), deployment: d.id, taskDef: d.taskDef,
		ip: fmt.Sprintf("10.0.%d.%d", f.seq/250, f.seq%250+1), lastStatus: statusPending, desiredStatus: statusRunning, created: f.now,
	}
	if td := f.taskDef(d.taskDef); td != nil {
		c := td.def.ContainerDefinitions[0]
		for _, lb := range s.svc.LoadBalancers {
			for _, cd := range td.def.ContainerDefinitions {
				if deref(cd.Name) == deref(lb.ContainerName) {
					c, t.port = cd, deref(lb.ContainerPort)
				}
			}
		}
		t.container, t.image = deref(c.Name), deref(c.Image)
	}
	return t
}

func (f *ECS) stopTask(s *service, t *task, reason string, code types.TaskStopCode, exit *int32) {
	t.lastStatus, t.desiredStatus, t.stoppedReason, t.stopCode, t.exitCode = statusStopped, statusStopped, reason, code, exit
	t.stopped = f.now
	for _, tg := range t.groups {
		f.elb.Deregister(tg, t.ip)
	}
	f.event(s, "has stopped 1 running tasks: (task %s).", shortID(t.arn))
}

func (f *ECS) stopDeployment(s *service, d *deployment, reason string) {
	for _, t := range s.cluster.tasks {
		if t.service == deref(s.svc.ServiceName) && t.deployment == d.id && t.desiredStatus == statusRunning {
			f.stopTask(s, t, reason, types.TaskStopCodeServiceSchedulerInitiated, nil)
		}
	}
}

// allHealthy reports whether the deployment runs its desired count, every
// task running and, behind a load balancer, healthy.
func (f *ECS) allHealthy(s *service, d *deployment) bool {
	n := int32(0)
	for _, t := range s.cluster.tasks {
		if t.service != deref(s.svc.ServiceName) || t.deployment != d.id || t.desiredStatus != statusRunning {
			continue
		}
		if t.lastStatus != statusRunning {
			return false
		}
		for _, tg := range t.groups {
			if f.elb.Targets(tg)[t.ip].State != Healthy.State {
				return false
			}
		}
		n++
	}
	return n == d.desired
}

// Service returns the service as DescribeServices shows it, without
// recording a call or advancing time; nil when it does not exist.
func (f *ECS) Service(clusterName, name string) *types.Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clusters[clusterName]
	if c == nil || c.services[name] == nil {
		return nil
	}
	return f.view(c.services[name], true)
}
