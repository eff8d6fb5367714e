package awsfake

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ELBv2 is a double of Elastic Load Balancing v2 (an Application Load
// Balancer): listeners with default actions, rules, target groups and
// their targets' health. It is safe for concurrent use.
type ELBv2 struct {
	recorder

	mu        sync.Mutex
	listeners map[string]*listener
	rules     map[string]*rule
	groups    map[string]*targetGroup
	// staleReads is how many reads of a listener or rule after a write
	// still return what it held before the write.
	staleReads int
}

type listener struct {
	actions, before []types.Action
	stale           int
}

type rule struct {
	listener        string
	priority        string
	actions, before []types.Action
	conditions      []types.RuleCondition
	stale           int
}

type targetGroup struct {
	targets map[string]*target
}

type target struct {
	id     string
	port   int32
	health Health
	script []Health // applied one per DescribeTargetHealth of the group
}

// Health is a target's health as DescribeTargetHealth reports it.
type Health struct {
	State       types.TargetHealthStateEnum
	Reason      types.TargetHealthReasonEnum
	Description string
}

// Health states a test can set.
var (
	Initial   = Health{State: types.TargetHealthStateEnumInitial, Reason: types.TargetHealthReasonEnumRegistrationInProgress, Description: "Target registration is in progress"}
	Checking  = Health{State: types.TargetHealthStateEnumInitial, Reason: types.TargetHealthReasonEnumInitialHealthChecking, Description: "Initial health checks in progress"}
	Healthy   = Health{State: types.TargetHealthStateEnumHealthy}
	Unhealthy = Health{State: types.TargetHealthStateEnumUnhealthy, Reason: types.TargetHealthReasonEnumFailedHealthChecks, Description: "Health checks failed"}
	Mismatch  = Health{State: types.TargetHealthStateEnumUnhealthy, Reason: types.TargetHealthReasonEnumResponseCodeMismatch, Description: "Health checks failed with these codes: [503]"}
	Draining  = Health{State: types.TargetHealthStateEnumDraining, Reason: types.TargetHealthReasonEnumDeregistrationInProgress, Description: "Target deregistration is in progress"}
	unused    = Health{State: types.TargetHealthStateEnumUnused, Reason: types.TargetHealthReasonEnumNotInUse, Description: "Target group is not configured to receive traffic from the load balancer"}
)

// NewELBv2 returns an empty load balancer.
func NewELBv2() *ELBv2 {
	return &ELBv2{
		recorder:  recorder{service: "Elastic Load Balancing v2", throttle: "Throttling"},
		listeners: map[string]*listener{},
		rules:     map[string]*rule{},
		groups:    map[string]*targetGroup{},
	}
}

// AddTargetGroup creates empty target groups.
func (f *ELBv2) AddTargetGroup(arns ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range arns {
		if f.groups[a] == nil {
			f.groups[a] = &targetGroup{targets: map[string]*target{}}
		}
	}
}

// AddListener creates a listener with default actions, which must be
// valid as ModifyListener would accept them.
func (f *ELBv2) AddListener(arn string, actions ...types.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	norm, err := f.validActions(actions)
	if err != nil {
		return err
	}
	f.listeners[arn] = &listener{actions: norm}
	return nil
}

// AddRule creates a rule of listenerARN with actions.
func (f *ELBv2) AddRule(ruleARN, listenerARN, priority string, actions ...types.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listeners[listenerARN] == nil {
		return fmt.Errorf("no listener %q", listenerARN)
	}
	norm, err := f.validActions(actions)
	if err != nil {
		return err
	}
	f.rules[ruleARN] = &rule{listener: listenerARN, priority: priority, actions: norm}
	return nil
}

// Forward returns a forward action to target groups with weights given as
// alternating ARN and weight: Forward("tg-a", 1, "tg-b", 0).
func Forward(pairs ...any) types.Action {
	fc := &types.ForwardActionConfig{}
	for i := 0; i+1 < len(pairs); i += 2 {
		fc.TargetGroups = append(fc.TargetGroups, types.TargetGroupTuple{
			TargetGroupArn: ptr(pairs[i].(string)), Weight: ptr(int32(pairs[i+1].(int))),
		})
	}
	return types.Action{Type: types.ActionTypeEnumForward, ForwardConfig: fc}
}

// StaleReads makes the next n reads of a listener or rule after each
// write return what it held before the write, as ELB's eventually
// consistent API may.
func (f *ELBv2) StaleReads(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.staleReads = n
}

// DefaultActions returns the listener's default actions as they are now,
// without recording a call or serving a stale read.
func (f *ELBv2) DefaultActions(listenerARN string) []types.Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.listeners[listenerARN]; l != nil {
		return copyActions(l.actions)
	}
	return nil
}

// RuleActions returns the rule's actions as they are now.
func (f *ELBv2) RuleActions(ruleARN string) []types.Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.rules[ruleARN]; r != nil {
		return copyActions(r.actions)
	}
	return nil
}

// Register registers targets in the group, in state initial.
func (f *ELBv2) Register(group string, port int32, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.group(group)
	for _, id := range ids {
		g.targets[id] = &target{id: id, port: port, health: Initial}
	}
}

// SetHealth sets a registered target's health.
func (f *ELBv2) SetHealth(group, id string, h Health) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.group(group).targets[id]; t != nil {
		t.health, t.script = h, nil
	}
}

// SetAllHealth sets the health of every target of the group that is not
// draining.
func (f *ELBv2) SetAllHealth(group string, h Health) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.group(group).targets {
		if t.health.State != types.TargetHealthStateEnumDraining {
			t.health, t.script = h, nil
		}
	}
}

// Script queues health states for a target: each DescribeTargetHealth of
// its group moves it to the next one, then it stays at the last.
func (f *ELBv2) Script(group, id string, steps ...Health) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.group(group).targets[id]; t != nil {
		t.script = append(t.script, steps...)
	}
}

// Deregister starts draining targets.
func (f *ELBv2) Deregister(group string, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if t := f.group(group).targets[id]; t != nil {
			t.health, t.script = Draining, nil
		}
	}
}

// FinishDraining removes the group's draining targets, as the end of the
// deregistration delay does.
func (f *ELBv2) FinishDraining(group string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.group(group)
	for id, t := range g.targets {
		if t.health.State == types.TargetHealthStateEnumDraining {
			delete(g.targets, id)
		}
	}
}

// Targets returns the group's targets and their health now, by ID.
func (f *ELBv2) Targets(group string) map[string]Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]Health{}
	for id, t := range f.group(group).targets {
		out[id] = t.health
	}
	return out
}

// HasTargetGroup reports whether the group exists.
func (f *ELBv2) HasTargetGroup(arn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.groups[arn] != nil
}

// InUse reports whether a listener or rule forwards to the group, which
// is what makes the load balancer health-check its targets.
func (f *ELBv2) InUse(group string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inUse(group)
}

func (f *ELBv2) inUse(group string) bool {
	uses := func(actions []types.Action) bool {
		for _, a := range actions {
			if deref(a.TargetGroupArn) == group {
				return true
			}
			if a.ForwardConfig != nil {
				for _, tg := range a.ForwardConfig.TargetGroups {
					if deref(tg.TargetGroupArn) == group {
						return true
					}
				}
			}
		}
		return false
	}
	for _, l := range f.listeners {
		if uses(l.actions) {
			return true
		}
	}
	for _, r := range f.rules {
		if uses(r.actions) {
			return true
		}
	}
	return false
}

// group returns the group, creating it for test helpers called before
// AddTargetGroup. API calls check existence themselves.
func (f *ELBv2) group(arn string) *targetGroup {
	g := f.groups[arn]
	if g == nil {
		g = &targetGroup{targets: map[string]*target{}}
		f.groups[arn] = g
	}
	return g
}

// DescribeTargetHealth implements the ELBv2 API.
func (f *ELBv2) DescribeTargetHealth(_ context.Context, in *elbv2.DescribeTargetHealthInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	const op = "DescribeTargetHealth"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := deref(in.TargetGroupArn)
	g := f.groups[arn]
	if g == nil {
		return nil, f.fail(op, &types.TargetGroupNotFoundException{Message: ptr(fmt.Sprintf("Target groups '%s' not found", arn))})
	}
	used := f.inUse(arn)
	ids := make([]string, 0, len(g.targets))
	for id := range g.targets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(in.Targets) > 0 {
		ids = ids[:0]
		for _, t := range in.Targets {
			ids = append(ids, deref(t.Id))
		}
	}
	out := &elbv2.DescribeTargetHealthOutput{}
	for _, id := range ids {
		t := g.targets[id]
		if t == nil {
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describeTarget(id, 0, Health{
				State: types.TargetHealthStateEnumUnused, Reason: types.TargetHealthReasonEnumNotRegistered, Description: "Target is not registered to the target group",
			}))
			continue
		}
		if len(t.script) > 0 {
			t.health, t.script = t.script[0], t.script[1:]
		}
		h := t.health
		if !used && h.State != types.TargetHealthStateEnumDraining {
			h = unused
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describeTarget(id, t.port, h))
	}
	return out, nil
}

func describeTarget(id string, port int32, h Health) types.TargetHealthDescription {
	th := &types.TargetHealth{State: h.State, Reason: h.Reason}
	if h.Description != "" {
		th.Description = ptr(h.Description)
	}
	d := types.TargetHealthDescription{Target: &types.TargetDescription{Id: ptr(id)}, TargetHealth: th}
	if port != 0 {
		d.Target.Port = ptr(port)
		d.HealthCheckPort = ptr(fmt.Sprint(port))
	}
	return d
}

// RegisterTargets implements the ELBv2 API.
func (f *ELBv2) RegisterTargets(_ context.Context, in *elbv2.RegisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	const op = "RegisterTargets"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.groups[deref(in.TargetGroupArn)]
	if g == nil {
		return nil, f.fail(op, &types.TargetGroupNotFoundException{Message: ptr("One or more target groups not found")})
	}
	for _, t := range in.Targets {
		if cur := g.targets[deref(t.Id)]; cur == nil || cur.health.State == types.TargetHealthStateEnumDraining {
			g.targets[deref(t.Id)] = &target{id: deref(t.Id), port: deref(t.Port), health: Initial}
		}
	}
	return &elbv2.RegisterTargetsOutput{}, nil
}

func copyActions(actions []types.Action) []types.Action {
	out := slices.Clone(actions)
	for i := range out {
		if fc := out[i].ForwardConfig; fc != nil {
			c := *fc
			c.TargetGroups = slices.Clone(fc.TargetGroups)
			for j := range c.TargetGroups {
				c.TargetGroups[j].TargetGroupArn = ptr(deref(c.TargetGroups[j].TargetGroupArn))
				if w := c.TargetGroups[j].Weight; w != nil {
					c.TargetGroups[j].Weight = ptr(*w)
				}
			}
			if s := fc.TargetGroupStickinessConfig; s != nil {
				// Fresh pointers: what the caller keeps must not alias what
				// the load balancer stores.
				sc := *s
				if s.Enabled != nil {
					sc.Enabled = ptr(*s.Enabled)
				}
				if s.DurationSeconds != nil {
					sc.DurationSeconds = ptr(*s.DurationSeconds)
				}
				c.TargetGroupStickinessConfig = &sc
			}
			out[i].ForwardConfig = &c
		}
		if p := out[i].TargetGroupArn; p != nil {
			out[i].TargetGroupArn = ptr(*p)
		}
		if p := out[i].Order; p != nil {
			out[i].Order = ptr(*p)
		}
	}
	return out
}
