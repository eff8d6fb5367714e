package ecs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

func TestDeployCreatesIdleServiceAsCopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, nil)
	r := release("shop:v2")
	r.Digest = "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	if err := p.Deploy(t.Context(), color.Green, r, 2); err != nil {
		t.Fatal(err)
	}
	var progress lines
	if err := p.Wait(t.Context(), color.Green, progress.add); err != nil {
		t.Fatalf("Wait: %v\nprogress:\n%s", err, &progress)
	}
	if !strings.Contains(progress.String(), "targets 0/2 healthy, 2 initial (Elb.RegistrationInProgress)") {
		t.Errorf("progress never showed the targets' health:\n%s", &progress)
	}

	green := e.ecs.Service("prod", "shop-green")
	blue := e.ecs.Service("prod", "shop-blue")
	if diff := cmp.Diff(blue.NetworkConfiguration.AwsvpcConfiguration.Subnets, green.NetworkConfiguration.AwsvpcConfiguration.Subnets); diff != "" {
		t.Errorf("subnets not copied (-blue +green):\n%s", diff)
	}
	if got := aws.ToString(green.LoadBalancers[0].TargetGroupArn); got != greenTG {
		t.Errorf("green's load balancer block points at %q, want %q", got, greenTG)
	}
	if green.LaunchType != types.LaunchTypeFargate || !green.DeploymentConfiguration.DeploymentCircuitBreaker.Rollback {
		t.Errorf("launch type %q and circuit breaker %+v not copied", green.LaunchType, green.DeploymentConfiguration.DeploymentCircuitBreaker)
	}
	if diff := cmp.Diff(map[string]string{
		"team": "shop", ImageTag: "shop:v2", DigestTag: r.Digest, GitSHATag: "0123abc",
		RunURLTag: "https://github.com/o/shop/actions/runs/42", DeployedAtTag: "2025-03-01T10:00:00Z", ColorTag: "green",
	}, e.ecs.TaskDefinitionTags(aws.ToString(green.TaskDefinition))); diff != "" {
		t.Errorf("task definition tags (-want +got):\n%s", diff)
	}

	st, err := p.Describe(t.Context(), color.Green)
	if err != nil {
		t.Fatal(err)
	}
	want := r
	if diff := cmp.Diff(want, st.Release); diff != "" {
		t.Errorf("release read back (-want +got):\n%s", diff)
	}
	if !st.Healthy || st.Ready != 2 || st.Desired != 2 {
		t.Errorf("Describe(green) = %+v, want healthy 2/2", st)
	}
	out, err := e.ecs.DescribeTaskDefinition(t.Context(), &awsecs.DescribeTaskDefinitionInput{TaskDefinition: green.TaskDefinition})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.TaskDefinition.ContainerDefinitions[1].Image); got != "shop@"+r.Digest {
		t.Errorf("web runs %q, want the image pinned by digest", got)
	}
	if got := aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Image); got != "fluent-bit:2" {
		t.Errorf("the sidecar runs %q; only the essential container gets the image", got)
	}
}

func TestDeployUpdatesExistingService(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, nil)
	if err := p.Deploy(t.Context(), color.Blue, release("shop:v2"), 0); err != nil {
		t.Fatal(err)
	}
	s := e.ecs.Service("prod", "shop-blue")
	if got, want := len(s.Deployments), 2; got != want {
		t.Fatalf("deployments after Deploy: %d, want %d (new PRIMARY, old ACTIVE)", got, want)
	}
	if s.DesiredCount != 2 {
		t.Errorf("replicas 0 changed the desired count to %d", s.DesiredCount)
	}
	if err := p.Wait(t.Context(), color.Blue, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if got := e.ecs.Service("prod", "shop-blue").Deployments; len(got) != 1 || !strings.HasSuffix(aws.ToString(got[0].TaskDefinition), "shop:2") {
		t.Errorf("after Wait: %+v, want only shop:2", got)
	}
}

func TestDeployErrors(t *testing.T) {
	t.Parallel()
	t.Run("idle target group unknown", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, rollBack)
		p := e.platform(t, func(c *Config) { c.TargetGroups = nil })
		err := p.Deploy(t.Context(), color.Green, release("shop:v2"), 2)
		if err == nil || !strings.Contains(err.Error(), `creating it as a copy of "shop-blue" needs the green target group`) {
			t.Fatalf("Deploy = %v", err)
		}
		if got := e.ecs.Count("RegisterTaskDefinition"); got != 1 {
			t.Errorf("registered %d task definitions; want none beyond the fixture's", got-1)
		}
	})
	t.Run("nothing to copy", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, rollBack)
		p := e.platform(t, func(c *Config) { c.App = "cart" })
		if err := p.Deploy(t.Context(), color.Blue, release("cart:v1"), 1); !errors.Is(err, ErrNoSource) {
			t.Fatalf("Deploy = %v, want ErrNoSource", err)
		}
	})
	t.Run("file with another container", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, rollBack)
		in, err := ParseTaskDefinition([]byte(`{"family": "shop", "networkMode": "awsvpc", "containerDefinitions": [{"name": "web", "image": "x"}]}`), "")
		if err != nil {
			t.Fatal(err)
		}
		p := e.platform(t, func(c *Config) { c.TaskDefinition = in; c.Container = "api" })
		err = p.Deploy(t.Context(), color.Blue, release("shop:v2"), 2)
		if err == nil || !strings.Contains(err.Error(), `task definition "shop" has no container "api"; its containers are ["web"]`) {
			t.Fatalf("Deploy = %v", err)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, rollBack)
		e.ecs.ThrottleEvery(1)
		err := e.platform(t, nil).Deploy(t.Context(), color.Green, release("shop:v2"), 2)
		if !awsapi.IsThrottle(err) || !strings.Contains(err.Error(), `describing services ["shop-green" "shop-blue"] in cluster "prod"`) {
			t.Fatalf("Deploy = %v, want the throttling error with what was being done", err)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, rollBack)
		before := e.ecs.ByOperation()
		if err := e.platform(t, nil, WithDryRun(true)).Deploy(t.Context(), color.Green, release("shop:v2"), 2); err != nil {
			t.Fatal(err)
		}
		after := e.ecs.ByOperation()
		for _, op := range []string{"RegisterTaskDefinition", "CreateService", "UpdateService"} {
			if after[op] != before[op] {
				t.Errorf("dry run called %s", op)
			}
		}
	})
}

func TestDeployFromFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	in, err := ParseTaskDefinition([]byte(`{"family": "shop", "networkMode": "awsvpc",
	  "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
	  "containerDefinitions": [{"name": "web", "image": "placeholder", "portMappings": [{"containerPort": 8080}]}]}`), "web")
	if err != nil {
		t.Fatal(err)
	}
	p := e.platform(t, func(c *Config) { c.TaskDefinition = in; c.Container = "web" })
	if err := p.Deploy(t.Context(), color.Green, release("shop:v2"), 2); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(t.Context(), color.Green, func(string) {}); err != nil {
		t.Fatal(err)
	}
	out, err := e.ecs.DescribeTaskDefinition(t.Context(), &awsecs.DescribeTaskDefinitionInput{TaskDefinition: e.ecs.Service("prod", "shop-green").TaskDefinition})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.TaskDefinition.Cpu); got != "512" {
		t.Errorf("cpu %q, want the file's 512", got)
	}
	if got := aws.ToString(in.ContainerDefinitions[0].Image); got != "placeholder" {
		t.Errorf("Deploy changed the parsed file's image to %q", got)
	}
}

// staleOnce answers the first DescribeServices after arm with what it
// saw before the write, as ECS's eventually consistent reads may.
type staleOnce struct {
	API
	armed bool
	old   *awsecs.DescribeServicesOutput
}

func (s *staleOnce) DescribeServices(ctx context.Context, in *awsecs.DescribeServicesInput, opts ...func(*awsecs.Options)) (*awsecs.DescribeServicesOutput, error) {
	if s.armed {
		s.armed = false
		return s.old, nil
	}
	return s.API.DescribeServices(ctx, in, opts...)
}

func TestWaitToleratesStaleRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	stale := &staleOnce{API: e.ecs}
	p := e.platform(t, func(c *Config) { c.API = stale })
	old, err := e.ecs.DescribeServices(t.Context(), &awsecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"shop-blue"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Deploy(t.Context(), color.Blue, release("shop:v2"), 2); err != nil {
		t.Fatal(err)
	}
	stale.old, stale.armed = old, true
	var progress lines
	if err := p.Wait(t.Context(), color.Blue, progress.add); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if !strings.Contains(progress.String(), "the deployment of shop:2 does not show yet") {
		t.Errorf("progress:\n%s", &progress)
	}
	st, err := p.Describe(t.Context(), color.Blue)
	if err != nil || !st.Healthy || st.Release.Image != "shop:v2" {
		t.Errorf("Describe = %+v, %v", st, err)
	}
}

func TestDeployRefusesServiceInAnotherTargetGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, rollBack)
	p := e.platform(t, func(c *Config) {
		c.TargetGroups = map[color.Color]string{color.Blue: greenTG, color.Green: blueTG} // swapped
	})
	err := p.Deploy(t.Context(), color.Green, release("shop:v2"), 2)
	if err == nil || !strings.Contains(err.Error(), `service "shop-blue" registers its tasks in target group "`+blueTG+`", not in the blue target group "`+greenTG+`"`) {
		t.Fatalf("Deploy = %v", err)
	}
}
