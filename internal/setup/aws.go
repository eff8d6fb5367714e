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
func ecsPlatform(ctx context.Context, e *buildEnv) error {
	cfg, rep, deps := e.cfg, e.rep, e.deps
	awsCfg, err := e.aws(ctx)
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
	e.groups = app.groups
	return newRouter(ctx, e)
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
	return app, nil
}

// albRouter builds router alb: the weighted forward of an ALB listener
// or rule, between the colors' target groups that platform ecs found.
func albRouter(ctx context.Context, e *buildEnv) error {
	cfg, a := e.cfg, e.cfg.AWS
	for _, c := range color.All {
		if e.groups[c] == "" {
			return config.Errorf("target-group-"+string(c), "is required: ECS service %s-%s does not exist yet or has no load balancer to read it from", cfg.App, c)
		}
	}
	awsCfg, err := e.aws(ctx)
	if err != nil {
		return err
	}
	r, err := alb.New(alb.Config{
		API: elasticloadbalancingv2.NewFromConfig(awsCfg), ListenerARN: a.ListenerARN, RuleARN: a.RuleARN,
		TestListenerARN: a.TestListenerARN, TargetGroups: e.groups,
	}, alb.WithDryRun(bool(cfg.DryRun)), alb.WithStickiness(cfg.StickyDuration.D()))
	if err != nil {
		return config.Errorf("listener-arn", "%v", err)
	}
	if p := r.Preview(); p != nil {
		e.deps.Preview = p
	}
	return readAWSRoute(ctx, e.deps, r, "listener-arn")
}

// elbRouter builds router elb: a classic ELB's listeners switched between
// the colors' instance ports. The colors are reached through the ELB's
// own entry points; on Kubernetes the preview Service still points at
// the idle color for checks.
func elbRouter(ctx context.Context, e *buildEnv) error {
	a := e.cfg.AWS
	awsCfg, err := e.aws(ctx)
	if err != nil {
		return err
	}
	ports, _ := a.Ports()
	r, err := elb.New(elb.Config{API: elasticloadbalancing.NewFromConfig(awsCfg), LoadBalancerName: a.LoadBalancerName, ListenerPorts: ports},
		elb.WithTimeout(e.cfg.WaitTimeout.D()))
	if err != nil {
		return config.Errorf("load-balancer-name", "%v", err)
	}
	return readAWSRoute(ctx, e.deps, r, "load-balancer-name")
}

// route53Router builds router route53: two weighted records.
func route53Router(ctx context.Context, e *buildEnv) error {
	a := e.cfg.AWS
	awsCfg, err := e.aws(ctx)
	if err != nil {
		return err
	}
	r, err := route53.New(route53.Config{API: awsroute53.NewFromConfig(awsCfg), HostedZoneID: a.HostedZoneID, RecordName: a.RecordName},
		route53.WithTimeout(e.cfg.WaitTimeout.D()))
	if err != nil {
		return config.Errorf("record-name", "%v", err)
	}
	return readAWSRoute(ctx, e.deps, r, "record-name")
}

// readAWSRoute reads r's route once, so that a route that cannot work
// (ELB tags missing, a listener forwarding to neither color) is reported
// as a bad input before any write, and makes r the run's router.
func readAWSRoute(ctx context.Context, deps *deploy.Deps, r router.Router, input string) error {
	if _, err := r.Read(ctx); err != nil {
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
	deps.Router = r
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
