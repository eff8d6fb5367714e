package setup

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	awsroute53 "github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/taskdef"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/ecstag"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/ecstask"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/ecs"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/alb"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/elb"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/route53"
)

// loadAWS loads the AWS configuration once per run, counting its calls.
func loadAWS(ctx context.Context, cfg *config.Config, counter *awsapi.Counter) (aws.Config, error) {
	awsCfg, err := awsapi.LoadConfig(ctx, cfg.AWS.Region, awsapi.WithCounter(counter), awsTimeout(cfg))
	if err != nil {
		return aws.Config{}, config.Errorf("region", "loading the AWS configuration: %v", err)
	}
	if err := cfg.AWS.CheckRegion(awsCfg.Region); err != nil {
		return aws.Config{}, err
	}
	return awsCfg, nil
}

// ecsPlatform builds platform ecs: the colors are services in cluster.
func ecsPlatform(ctx context.Context, cfg *config.Config, rep report.Reporter, deps *deploy.Deps, counter *awsapi.Counter) error {
	awsCfg, err := loadAWS(ctx, cfg, counter)
	if err != nil {
		return err
	}
	api := awsecs.NewFromConfig(awsCfg)
	elbv2 := elasticloadbalancingv2.NewFromConfig(awsCfg)
	a := cfg.AWS
	app, err := readECS(ctx, api, cfg)
	if err != nil {
		return err
	}
	pc := ecs.Config{API: api, ELB: elbv2, Cluster: a.Cluster, App: cfg.App, Container: cfg.Container, TargetGroups: app.groups}
	if a.TaskDefinition != "" {
		data, err := os.ReadFile(a.TaskDefinition)
		if err != nil {
			return config.Errorf("task-definition", "%v", err)
		}
		if pc.TaskDefinition, err = ecs.ParseTaskDefinition(data, cfg.Container); err != nil {
			return config.Errorf("task-definition", "%q: %v", a.TaskDefinition, err)
		}
	}
	p, err := ecs.New(pc, ecs.WithDryRun(bool(cfg.DryRun)))
	if err != nil {
		return err
	}
	deps.Platform = p
	if pc.TaskDefinition != nil {
		app.family = aws.ToString(pc.TaskDefinition.Family)
	}
	if app.family != "" {
		if deps.History, err = taskdef.New(api, app.family, taskdef.WithDryRun(bool(cfg.DryRun))); err != nil {
			return config.Errorf("task-definition", "%v", err)
		}
	}
	if len(cfg.MigrateBefore) > 0 || len(cfg.MigrateAfter) > 0 {
		if deps.Migrator, err = ecstask.New(ecstask.Config{API: api, Cluster: a.Cluster, App: cfg.App, Container: cfg.Container}); err != nil {
			return err
		}
	}
	if app.clusterARN != "" {
		if deps.Locker, err = ecstag.New(ecstag.Config{API: api, ClusterARN: app.clusterARN, App: cfg.App}, ecstag.WithWarning(rep.Warning)); err != nil {
			return err
		}
	}
	return awsRouter(ctx, cfg, awsCfg, app.groups, deps)
}

// ecsApp is what setup reads of the app's ECS services before any write.
type ecsApp struct {
	groups     map[color.Color]string
	clusterARN string
	// family is the task definition family the colors run.
	family string
}

// readECS returns each color's target group (from the inputs, else from
// the load balancer block of the color's service), the cluster's ARN and
// the task definition family.
func readECS(ctx context.Context, api *awsecs.Client, cfg *config.Config) (ecsApp, error) {
	app := ecsApp{groups: map[color.Color]string{color.Blue: cfg.AWS.TargetGroupBlue, color.Green: cfg.AWS.TargetGroupGreen}}
	names := []string{cfg.App + "-blue", cfg.App + "-green"}
	out, err := api.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: &cfg.AWS.Cluster, Services: names})
	if err != nil {
		if awsapi.HasCode(err, "ClusterNotFoundException") {
			return app, config.Errorf("cluster", "no ECS cluster %q in this account and region", cfg.AWS.Cluster)
		}
		return app, fmt.Errorf("describing ECS services %q: %w", names, err)
	}
	for _, s := range out.Services {
		if aws.ToString(s.Status) == "INACTIVE" {
			continue
		}
		c := color.Blue
		if aws.ToString(s.ServiceName) == names[1] {
			c = color.Green
		}
		if app.groups[c] == "" && len(s.LoadBalancers) > 0 {
			app.groups[c] = aws.ToString(s.LoadBalancers[0].TargetGroupArn)
		}
		app.clusterARN = firstOf(app.clusterARN, aws.ToString(s.ClusterArn))
		app.family = firstOf(app.family, taskdef.Family(aws.ToString(s.TaskDefinition)))
	}
	if cfg.Router == "alb" {
		for _, c := range color.All {
			if app.groups[c] == "" {
				return app, config.Errorf("target-group-"+string(c), "is required: ECS service %s-%s does not exist yet or has no load balancer to read it from", cfg.App, c)
			}
		}
	}
	return app, nil
}

// awsRouter builds routers alb, elb and route53, and reads the route
// once so that a route that cannot work (ELB tags missing, a listener
// forwarding to neither color) is reported as a bad input before any write.
func awsRouter(ctx context.Context, cfg *config.Config, awsCfg aws.Config, groups map[color.Color]string, deps *deploy.Deps) error {
	a := cfg.AWS
	dry := bool(cfg.DryRun)
	var input string
	switch cfg.Router {
	case alb.Type:
		r, err := alb.New(alb.Config{
			API: elasticloadbalancingv2.NewFromConfig(awsCfg), ListenerARN: a.ListenerARN, RuleARN: a.RuleARN,
			TestListenerARN: a.TestListenerARN, TargetGroups: groups,
		}, alb.WithDryRun(dry), alb.WithStickiness(cfg.StickyDuration.D()))
		if err != nil {
			return config.Errorf("listener-arn", "%v", err)
		}
		deps.Router, input = r, "listener-arn"
		if p := r.Preview(); p != nil {
			deps.Preview = p
		}
	case elb.Type:
		ports, _ := a.Ports()
		r, err := elb.New(elb.Config{API: elasticloadbalancing.NewFromConfig(awsCfg), LoadBalancerName: a.LoadBalancerName, ListenerPorts: ports},
			elb.WithTimeout(cfg.WaitTimeout.D()))
		if err != nil {
			return config.Errorf("load-balancer-name", "%v", err)
		}
		deps.Router, input = r, "load-balancer-name"
	case route53.Type:
		r, err := route53.New(route53.Config{API: awsroute53.NewFromConfig(awsCfg), HostedZoneID: a.HostedZoneID, RecordName: a.RecordName},
			route53.WithTimeout(cfg.WaitTimeout.D()))
		if err != nil {
			return config.Errorf("record-name", "%v", err)
		}
		deps.Router, input = r, "record-name"
	default:
		return config.Errorf("router", "unknown router %q, valid routers are %q", cfg.Router, config.RoutersOf(cfg.Platform))
	}
	if _, err := deps.Router.Read(ctx); err != nil {
		var tagErr *elb.TagError
		var portErr *elb.ListenerError
		if errors.As(err, &portErr) {
			return config.Errorf("listener-ports", "%v", err)
		}
		if errors.As(err, &tagErr) || awsapi.HasCode(err, "LoadBalancerNotFound", "ListenerNotFound", "RuleNotFound", "NoSuchHostedZone", "TargetGroupNotFound") || !isTransient(err) {
			return config.Errorf(input, "%v", err)
		}
		return err
	}
	return nil
}

// isTransient reports whether err is a passing AWS fault (throttling, a
// 5xx, the network) rather than a route that cannot work.
func isTransient(err error) bool {
	return awsapi.IsThrottle(err) || transient(err) || awsapi.HasCode(err, "InternalError", "ServiceUnavailable", "InternalFailure")
}

var _ router.Router = (*alb.Router)(nil)

// awsTimeout bounds each HTTP exchange with AWS by request-timeout (the
// SDK retries one that runs out, a few times, with backoff).
func awsTimeout(cfg *config.Config) awsapi.Option {
	return awsapi.WithHTTPTimeout(cfg.RequestTimeout.D())
}
