package setup

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/alb"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/elb"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/gateway"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/haproxy"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/ingress"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/route53"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/service"
)

// The constructors of the rows of config's platform and router tables
// (config.Platforms, config.Routers), keyed by the same names. The facts
// of each row (which platforms a router pairs with, whether it splits,
// its inputs) stay in config, where validation reads them before anything
// here runs; TestEveryRowHasAConstructor keeps the two in step.

// buildEnv is what the constructors of a run share: the inputs, the deps
// they fill, and what a platform prepared for the routers that pair with
// it.
type buildEnv struct {
	cfg *config.Config
	// rep is nil when a test builds platform kubernetes alone (Kubernetes).
	rep  report.Reporter
	deps *deploy.Deps

	counter *awsapi.Counter
	awsCfg  *aws.Config

	// kube is the client configuration of platform kubernetes, with the
	// request timeout set; svc, the Services of the app as the platform
	// sees them (clients, namespace, the manifest's template).
	kube *rest.Config
	svc  service.Config
	// groups are the target groups of the colors on platform ecs.
	groups map[color.Color]string
}

// aws returns the run's AWS configuration, loaded on first use.
func (e *buildEnv) aws(ctx context.Context) (aws.Config, error) {
	if e.awsCfg == nil {
		c, err := loadAWS(ctx, e.cfg, e.counter)
		if err != nil {
			return aws.Config{}, err
		}
		e.awsCfg = &c
	}
	return *e.awsCfg, nil
}

// A platform's constructor fills deps with the platform, lock, history
// and migrator, and builds the router through newRouter where its order
// needs it: after the clients the router shares (kubernetes, ecs), or
// before a platform that is driven through its router (hosts).
type platformBuilder func(ctx context.Context, e *buildEnv) error

var platformBuilders = map[string]platformBuilder{
	"kubernetes": kubernetesPlatform,
	"ecs":        ecsPlatform,
	"hosts":      hostsPlatform,
}

// A router's constructor puts the router in deps, and what else its
// system offers: a preview route (a test listener, a preview backend), a
// history store (an HAProxy map). It reads the route once, so that one
// that cannot work is a bad input found before any write.
type routerBuilder func(ctx context.Context, e *buildEnv) error

var routerBuilders = map[string]routerBuilder{
	service.Type: serviceRouter,
	gateway.Type: gatewayRouter,
	ingress.Type: ingressRouter,
	alb.Type:     albRouter,
	elb.Type:     elbRouter,
	route53.Type: route53Router,
	haproxy.Type: haproxyRouter,
}

// newPlatform builds the run's platform, and through it the router.
func newPlatform(ctx context.Context, e *buildEnv) error {
	build, ok := platformBuilders[e.cfg.Platform]
	if !ok {
		return config.Errorf("platform", "unknown platform %q, valid platforms are %q", e.cfg.Platform, config.PlatformNames())
	}
	return build(ctx, e)
}

// newRouter builds the run's router.
func newRouter(ctx context.Context, e *buildEnv) error {
	build, ok := routerBuilders[e.cfg.Router]
	if !ok {
		return config.Errorf("router", "unknown router %q for platform %s, valid routers are %q", e.cfg.Router, e.cfg.Platform, config.RoutersOf(e.cfg.Platform))
	}
	return build(ctx, e)
}
