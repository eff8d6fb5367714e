package awsfake

import "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

// Reaches returns the target groups a request through the forward action
// of a listener's default actions, or of a rule (arn names either), may
// reach, for a client holding the target-group stickiness cookie of
// stuckTo ("" for a client without one). While the forward's
// target-group stickiness is enabled, a client holding the cookie of one
// of its target groups keeps reaching that group whatever its weight, 0
// included, until the duration ends: ELBv2 gives stickiness precedence
// over weights. Otherwise a request may reach any group weighted above 0.
// The duration never ends here: time in the doubles moves only when a
// test says so.
func (f *ELBv2) Reaches(arn, stuckTo string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var actions []types.Action
	if l := f.listeners[arn]; l != nil {
		actions = l.actions
	} else if r := f.rules[arn]; r != nil {
		actions = r.actions
	}
	for _, a := range actions {
		if a.Type != types.ActionTypeEnumForward || a.ForwardConfig == nil {
			continue
		}
		fc := a.ForwardConfig
		if s := fc.TargetGroupStickinessConfig; stuckTo != "" && s != nil && deref(s.Enabled) {
			for _, tg := range fc.TargetGroups {
				if deref(tg.TargetGroupArn) == stuckTo {
					return []string{stuckTo}
				}
			}
		}
		var out []string
		for _, tg := range fc.TargetGroups {
			if deref(tg.Weight) > 0 {
				out = append(out, deref(tg.TargetGroupArn))
			}
		}
		return out
	}
	return nil
}
