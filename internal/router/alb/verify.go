package alb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

// Verify implements router.Router: color c's target group must have at
// least one registered target, and every target that is not draining
// must be healthy as the load balancer sees it. When health checks are
// disabled on the target group the load balancer cannot tell, and Verify
// returns an error wrapping errors.ErrUnsupported.
func (r *Router) Verify(ctx context.Context, c color.Color) error {
	tg := r.cfg.TargetGroups[c]
	out, err := r.cfg.API.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return fmt.Errorf("reading target health of %s target group %q: %w", c, tg, err)
	}
	return awsapi.TargetsReady(c.String()+" target group", tg, out.TargetHealthDescriptions)
}
