package awsfake

import (
	"context"
	"fmt"
	"sort"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// Limits of forward actions, from the ELBv2 API reference.
const (
	maxWeight           = 999
	maxForwardGroups    = 5
	maxStickinessSecond = 604800
)

// DescribeListeners implements the ELBv2 API for listeners named by ARN.
func (f *ELBv2) DescribeListeners(_ context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	const op = "DescribeListeners"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arns := in.ListenerArns
	if len(arns) == 0 {
		for a := range f.listeners {
			arns = append(arns, a)
		}
		sort.Strings(arns)
	}
	out := &elbv2.DescribeListenersOutput{}
	for _, a := range arns {
		l := f.listeners[a]
		if l == nil {
			return nil, f.fail(op, &types.ListenerNotFoundException{Message: ptr(fmt.Sprintf("One or more listeners not found: '%s'", a))})
		}
		actions := l.actions
		if l.stale > 0 {
			l.stale--
			actions = l.before
		}
		out.Listeners = append(out.Listeners, types.Listener{ListenerArn: ptr(a), DefaultActions: copyActions(actions), Protocol: types.ProtocolEnumHttp, Port: ptr(int32(80))})
	}
	return out, nil
}

// DescribeRules implements the ELBv2 API for rules named by ARN or all
// rules of a listener.
func (f *ELBv2) DescribeRules(_ context.Context, in *elbv2.DescribeRulesInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error) {
	const op = "DescribeRules"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arns := in.RuleArns
	if l := deref(in.ListenerArn); l != "" {
		if f.listeners[l] == nil {
			return nil, f.fail(op, &types.ListenerNotFoundException{Message: ptr(fmt.Sprintf("Listener '%s' not found", l))})
		}
		for a, r := range f.rules {
			if r.listener == l {
				arns = append(arns, a)
			}
		}
		sort.Strings(arns)
	}
	out := &elbv2.DescribeRulesOutput{}
	for _, a := range arns {
		r := f.rules[a]
		if r == nil {
			return nil, f.fail(op, &types.RuleNotFoundException{Message: ptr(fmt.Sprintf("One or more rules not found: '%s'", a))})
		}
		actions := r.actions
		if r.stale > 0 {
			r.stale--
			actions = r.before
		}
		out.Rules = append(out.Rules, types.Rule{RuleArn: ptr(a), Priority: ptr(r.priority), Actions: copyActions(actions), Conditions: r.conditions, IsDefault: ptr(false)})
	}
	return out, nil
}

// ModifyListener implements the ELBv2 API. Given default actions replace
// the listener's default actions as a whole.
func (f *ELBv2) ModifyListener(_ context.Context, in *elbv2.ModifyListenerInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	const op = "ModifyListener"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := deref(in.ListenerArn)
	l := f.listeners[a]
	if l == nil {
		return nil, f.fail(op, &types.ListenerNotFoundException{Message: ptr(fmt.Sprintf("Listener '%s' not found", a))})
	}
	if in.DefaultActions != nil {
		norm, err := f.validActions(in.DefaultActions)
		if err != nil {
			return nil, f.fail(op, err)
		}
		l.before, l.actions, l.stale = l.actions, norm, f.staleReads
	}
	return &elbv2.ModifyListenerOutput{Listeners: []types.Listener{{ListenerArn: ptr(a), DefaultActions: copyActions(l.actions)}}}, nil
}

// ModifyRule implements the ELBv2 API. Given actions and conditions
// replace the rule's as a whole.
func (f *ELBv2) ModifyRule(_ context.Context, in *elbv2.ModifyRuleInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error) {
	const op = "ModifyRule"
	if err := f.call(op); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := deref(in.RuleArn)
	r := f.rules[a]
	if r == nil {
		return nil, f.fail(op, &types.RuleNotFoundException{Message: ptr(fmt.Sprintf("Rule '%s' not found", a))})
	}
	if in.Actions != nil {
		norm, err := f.validActions(in.Actions)
		if err != nil {
			return nil, f.fail(op, err)
		}
		r.before, r.actions, r.stale = r.actions, norm, f.staleReads
	}
	if in.Conditions != nil {
		r.conditions = in.Conditions
	}
	return &elbv2.ModifyRuleOutput{Rules: []types.Rule{{RuleArn: ptr(a), Actions: copyActions(r.actions)}}}, nil
}

func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationError", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

func invalidAction(format string, args ...any) error {
	return &types.InvalidLoadBalancerActionException{Message: ptr(fmt.Sprintf(format, args...))}
}

// validActions checks actions as ELBv2 does and returns them as it stores
// them: a forward to one target group carries both TargetGroupArn and a
// ForwardConfig, weights default to 1 and stickiness to disabled.
func (f *ELBv2) validActions(actions []types.Action) ([]types.Action, error) {
	if len(actions) == 0 {
		return nil, validation("1 validation error detected: Value '[]' at 'defaultActions' failed to satisfy constraint: Member must have at least 1 item")
	}
	out := copyActions(actions)
	terminal := 0
	for i := range out {
		a := &out[i]
		if a.Order == nil {
			a.Order = ptr(int32(i + 1))
		}
		switch a.Type {
		case types.ActionTypeEnumForward:
			terminal++
			if err := f.validForward(i, a); err != nil {
				return nil, err
			}
		case types.ActionTypeEnumRedirect, types.ActionTypeEnumFixedResponse:
			terminal++
		case types.ActionTypeEnumAuthenticateOidc, types.ActionTypeEnumAuthenticateCognito, types.ActionTypeEnumJwtValidation:
		case "":
			return nil, validation("1 validation error detected: Value null at 'actions.%d.member.type' failed to satisfy constraint: Member must not be null", i+1)
		default:
			return nil, validation("action type %q is not valid", a.Type)
		}
	}
	if terminal != 1 {
		return nil, invalidAction("exactly one forward, redirect or fixed-response action is required, got %d", terminal)
	}
	return out, nil
}

func (f *ELBv2) validForward(i int, a *types.Action) error {
	if a.ForwardConfig == nil || len(a.ForwardConfig.TargetGroups) == 0 {
		if a.TargetGroupArn == nil {
			return invalidAction("a forward action needs a target group")
		}
		a.ForwardConfig = &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: ptr(*a.TargetGroupArn)}}}
	}
	fc := a.ForwardConfig
	if n := len(fc.TargetGroups); n > maxForwardGroups {
		return validation("1 validation error detected: Value at 'actions.%d.member.forwardConfig.targetGroups' failed to satisfy constraint: Member must have length less than or equal to %d", i+1, maxForwardGroups)
	}
	seen := map[string]bool{}
	for j := range fc.TargetGroups {
		tg := &fc.TargetGroups[j]
		arn := deref(tg.TargetGroupArn)
		if f.groups[arn] == nil {
			return &types.TargetGroupNotFoundException{Message: ptr(fmt.Sprintf("Target groups '%s' not found", arn))}
		}
		if seen[arn] {
			return invalidAction("target group '%s' is listed twice in the forward action", arn)
		}
		seen[arn] = true
		if tg.Weight == nil {
			tg.Weight = ptr(int32(1))
		}
		if w := *tg.Weight; w < 0 || w > maxWeight {
			limit := fmt.Sprintf("less than or equal to %d", maxWeight)
			if w < 0 {
				limit = "greater than or equal to 0"
			}
			return validation("1 validation error detected: Value '%d' at 'actions.%d.member.forwardConfig.targetGroups.%d.member.weight' failed to satisfy constraint: Member must have value %s",
				w, i+1, j+1, limit)
		}
	}
	if a.TargetGroupArn != nil && (len(fc.TargetGroups) != 1 || deref(fc.TargetGroups[0].TargetGroupArn) != *a.TargetGroupArn) {
		return invalidAction("you cannot specify both a target group ARN and a forward config with a different set of target groups")
	}
	if len(fc.TargetGroups) == 1 {
		a.TargetGroupArn = ptr(deref(fc.TargetGroups[0].TargetGroupArn))
	} else {
		a.TargetGroupArn = nil
	}
	if fc.TargetGroupStickinessConfig == nil {
		fc.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{Enabled: ptr(false)}
	}
	if s := fc.TargetGroupStickinessConfig; deref(s.Enabled) {
		if d := deref(s.DurationSeconds); d < 1 || d > maxStickinessSecond {
			return validation("target group stickiness duration must be between 1 and %d seconds, got %d", maxStickinessSecond, d)
		}
	}
	return nil
}
