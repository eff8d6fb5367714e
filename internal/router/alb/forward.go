package alb

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// parse finds the forward action among actions and returns its index and
// the share of traffic, in percent, it sends to each color.
func (r *Router) parse(actions []types.Action) (int, router.Weights, error) {
	i := slices.IndexFunc(actions, func(a types.Action) bool { return a.Type == types.ActionTypeEnumForward })
	if i < 0 {
		var kinds []string
		for _, a := range actions {
			kinds = append(kinds, string(a.Type))
		}
		return -1, nil, fmt.Errorf("%s does not forward to target groups (its actions are %q); make it forward to %q (blue) or %q (green)",
			r.what(), kinds, r.cfg.TargetGroups[color.Blue], r.cfg.TargetGroups[color.Green])
	}
	var b, g int64
	var seen, others []string
	for _, tg := range tuples(actions[i]) {
		arn, weight := aws.ToString(tg.TargetGroupArn), int64(aws.ToInt32(tg.Weight))
		seen = append(seen, arn)
		switch arn {
		case r.cfg.TargetGroups[color.Blue]:
			b += weight
		case r.cfg.TargetGroups[color.Green]:
			g += weight
		default:
			if weight > 0 {
				others = append(others, fmt.Sprintf("%s (weight %d)", arn, weight))
			}
		}
	}
	switch {
	case !slices.Contains(seen, r.cfg.TargetGroups[color.Blue]) && !slices.Contains(seen, r.cfg.TargetGroups[color.Green]):
		return -1, nil, fmt.Errorf("%s forwards to %q, neither the blue target group %q nor the green %q",
			r.what(), seen, r.cfg.TargetGroups[color.Blue], r.cfg.TargetGroups[color.Green])
	case len(others) > 0:
		return -1, nil, fmt.Errorf("%s also forwards to %s, which is neither color's target group; remove it from the forward action so that a switch does not take its traffic",
			r.what(), strings.Join(others, ", "))
	case b+g == 0:
		return -1, nil, fmt.Errorf("%s forwards with weight 0 to both colors' target groups", r.what())
	}
	pb := int(math.Round(float64(b) * 100 / float64(b+g)))
	return i, router.Weights{color.Blue: pb, color.Green: 100 - pb}, nil
}

// tuples returns the target groups of a forward action with their
// weights. A forward given only a TargetGroupArn sends it everything.
func tuples(a types.Action) []types.TargetGroupTuple {
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		out := slices.Clone(a.ForwardConfig.TargetGroups)
		for j := range out {
			if out[j].Weight == nil {
				out[j].Weight = aws.Int32(1) // ELBv2's default weight
			}
		}
		return out
	}
	if a.TargetGroupArn != nil {
		return []types.TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn, Weight: aws.Int32(1)}}
	}
	return nil
}

// withWeights returns a copy of actions whose forward action (at index i)
// sends w to the colors' target groups. Other actions, the order and any
// other target group (at weight 0) are kept as read: ModifyListener
// replaces all default actions, so whatever is not written back is lost.
//
// The forward's target-group stickiness is kept as read too, except that
// a split with WithStickiness enables it for that duration, a split
// without it puts back what this router disabled earlier (see remember),
// and a write that sends all traffic to one color always disables it,
// whoever enabled it: stickiness takes precedence over weights, so a client holding the
// cookie of the group left at weight 0 would keep reaching it until the
// duration ends, while the weights read as switched.
func (r *Router) withWeights(actions []types.Action, i int, w router.Weights) []types.Action {
	out := slices.Clone(actions)
	fwd := out[i]
	fc := &types.ForwardActionConfig{}
	if old := fwd.ForwardConfig; old != nil && old.TargetGroupStickinessConfig != nil {
		s := *old.TargetGroupStickinessConfig
		fc.TargetGroupStickinessConfig = &s
	}
	switch on, _ := stickiness(fwd); {
	case !w.Split():
		fc.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{Enabled: aws.Bool(false)}
	case r.sticky > 0:
		fc.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{
			Enabled: aws.Bool(true), DurationSeconds: aws.Int32(int32(r.sticky / time.Second)),
		}
	case !on && r.ended != nil:
		s := *r.ended
		fc.TargetGroupStickinessConfig = &s
	}
	for _, c := range color.All {
		fc.TargetGroups = append(fc.TargetGroups, types.TargetGroupTuple{
			TargetGroupArn: aws.String(r.cfg.TargetGroups[c]), Weight: aws.Int32(int32(w[c])),
		})
	}
	for _, tg := range tuples(actions[i]) {
		if arn := aws.ToString(tg.TargetGroupArn); arn != r.cfg.TargetGroups[color.Blue] && arn != r.cfg.TargetGroups[color.Green] {
			fc.TargetGroups = append(fc.TargetGroups, types.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(0)})
		}
	}
	// A forward to several target groups must not carry TargetGroupArn.
	fwd.TargetGroupArn = nil
	fwd.ForwardConfig = fc
	out[i] = fwd
	return out
}

// remember keeps the stickiness that a write of w to the read forward
// disables, so that a split written later by the same router, the revert
// of a failed switch, puts it back: the split is restored as it was, not
// without its stickiness. A split write forgets it.
func (r *Router) remember(read types.Action, w router.Weights) {
	if w.Split() {
		r.ended = nil
		return
	}
	if on, _ := stickiness(read); on {
		s := *read.ForwardConfig.TargetGroupStickinessConfig
		r.ended = &s
	}
}

// sameStickiness reports whether two forward actions keep clients on a
// target group alike.
func sameStickiness(a, b types.Action) bool {
	ea, da := stickiness(a)
	eb, db := stickiness(b)
	return ea == eb && da == db
}

// stickiness reads a forward action's target-group stickiness; an absent
// setting is stickiness disabled.
func stickiness(a types.Action) (enabled bool, seconds int32) {
	if a.ForwardConfig == nil || a.ForwardConfig.TargetGroupStickinessConfig == nil {
		return false, 0
	}
	s := a.ForwardConfig.TargetGroupStickinessConfig
	if !aws.ToBool(s.Enabled) {
		return false, 0
	}
	return true, aws.ToInt32(s.DurationSeconds)
}
