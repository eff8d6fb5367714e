package awsfake

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// RunOutcome is what a task started by RunTask does with its command.
type RunOutcome struct {
	// ExitCode is the exit code of the container that runs the command.
	ExitCode int32
	// Ticks is how many ticks the command runs before it exits; 0 means
	// one. A negative number runs it until StopTask.
	Ticks int
	// StartFailure, when set, stops the task before its containers start,
	// as a failed image pull or a missing secret does: the stopped reason
	// and the containers' reason are this text, and no container has an
	// exit code.
	StartFailure string
}

// runTasks is the state RunTask keeps in an ECS double.
type runTasks struct {
	outcomes []runOutcome
	tokens   map[string]runToken // by cluster name + "/" + client token
}

type runOutcome struct {
	match   string
	outcome RunOutcome
}

// runToken is what a client token was first used for.
type runToken struct {
	params string
	arns   []string
}

// runTask is what a task started by RunTask holds besides the fields
// every task has.
type runTask struct {
	group, startedBy, subnet string
	launchType               types.LaunchType
	overrides                *types.TaskOverride
	awsvpc                   bool
	containers               []runContainer
	cmd                      int // index of the container that runs the command
	outcome                  RunOutcome
	ran                      int // ticks spent RUNNING
	started, stopping        time.Time
}

type runContainer struct {
	name, image, lastStatus, reason string
	essential                       bool
	exitCode                        *int32
}

// Task states beyond those of service tasks. ECS documents the whole
// lifecycle as PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING,
// STOPPING, DEPROVISIONING, STOPPED; the double skips the transient ones
// a poller rarely sees.
const (
	statusProvisioning   = "PROVISIONING"
	statusStopping       = "STOPPING"
	statusDeprovisioning = "DEPROVISIONING"
)

// exitSIGTERM is the exit code of a container that ECS stopped with
// SIGTERM and that did not exit by itself: 128 + 15.
const exitSIGTERM = 143

// SetRunOutcome sets what a task started by RunTask does when the
// command of its container (the override's, else the task definition's),
// joined by spaces, contains match; "" matches every command. The
// outcome set last wins. With no outcome set the command exits 0 after
// one tick.
func (f *ECS) SetRunOutcome(match string, o RunOutcome) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.run.outcomes = append(f.run.outcomes, runOutcome{match: match, outcome: o})
}

func (f *ECS) runOutcome(command []string) RunOutcome {
	joined := strings.Join(command, " ")
	for _, o := range slices.Backward(f.run.outcomes) {
		if strings.Contains(joined, o.match) {
			return o.outcome
		}
	}
	return RunOutcome{}
}

var startedByRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{0,128}$`)

// RunTask implements the ECS API for one or more tasks outside any
// service. Tasks start PROVISIONING (awsvpc) or PENDING and move on with
// each Tick. A client token makes the call idempotent within a cluster:
// the same token with the same parameters returns the first call's
// tasks, with other parameters a ConflictException.
func (f *ECS) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	const op = "RunTask"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.cluster(op, deref(in.Cluster))
	if err != nil {
		return nil, err
	}
	token, params := deref(in.ClientToken), runParams(in)
	if token != "" {
		if len(token) > 64 {
			return nil, f.invalidParam(op, "clientToken must be at most 64 characters.")
		}
		if prev, ok := f.run.tokens[c.name+"/"+token]; ok {
			if prev.params != params {
				return nil, f.fail(op, &types.ConflictException{Message: ptr("The client token was used before with different parameters.")})
			}
			out := &ecs.RunTaskOutput{}
			for _, arn := range prev.arns {
				out.Tasks = append(out.Tasks, c.task(arn).view(f.ClusterARN(c.name)))
			}
			return out, nil
		}
	}
	ref := deref(in.TaskDefinition)
	if ref == "" {
		return nil, f.invalidParam(op, "TaskDefinition can not be blank.")
	}
	td := f.taskDef(ref)
	if td == nil {
		return nil, f.invalidParam(op, "TaskDefinition not found.")
	}
	if err := f.validRun(op, in, td); err != nil {
		return nil, err
	}
	out := &ecs.RunTaskOutput{}
	var arns []string
	for range max(1, deref(in.Count)) {
		t := f.newRunTask(c, in, td)
		c.tasks = append(c.tasks, t)
		arns = append(arns, t.arn)
		out.Tasks = append(out.Tasks, t.view(f.ClusterARN(c.name)))
	}
	if token != "" {
		if f.run.tokens == nil {
			f.run.tokens = map[string]runToken{}
		}
		f.run.tokens[c.name+"/"+token] = runToken{params: params, arns: arns}
	}
	return out, nil
}

// runParams is the request without its client token, to compare two
// requests that carry the same token. Plain data always marshals.
func runParams(in *ecs.RunTaskInput) string {
	cp := *in
	cp.ClientToken = nil
	b, _ := json.Marshal(cp)
	return string(b)
}

func (f *ECS) validRun(op string, in *ecs.RunTaskInput, td *taskDef) error {
	if in.Count != nil && (*in.Count < 1 || *in.Count > 10) {
		return f.invalidParam(op, "Count must be between 1 and 10, got %d.", *in.Count)
	}
	if in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0 {
		return f.invalidParam(op, "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if td.def.NetworkMode == types.NetworkModeAwsvpc && (in.NetworkConfiguration == nil || in.NetworkConfiguration.AwsvpcConfiguration == nil) {
		return f.invalidParam(op, "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	if !startedByRE.MatchString(deref(in.StartedBy)) {
		return f.invalidParam(op, "startedBy must be at most 128 letters, numbers, hyphens and underscores.")
	}
	if in.Overrides == nil {
		return nil
	}
	size := 0
	for _, o := range in.Overrides.ContainerOverrides {
		if !slices.ContainsFunc(td.def.ContainerDefinitions, func(cd types.ContainerDefinition) bool { return deref(cd.Name) == deref(o.Name) }) {
			return f.invalidParam(op, "Override for container named %s is not a container in the TaskDefinition.", deref(o.Name))
		}
		b, _ := json.Marshal(o)
		size += len(b)
	}
	if size > 8192 {
		return f.invalidParam(op, "Container Overrides length must be at most 8192")
	}
	return nil
}

func essential(cd types.ContainerDefinition) bool { return cd.Essential == nil || *cd.Essential }

func (f *ECS) newRunTask(c *cluster, in *ecs.RunTaskInput, td *taskDef) *task {
	f.seq++
	r := &runTask{
		group: deref(in.Group), startedBy: deref(in.StartedBy), launchType: in.LaunchType,
		overrides: cloneOverrides(in.Overrides), awsvpc: td.def.NetworkMode == types.NetworkModeAwsvpc, cmd: -1,
	}
	if r.group == "" {
		r.group = "family:" + deref(td.def.Family)
	}
	if n := in.NetworkConfiguration; n != nil && n.AwsvpcConfiguration != nil && len(n.AwsvpcConfiguration.Subnets) > 0 {
		r.subnet = n.AwsvpcConfiguration.Subnets[0]
	}
	// The command that decides is the first one overridden, else that of
	// the first essential container.
	first := ""
	for _, o := range deref(in.Overrides).ContainerOverrides {
		if o.Command != nil && first == "" {
			first = deref(o.Name)
		}
	}
	for i, cd := range td.def.ContainerDefinitions {
		r.containers = append(r.containers, runContainer{name: deref(cd.Name), image: deref(cd.Image), lastStatus: statusPending, essential: essential(cd)})
		if r.cmd < 0 && (first != "" && deref(cd.Name) == first || first == "" && essential(cd)) {
			r.cmd = i
		}
	}
	r.cmd = max(r.cmd, 0)
	r.outcome = f.runOutcome(effectiveCommand(td.def.ContainerDefinitions[r.cmd], in.Overrides))
	status := statusPending
	if r.awsvpc {
		status = statusProvisioning
	}
	cmd := td.def.ContainerDefinitions[r.cmd]
	return &task{
		arn:     fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%032x", f.region, f.account, c.name, f.seq),
		taskDef: deref(td.def.TaskDefinitionArn), deployment: r.startedBy, container: deref(cmd.Name), image: deref(cmd.Image),
		ip: fmt.Sprintf("10.1.%d.%d", f.seq/250, f.seq%250+1), lastStatus: status, desiredStatus: statusRunning, created: f.now, run: r,
	}
}

// effectiveCommand is the container's command with the overrides applied.
func effectiveCommand(cd types.ContainerDefinition, o *types.TaskOverride) []string {
	if o != nil {
		for _, co := range o.ContainerOverrides {
			if deref(co.Name) == deref(cd.Name) && co.Command != nil {
				return co.Command
			}
		}
	}
	return cd.Command
}

func cloneOverrides(o *types.TaskOverride) *types.TaskOverride {
	if o == nil {
		return nil
	}
	cp := *o
	cp.ContainerOverrides = slices.Clone(o.ContainerOverrides)
	for i := range cp.ContainerOverrides {
		cp.ContainerOverrides[i].Command = slices.Clone(cp.ContainerOverrides[i].Command)
		cp.ContainerOverrides[i].Environment = slices.Clone(cp.ContainerOverrides[i].Environment)
	}
	return &cp
}

// StopTask implements the ECS API. The task's desired status becomes
// STOPPED at once (stop code UserInitiated) and it stops on the next
// Tick, its running containers exiting as SIGTERM leaves them. A task
// of a service is replaced by its scheduler. Stopping a stopped task
// returns it unchanged.
func (f *ECS) StopTask(_ context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	const op = "StopTask"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.cluster(op, deref(in.Cluster))
	if err != nil {
		return nil, err
	}
	t := c.task(deref(in.Task))
	if t == nil || deref(in.Task) == "" {
		return nil, f.invalidParam(op, "The referenced task was not found.")
	}
	reason := deref(in.Reason)
	if reason == "" {
		reason = "Task stopped by user"
	}
	if t.desiredStatus != statusStopped {
		switch s := c.services[t.service]; {
		case t.run != nil:
			t.desiredStatus, t.stopCode, t.stoppedReason, t.run.stopping = statusStopped, types.TaskStopCodeUserInitiated, reason, f.now
		case s != nil:
			f.stopTask(s, t, reason, types.TaskStopCodeUserInitiated, nil)
		}
	}
	return &ecs.StopTaskOutput{Task: ptr(t.view(f.ClusterARN(c.name)))}, nil
}

// tickRunTasks moves every task started by RunTask one step along.
func (f *ECS) tickRunTasks() {
	for _, cn := range slices.Sorted(maps.Keys(f.clusters)) {
		for _, t := range f.clusters[cn].tasks {
			if t.run != nil && t.lastStatus != statusStopped {
				f.advanceRun(t)
			}
		}
	}
}

func (f *ECS) advanceRun(t *task) {
	r := t.run
	switch t.lastStatus {
	case statusProvisioning:
		t.lastStatus = statusPending
	case statusPending:
		switch {
		case t.desiredStatus == statusStopped:
			f.windDown(t)
		case r.outcome.StartFailure != "":
			for i := range r.containers {
				r.containers[i].reason = r.outcome.StartFailure
			}
			t.desiredStatus, t.stopCode, t.stoppedReason, r.stopping = statusStopped, types.TaskStopCodeTaskFailedToStart, r.outcome.StartFailure, f.now
			f.windDown(t)
		default:
			t.lastStatus, r.started = statusRunning, f.now
			for i := range r.containers {
				r.containers[i].lastStatus = statusRunning
			}
		}
	case statusRunning:
		if t.desiredStatus == statusStopped {
			f.windDown(t)
			return
		}
		r.ran++
		if r.outcome.Ticks < 0 || r.ran < max(1, r.outcome.Ticks) || r.containers[r.cmd].exitCode != nil {
			return
		}
		cmd := &r.containers[r.cmd]
		cmd.lastStatus, cmd.exitCode = statusStopped, ptr(r.outcome.ExitCode)
		if !cmd.essential {
			return // ECS keeps a task running until an essential container exits
		}
		t.desiredStatus, t.stopCode, t.stoppedReason, r.stopping = statusStopped, types.TaskStopCodeEssentialContainerExited, "Essential container in task exited", f.now
		f.windDown(t)
	default: // STOPPING, DEPROVISIONING
		t.lastStatus, t.stopped = statusStopped, f.now
	}
}

// windDown stops the containers still running, with SIGTERM's exit code,
// and moves the task to its last transient state.
func (f *ECS) windDown(t *task) {
	for i := range t.run.containers {
		c := &t.run.containers[i]
		if c.lastStatus == statusRunning {
			c.exitCode = ptr(int32(exitSIGTERM))
		}
		c.lastStatus = statusStopped
	}
	t.lastStatus = statusStopping
	if t.run.awsvpc {
		t.lastStatus = statusDeprovisioning
	}
}

// runView is the task as DescribeTasks shows a task RunTask started.
func (t *task) runView(clusterARN string) types.Task {
	r := t.run
	v := types.Task{
		TaskArn: ptr(t.arn), ClusterArn: ptr(clusterARN), TaskDefinitionArn: ptr(t.taskDef),
		Group: ptr(r.group), LastStatus: ptr(t.lastStatus), DesiredStatus: ptr(t.desiredStatus),
		CreatedAt: ptr(t.created), LaunchType: r.launchType, Overrides: cloneOverrides(r.overrides),
	}
	if r.startedBy != "" {
		v.StartedBy = ptr(r.startedBy)
	}
	if r.awsvpc {
		v.Attachments = []types.Attachment{{Type: ptr("ElasticNetworkInterface"), Details: []types.KeyValuePair{
			{Name: ptr("subnetId"), Value: ptr(r.subnet)}, {Name: ptr("privateIPv4Address"), Value: ptr(t.ip)},
		}}}
	}
	for _, c := range r.containers {
		vc := types.Container{Name: ptr(c.name), Image: ptr(c.image), LastStatus: ptr(c.lastStatus), ExitCode: c.exitCode, TaskArn: ptr(t.arn)}
		if c.reason != "" {
			vc.Reason = ptr(c.reason)
		}
		v.Containers = append(v.Containers, vc)
	}
	if !r.started.IsZero() {
		v.StartedAt = ptr(r.started)
	}
	if t.stopCode != "" {
		v.StopCode, v.StoppedReason, v.StoppingAt = t.stopCode, ptr(t.stoppedReason), ptr(r.stopping)
	}
	if t.lastStatus == statusStopped {
		v.StoppedAt = ptr(t.stopped)
	}
	return v
}
