package deploy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/gate"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/ecs"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/alb"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

const (
	arnPrefix = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
	listener  = arnPrefix + "listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	blueTG    = arnPrefix + "targetgroup/shop-blue/73e2d6bc24d8a067"
	greenTG   = arnPrefix + "targetgroup/shop-green/943f017f100becff"
)

// awsGround is the ECS + ALB pattern: cluster prod, service shop-blue
// serving shop:v1 behind blueTG, the listener forwarding all to blue and
// green's target group attached at weight 0.
type awsGround struct {
	t   *testing.T
	ecs *awsfake.ECS
	elb *awsfake.ELBv2
	// history and locker, when set, are given to the runs.
	history history.Store
	locker  lock.Locker
	// gates are the metric gates of each run.
	gates []gate.Gate
	// sticky is the sticky-duration of each run.
	sticky time.Duration
}

func newAWSGround(t *testing.T) *awsGround {
	t.Helper()
	lb := awsfake.NewELBv2()
	lb.AddTargetGroup(blueTG, greenTG)
	if err := lb.AddListener(listener, awsfake.Forward(blueTG, 1, greenTG, 0)); err != nil {
		t.Fatal(err)
	}
	f := awsfake.NewECS(lb)
	f.AddCluster("prod")
	ctx := t.Context()
	if _, err := f.RegisterTaskDefinition(ctx, &awsecs.RegisterTaskDefinitionInput{
		Family: aws.String("shop"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("shop:v1"), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}},
		Tags:                    []types.Tag{{Key: aws.String(ecs.ImageTag), Value: aws.String("shop:v1")}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CreateService(ctx, &awsecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("shop-blue"), TaskDefinition: aws.String("shop"),
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
		NetworkConfiguration:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LoadBalancers:           []types.LoadBalancer{{TargetGroupArn: aws.String(blueTG), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
	}); err != nil {
		t.Fatal(err)
	}
	f.Settle()
	f.AutoTick(1)
	return &awsGround{t: t, ecs: f, elb: lb}
}

// run executes command with the ECS platform and ALB router over the doubles.
func (g *awsGround) run(command command.Name, image string, tweak func(*deploy.Options)) (report.Result, error, string) {
	g.t.Helper()
	opts := deploy.Options{
		App: "shop", Release: platform.Release{Image: image}, WaitTimeout: time.Minute, VerifyTimeout: time.Second,
		Poll: time.Millisecond, Grace: 10 * time.Second,
	}
	if tweak != nil {
		tweak(&opts)
	}
	// A dry run reaches the platform and router as setup passes it on.
	groups := map[color.Color]string{color.Blue: blueTG, color.Green: greenTG}
	p, err := ecs.New(ecs.Config{API: g.ecs, ELB: g.elb, Cluster: "prod", App: "shop", TargetGroups: groups},
		ecs.WithPoll(time.Millisecond), ecs.WithProgressEvery(time.Hour), ecs.WithDryRun(opts.DryRun))
	if err != nil {
		g.t.Fatal(err)
	}
	r, err := alb.New(alb.Config{API: g.elb, ListenerARN: listener, TargetGroups: groups},
		alb.WithReadBack(5, time.Millisecond), alb.WithDryRun(opts.DryRun), alb.WithStickiness(g.sticky))
	if err != nil {
		g.t.Fatal(err)
	}
	log := &syncBuffer{}
	deps := deploy.Deps{Platform: p, Router: r, Reporter: plain.New(log), Checker: &verify.Checker{Interval: time.Millisecond}, Gates: g.gates}
	if g.history != nil {
		deps.History = g.history
	}
	if g.locker != nil {
		deps.Locker = g.locker
	}
	res, err := deploy.New(command, opts, deps).Execute(g.t.Context())
	return res, err, log.String()
}

// weights returns the listener's forward weights for blue and green.
func (g *awsGround) weights() (int32, int32) {
	g.t.Helper()
	var b, gr int32
	for _, a := range g.elb.DefaultActions(listener) {
		if a.ForwardConfig == nil {
			continue
		}
		for _, tg := range a.ForwardConfig.TargetGroups {
			switch aws.ToString(tg.TargetGroupArn) {
			case blueTG:
				b = aws.ToInt32(tg.Weight)
			case greenTG:
				gr = aws.ToInt32(tg.Weight)
			}
		}
	}
	return b, gr
}

func TestECSDeployAndRollback(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	res, err, log := g.run("deploy", "shop:v2", nil)
	if err != nil {
		t.Fatalf("deploy failed: %v\n%s", err, log)
	}
	if res.Outcome != report.Success || res.ActiveColor != "green" || !res.Changed {
		t.Errorf("result %s, active %s, changed %v; want success, green, true", res.Outcome, res.ActiveColor, res.Changed)
	}
	if b, gr := g.weights(); b != 0 || gr == 0 {
		t.Errorf("listener weights blue %d green %d, want all on green", b, gr)
	}
	blue := colorState(res, "blue")
	if blue.Image != "shop:v1" || blue.Ready != 2 || blue.Live {
		t.Errorf("blue after the switch = %+v, want warm with shop:v1 and 2 running", blue)
	}

	modifies := g.elb.Count("ModifyListener")
	res, err, log = g.run("rollback", "", nil)
	if err != nil {
		t.Fatalf("rollback failed: %v\n%s", err, log)
	}
	if got := g.elb.Count("ModifyListener") - modifies; got != 1 {
		t.Errorf("rollback made %d listener writes, want exactly 1", got)
	}
	if b, gr := g.weights(); b == 0 || gr != 0 {
		t.Errorf("after rollback weights blue %d green %d, want all on blue", b, gr)
	}
	if res.ActiveColor != "blue" || res.Image != "shop:v1" {
		t.Errorf("rollback result active %s image %s, want blue shop:v1", res.ActiveColor, res.Image)
	}
}

// TestECSFailedRolloutNeverSwitches covers a crash-looping release (the
// circuit breaker rolls the service back) and one whose targets fail
// their health checks: the run fails, saying why, and the listener is
// never written.
func TestECSFailedRolloutNeverSwitches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		outcome awsfake.Outcome
		want    string
	}{
		{"crash loop", awsfake.Crashes, "not ready"},
		{"failing health checks", awsfake.FailsHealthChecks, "not ready"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newAWSGround(t)
			g.ecs.SetOutcome("shop:bad", tc.outcome)
			res, err, log := g.run("deploy", "shop:bad", func(o *deploy.Options) { o.WaitTimeout = 2 * time.Second })
			if err == nil {
				t.Fatalf("deploy of a failing release succeeded:\n%s", log)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if res.Outcome != report.Failed || res.ActiveColor != "blue" {
				t.Errorf("result %s active %s, want failed with blue live", res.Outcome, res.ActiveColor)
			}
			if n := g.elb.Count("ModifyListener"); n != 0 {
				t.Errorf("listener written %d times for a release that never became healthy", n)
			}
		})
	}
}

func TestECSBakeFailurePutsTrafficBack(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad release", http.StatusInternalServerError)
	}))
	defer prod.Close()
	res, err, log := g.run("deploy", "shop:v2", func(o *deploy.Options) {
		o.BakeTime, o.ProductionURL = time.Second, prod.URL
	})
	if err == nil {
		t.Fatalf("deploy with a failing bake succeeded:\n%s", log)
	}
	if res.Outcome != report.RolledBack || res.ActiveColor != "blue" {
		t.Errorf("result %s active %s, want rolled-back with blue live", res.Outcome, res.ActiveColor)
	}
	if b, gr := g.weights(); b == 0 || gr != 0 {
		t.Errorf("weights after a failed bake: blue %d green %d, want all back on blue", b, gr)
	}
}
