package awsapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TargetsReady checks the targets of a load balancer target group, as
// DescribeTargetHealth reports them: at least one registered, and every
// one that is not draining healthy. what names the group in the error
// ("green target group"), which lists each target that is not healthy
// with its state and reason. When health checks are disabled on the
// group the load balancer cannot tell, and the error wraps
// errors.ErrUnsupported.
func TargetsReady(what, group string, targets []types.TargetHealthDescription) error {
	var bad []string
	healthy, draining, unchecked, notInUse := 0, 0, 0, 0
	for _, d := range targets {
		h := d.TargetHealth
		if h == nil {
			h = &types.TargetHealth{}
		}
		switch h.State {
		case types.TargetHealthStateEnumHealthy:
			healthy++
			continue
		case types.TargetHealthStateEnumDraining, types.TargetHealthStateEnumUnhealthyDraining:
			draining++
			continue
		case types.TargetHealthStateEnumUnavailable:
			if h.Reason == types.TargetHealthReasonEnumHealthCheckDisabled {
				unchecked++
			}
		case types.TargetHealthStateEnumUnused:
			if h.Reason == types.TargetHealthReasonEnumNotInUse {
				notInUse++
			}
		}
		bad = append(bad, DescribeTarget(d))
	}
	switch {
	case len(bad) == 0 && healthy > 0:
		return nil
	case len(bad) == 0:
		return fmt.Errorf("%s %q has no registered targets (%d draining)", what, group, draining)
	case unchecked == len(bad) && healthy == 0:
		return fmt.Errorf("%s %q has health checks disabled: %w", what, group, errors.ErrUnsupported)
	}
	msg := fmt.Sprintf("%s %q: %d of %d targets not healthy: %s", what, group, len(bad), len(bad)+healthy, strings.Join(bad, "; "))
	if notInUse > 0 {
		msg += "; the load balancer neither routes to nor health-checks a target group that no listener or rule uses: add it to the forward action at weight 0, or to a test listener"
	}
	return errors.New(msg)
}

// CountHealthy returns the healthy targets and those not draining.
func CountHealthy(targets []types.TargetHealthDescription) (healthy, registered int) {
	for _, d := range targets {
		if d.TargetHealth == nil {
			registered++
			continue
		}
		switch d.TargetHealth.State {
		case types.TargetHealthStateEnumDraining, types.TargetHealthStateEnumUnhealthyDraining:
		case types.TargetHealthStateEnumHealthy:
			healthy++
			registered++
		default:
			registered++
		}
	}
	return healthy, registered
}

// DescribeTarget says where a target is and how healthy it is:
// "10.0.1.5:8080 unhealthy (Target.FailedHealthChecks: Health checks failed)".
func DescribeTarget(d types.TargetHealthDescription) string {
	var b strings.Builder
	if d.Target != nil {
		b.WriteString(aws.ToString(d.Target.Id))
		if d.Target.Port != nil {
			fmt.Fprintf(&b, ":%d", *d.Target.Port)
		}
	}
	if d.TargetHealth == nil {
		b.WriteString(" (no health reported)")
		return b.String()
	}
	fmt.Fprintf(&b, " %s", d.TargetHealth.State)
	reason, desc := string(d.TargetHealth.Reason), aws.ToString(d.TargetHealth.Description)
	switch {
	case reason != "" && desc != "":
		fmt.Fprintf(&b, " (%s: %s)", reason, desc)
	case reason != "" || desc != "":
		fmt.Fprintf(&b, " (%s%s)", reason, desc)
	}
	return b.String()
}
