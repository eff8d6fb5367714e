package awsfake

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Outcome is what the tasks of an image do once started.
type Outcome int

const (
	// Starts: tasks run and pass the load balancer's health checks.
	Starts Outcome = iota
	// Crashes: the essential container exits right after starting.
	Crashes
	// FailsHealthChecks: tasks run, their targets turn unhealthy and ECS
	// replaces them.
	FailsHealthChecks
)

// ECS is a double of Amazon ECS: clusters, task definitions, services
// with rolling deployments, and tasks. Tasks of a service with a load
// balancer block are registered as targets in the linked ELBv2 double.
// It is safe for concurrent use.
type ECS struct {
	recorder

	mu       sync.Mutex
	elb      *ELBv2
	region   string
	account  string
	clusters map[string]*cluster
	families map[string][]*taskDef
	outcomes map[string]Outcome
	seq      int
	now      time.Time

	autoTick  int
	describes int

	run runTasks // tasks started by RunTask: see ecs_runtask.go
}

type cluster struct {
	name     string
	services map[string]*service
	tasks    []*task
	tags     []types.Tag
}

type taskDef struct {
	def  types.TaskDefinition
	tags []types.Tag
}

// NewECS returns an ECS with no clusters. elb, when not nil, receives the
// targets of services with a load balancer block.
func NewECS(elb *ELBv2) *ECS {
	return &ECS{
		recorder: recorder{service: "ECS", throttle: "ThrottlingException"},
		elb:      elb,
		region:   "us-east-1",
		account:  "123456789012",
		clusters: map[string]*cluster{},
		families: map[string][]*taskDef{},
		outcomes: map[string]Outcome{},
		now:      time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC),
	}
}

// AddCluster creates clusters.
func (f *ECS) AddCluster(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		if f.clusters[n] == nil {
			f.clusters[n] = &cluster{name: n, services: map[string]*service{}}
		}
	}
}

// ClusterARN returns the ARN of the named cluster.
func (f *ECS) ClusterARN(name string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", f.region, f.account, name)
}

// SetOutcome sets what tasks running image do from now on.
func (f *ECS) SetOutcome(image string, o Outcome) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outcomes[image] = o
}

// AutoTick makes every nth DescribeServices call advance time by one
// Tick before answering; 0 turns it off.
func (f *ECS) AutoTick(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.autoTick = n
}

// cluster finds a cluster by name or ARN.
func (f *ECS) cluster(op, nameOrARN string) (*cluster, error) {
	name := nameOrARN
	if name == "" {
		name = "default"
	}
	if i := strings.LastIndex(name, ":cluster/"); i >= 0 {
		name = name[i+len(":cluster/"):]
	}
	c := f.clusters[name]
	if c == nil {
		return nil, f.fail(op, &types.ClusterNotFoundException{Message: ptr("Cluster not found.")})
	}
	return c, nil
}

func (f *ECS) clientErr(op, format string, args ...any) error {
	return f.fail(op, &types.ClientException{Message: ptr(fmt.Sprintf(format, args...))})
}

func (f *ECS) invalidParam(op, format string, args ...any) error {
	return f.fail(op, &types.InvalidParameterException{Message: ptr(fmt.Sprintf(format, args...))})
}

var (
	familyRE   = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)
	tagValueRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// RegisterTaskDefinition implements the ECS API: each registration of a
// family is its next revision.
func (f *ECS) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	const op = "RegisterTaskDefinition"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	family := deref(in.Family)
	if !familyRE.MatchString(family) {
		return nil, f.clientErr(op, "Family contains invalid characters or is empty: %q", family)
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, f.clientErr(op, "Container definitions should not be null or empty.")
	}
	for _, c := range in.ContainerDefinitions {
		if deref(c.Name) == "" {
			return nil, f.clientErr(op, "Container.name should not be null or empty.")
		}
		if deref(c.Image) == "" {
			return nil, f.clientErr(op, "Container.image should not be null or empty.")
		}
	}
	if slices.Contains(in.RequiresCompatibilities, types.CompatibilityFargate) {
		if in.NetworkMode != types.NetworkModeAwsvpc {
			return nil, f.clientErr(op, "Fargate only supports network mode 'awsvpc'.")
		}
		if in.Cpu == nil || in.Memory == nil {
			return nil, f.clientErr(op, "Fargate requires task definition to have execution role ARN to support log driver awslogs, and cpu and memory to be set.")
		}
	}
	if err := f.validTags(op, in.Tags); err != nil {
		return nil, err
	}
	rev := int32(len(f.families[family]) + 1)
	def := types.TaskDefinition{
		Family:                  ptr(family),
		Revision:                rev,
		TaskDefinitionArn:       ptr(fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", f.region, f.account, family, rev)),
		ContainerDefinitions:    slices.Clone(in.ContainerDefinitions),
		Cpu:                     in.Cpu,
		Memory:                  in.Memory,
		NetworkMode:             in.NetworkMode,
		ExecutionRoleArn:        in.ExecutionRoleArn,
		TaskRoleArn:             in.TaskRoleArn,
		Volumes:                 in.Volumes,
		RequiresCompatibilities: in.RequiresCompatibilities,
		RuntimePlatform:         in.RuntimePlatform,
		Status:                  types.TaskDefinitionStatusActive,
		RegisteredAt:            ptr(f.now),
	}
	f.families[family] = append(f.families[family], &taskDef{def: def, tags: slices.Clone(in.Tags)})
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &def, Tags: slices.Clone(in.Tags)}, nil
}

func (f *ECS) validTags(op string, tags []types.Tag) error {
	if len(tags) > 50 {
		return f.invalidParam(op, "Too many tags: %d, at most 50 are allowed.", len(tags))
	}
	for _, t := range tags {
		k, v := deref(t.Key), deref(t.Value)
		switch {
		case k == "" || len(k) > 128:
			return f.invalidParam(op, "Tag key %q must be 1 to 128 characters.", k)
		case len(v) > 256:
			return f.invalidParam(op, "Tag value of %q must be at most 256 characters, got %d.", k, len(v))
		case !tagValueRE.MatchString(k) || !tagValueRE.MatchString(v):
			return f.invalidParam(op, "Tag %q=%q contains characters that are not allowed.", k, v)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return f.invalidParam(op, "Tag keys starting with 'aws:' are reserved.")
		}
	}
	return nil
}

// taskDef finds a task definition by ARN, family:revision or family (its
// latest revision).
func (f *ECS) taskDef(ref string) *taskDef {
	if i := strings.LastIndex(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	revs := f.families[family]
	if len(revs) == 0 {
		return nil
	}
	if !hasRev {
		return revs[len(revs)-1]
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

// DescribeTaskDefinition implements the ECS API. Tags are returned only
// when Include asks for TAGS.
func (f *ECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	const op = "DescribeTaskDefinition"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	td := f.taskDef(deref(in.TaskDefinition))
	if td == nil {
		return nil, f.clientErr(op, "Unable to describe task definition.")
	}
	def := td.def
	def.ContainerDefinitions = slices.Clone(def.ContainerDefinitions)
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &def}
	if slices.Contains(in.Include, types.TaskDefinitionFieldTags) {
		out.Tags = slices.Clone(td.tags)
	}
	return out, nil
}

// ListTaskDefinitions implements the ECS API, without pagination.
func (f *ECS) ListTaskDefinitions(_ context.Context, in *ecs.ListTaskDefinitionsInput, _ ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	const op = "ListTaskDefinitions"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var arns []string
	for family, revs := range f.families {
		if !strings.HasPrefix(family, deref(in.FamilyPrefix)) {
			continue
		}
		for _, td := range revs {
			arns = append(arns, deref(td.def.TaskDefinitionArn))
		}
	}
	slices.SortFunc(arns, compareTaskDefARN)
	if in.Sort == types.SortOrderDesc {
		slices.Reverse(arns)
	}
	return &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: arns}, nil
}

// compareTaskDefARN orders by family, then by revision as a number.
func compareTaskDefARN(a, b string) int {
	fa, ra, _ := strings.Cut(a[strings.LastIndex(a, "/")+1:], ":")
	fb, rb, _ := strings.Cut(b[strings.LastIndex(b, "/")+1:], ":")
	if c := strings.Compare(fa, fb); c != 0 {
		return c
	}
	na, _ := strconv.Atoi(ra)
	nb, _ := strconv.Atoi(rb)
	return na - nb
}

// TaskDefinitionTags returns the tags of a registered task definition.
func (f *ECS) TaskDefinitionTags(ref string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	if td := f.taskDef(ref); td != nil {
		for _, t := range td.tags {
			out[deref(t.Key)] = deref(t.Value)
		}
	}
	return out
}
