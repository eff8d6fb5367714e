package ecs

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

const (
	prefix      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	listenerARN = prefix + "listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	blueTG      = prefix + "targetgroup/shop-blue/73e2d6bc24d8a067"
	greenTG     = prefix + "targetgroup/shop-green/943f017f100becff"
)

var colors = map[color.Color]string{color.Blue: blueTG, color.Green: greenTG}

// env is a cluster "prod" with service shop-blue running two tasks of
// shop:v1 behind blueTG; the listener forwards to blue, green at weight 0.
type env struct {
	ecs *awsfake.ECS
	elb *awsfake.ELBv2
}

type breaker int

const (
	noBreaker breaker = iota
	failOnly
	rollBack
)

func newEnv(t *testing.T, b breaker) *env {
	t.Helper()
	lb := awsfake.NewELBv2()
	lb.AddTargetGroup(blueTG, greenTG)
	if err := lb.AddListener(listenerARN, awsfake.Forward(blueTG, 1, greenTG, 0)); err != nil {
		t.Fatal(err)
	}
	f := awsfake.NewECS(lb)
	f.AddCluster("prod")
	_, err := f.RegisterTaskDefinition(t.Context(), &awsecs.RegisterTaskDefinitionInput{
		Family: aws.String("shop"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("log-router"), Image: aws.String("fluent-bit:2"), Essential: aws.Bool(false)},
			{Name: aws.String("web"), Image: aws.String("shop:v1"), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}},
		},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("shop")}, {Key: aws.String(ImageTag), Value: aws.String("shop:v1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dc := &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: b != noBreaker, Rollback: b == rollBack}}
	_, err = f.CreateService(t.Context(), &awsecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("shop-blue"), TaskDefinition: aws.String("shop"),
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate, DeploymentConfiguration: dc,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1", "subnet-2"}}},
		LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String(blueTG), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
		Tags:                 []types.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Settle()
	f.AutoTick(1) // from here on, time moves as the code under test polls
	return &env{ecs: f, elb: lb}
}

func (e *env) platform(t *testing.T, mod func(*Config), opts ...Option) *Platform {
	t.Helper()
	cfg := Config{API: e.ecs, ELB: e.elb, Cluster: "prod", App: "shop", TargetGroups: colors}
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg, append([]Option{WithPoll(time.Millisecond), WithProgressEvery(time.Hour)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// lines collects progress lines.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, s)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

func release(image string) platform.Release {
	return platform.Release{Image: image, GitSHA: "0123abc", RunURL: "https://github.com/o/shop/actions/runs/42", DeployedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, nil)
	got, err := p.Describe(t.Context(), color.Blue)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Exists || !got.Healthy || got.Desired != 2 || got.Ready != 2 || got.Release.Image != "shop:v1" {
		t.Errorf("Describe(blue) = %+v, want it to exist, healthy, 2/2 ready, running shop:v1", got)
	}
	got, err = p.Describe(t.Context(), color.Green)
	if err != nil {
		t.Fatal(err)
	}
	if got.Exists || got.Healthy {
		t.Errorf("Describe(green) = %+v, want a missing service", got)
	}

	// One target going unhealthy is enough to make the color unhealthy.
	var one string
	for id := range e.elb.Targets(blueTG) {
		one = id
	}
	e.elb.SetHealth(blueTG, one, awsfake.Unhealthy)
	e.ecs.AutoTick(0)
	got, err = p.Describe(t.Context(), color.Blue)
	if err != nil {
		t.Fatal(err)
	}
	if got.Healthy || got.Ready != 1 {
		t.Errorf("Describe(blue) with an unhealthy target = healthy %v, ready %d; want false, 1", got.Healthy, got.Ready)
	}
}

func TestScale(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, nil)
	if err := p.Scale(t.Context(), color.Blue, 0); err != nil {
		t.Fatal(err)
	}
	e.ecs.Settle()
	got, err := p.Describe(t.Context(), color.Blue)
	if err != nil {
		t.Fatal(err)
	}
	if got.Desired != 0 || got.Healthy || got.Release.Image != "shop:v1" {
		t.Errorf("after Scale(0): %+v", got)
	}
	if got := e.ecs.Service("prod", "shop-blue").TaskDefinition; !strings.HasSuffix(aws.ToString(got), "shop:1") {
		t.Errorf("Scale changed the task definition to %q", aws.ToString(got))
	}
	if err := p.Scale(t.Context(), color.Green, 1); err == nil || !strings.Contains(err.Error(), `scaling service "shop-green" to 1 tasks`) {
		t.Errorf("Scale of a missing service = %v", err)
	}
}

func TestParseTaskDefinition(t *testing.T) {
	t.Parallel()
	const file = `{"family": "shop", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
	  "containerDefinitions": [
	    {"name": "sidecar", "image": "envoy:1", "essential": false},
	    {"name": "web", "image": "shop:v1", "cpu": 128, "portMappings": [{"containerPort": 8080}]}]}`
	const describeOutput = `{"taskDefinition": {"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:7",
	  "family": "shop", "revision": 7, "status": "ACTIVE", "registeredAt": "2025-01-01T00:00:00.000Z",
	  "containerDefinitions": [{"name": "web", "image": "shop:v1"}]},
	  "tags": [{"key": "team", "value": "shop"}]}`
	cases := []struct {
		name, data, container string
		wantErr               string
		wantPick              string
	}{
		{name: "first essential", data: file, wantPick: "web"},
		{name: "named", data: file, container: "sidecar", wantPick: "sidecar"},
		{name: "describe output", data: describeOutput, wantPick: "web"},
		{name: "missing container", data: file, container: "api", wantErr: `the task definition file has no container "api"; its containers are ["sidecar" "web"]`},
		{name: "invalid JSON", data: `{"family": "shop",`, wantErr: "parsing task definition: unexpected end of JSON input"},
		{name: "wrong type", data: `{"family": 7}`, wantErr: "parsing task definition: json: cannot unmarshal number"},
		{name: "no family", data: `{"containerDefinitions": [{"name": "web", "image": "x"}]}`, wantErr: `no "family"`},
		{name: "no containers", data: `{"family": "shop"}`, wantErr: `no "containerDefinitions"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, err := ParseTaskDefinition([]byte(tc.data), tc.container)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseTaskDefinition() = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			i, err := pickContainer(in.ContainerDefinitions, tc.container, "file")
			if err != nil || aws.ToString(in.ContainerDefinitions[i].Name) != tc.wantPick {
				t.Errorf("picked %d (%v), want %q", i, err, tc.wantPick)
			}
		})
	}
	in, err := ParseTaskDefinition([]byte(describeOutput), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Tags) != 1 || aws.ToString(in.Tags[0].Key) != "team" {
		t.Errorf("tags of a describe output = %+v, want team=shop", in.Tags)
	}
}

func TestImageRef(t *testing.T) {
	t.Parallel()
	const d = "sha256:" + "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	cases := []struct{ image, digest, want string }{
		{"shop:v1", "", "shop:v1"},
		{"shop:v1", d, "shop@" + d},
		{"localhost:5000/shop:v1", d, "localhost:5000/shop@" + d},
		{"localhost:5000/shop", d, "localhost:5000/shop@" + d},
		{"shop@" + d, d, "shop@" + d},
	}
	for _, tc := range cases {
		if got := imageRef(platform.Release{Image: tc.image, Digest: tc.digest}); got != tc.want {
			t.Errorf("imageRef(%q, %q) = %q, want %q", tc.image, tc.digest, got, tc.want)
		}
	}
}
