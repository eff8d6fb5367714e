package awsfake

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
)

// newShop returns ECS and ELBv2 doubles with service shop-blue running
// two tasks of shop:1 (image shop:v1) behind testBlue, settled.
func newShop(t *testing.T, breaker bool) (*ECS, *ELBv2) {
	t.Helper()
	lb := NewELBv2()
	lb.AddTargetGroup(testBlue, testGreen)
	if err := lb.AddListener(testListener, Forward(testBlue, 1, testGreen, 0)); err != nil {
		t.Fatal(err)
	}
	f := NewECS(lb)
	f.AddCluster("prod")
	register(t, f, "shop:v1")
	_, err := f.CreateService(t.Context(), &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("shop-blue"), TaskDefinition: aws.String("shop"),
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LoadBalancers:           []types.LoadBalancer{{TargetGroupArn: aws.String(testBlue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: breaker, Rollback: breaker}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Settle()
	return f, lb
}

func register(t *testing.T, f *ECS, image string) string {
	t.Helper()
	out, err := f.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("shop"), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(image), Essential: aws.Bool(true)}},
		Tags:                 []types.Tag{{Key: aws.String("bluegreen:image"), Value: aws.String(image)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// deployments summarises a service's deployments as status/rollout/revision.
func deployments(s *types.Service) string {
	var out []string
	for _, d := range s.Deployments {
		td := aws.ToString(d.TaskDefinition)
		out = append(out, aws.ToString(d.Status)+"/"+string(d.RolloutState)+"/"+td[strings.LastIndex(td, ":")+1:])
	}
	return strings.Join(out, " ")
}

func TestTaskDefinitions(t *testing.T) {
	t.Parallel()
	f := NewECS(nil)
	if got, want := register(t, f, "shop:v1"), "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:1"; got != want {
		t.Errorf("first revision %q, want %q", got, want)
	}
	if got := register(t, f, "shop:v2"); !strings.HasSuffix(got, "shop:2") {
		t.Errorf("second revision %q, want shop:2", got)
	}
	out, err := f.DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("shop")})
	if err != nil {
		t.Fatal(err)
	}
	if out.TaskDefinition.Revision != 2 || out.Tags != nil {
		t.Errorf("describe without Include: revision %d, tags %v; want 2 and no tags", out.TaskDefinition.Revision, out.Tags)
	}
	out, err = f.DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("shop:1"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Tags[0].Value); got != "shop:v1" {
		t.Errorf("tag of shop:1 = %q, want shop:v1", got)
	}
	_, err = f.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("shop"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("x")}},
		Tags:                 []types.Tag{{Key: aws.String("url"), Value: aws.String("https://x/?a=1&b=2")}},
	})
	if code(err) != "InvalidParameterException" {
		t.Errorf("tag value with '?' and '&': %v, want InvalidParameterException", err)
	}
	list, err := f.ListTaskDefinitions(t.Context(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("shop"), Sort: types.SortOrderDesc})
	if err != nil {
		t.Fatal(err)
	}
	if got := list.TaskDefinitionArns; len(got) != 2 || !strings.HasSuffix(got[0], ":2") {
		t.Errorf("ListTaskDefinitions DESC = %q", got)
	}
}

func TestRollingDeployment(t *testing.T) {
	t.Parallel()
	f, lb := newShop(t, true)
	if got, want := deployments(f.Service("prod", "shop-blue")), "PRIMARY/COMPLETED/1"; got != want {
		t.Fatalf("after create: %q, want %q", got, want)
	}
	register(t, f, "shop:v2")
	if _, err := f.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("shop-blue"), TaskDefinition: aws.String("shop:2")}); err != nil {
		t.Fatal(err)
	}
	if got, want := deployments(f.Service("prod", "shop-blue")), "PRIMARY/IN_PROGRESS/2 ACTIVE/COMPLETED/1"; got != want {
		t.Errorf("after update: %q, want %q", got, want)
	}
	var seenBoth bool
	for range 10 {
		f.Tick()
		s := f.Service("prod", "shop-blue")
		if len(s.Deployments) == 2 && s.Deployments[0].RunningCount == 2 && s.Deployments[1].RunningCount == 2 {
			seenBoth = true
		}
	}
	if !seenBoth {
		t.Error("never saw the old deployment still running beside the new one")
	}
	s := f.Service("prod", "shop-blue")
	if got, want := deployments(s), "PRIMARY/COMPLETED/2"; got != want {
		t.Errorf("settled: %q, want %q", got, want)
	}
	if s.RunningCount != 2 {
		t.Errorf("running %d, want 2", s.RunningCount)
	}
	healthy := 0
	for _, h := range lb.Targets(testBlue) {
		if h == Healthy {
			healthy++
		}
	}
	if len(lb.Targets(testBlue)) != 2 || healthy != 2 {
		t.Errorf("targets %v, want the 2 new tasks healthy and the old ones gone", lb.Targets(testBlue))
	}
}

func TestCircuitBreakerRollsBack(t *testing.T) {
	t.Parallel()
	f, _ := newShop(t, true)
	register(t, f, "shop:bad")
	f.SetOutcome("shop:bad", Crashes)
	if _, err := f.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("shop-blue"), TaskDefinition: aws.String("shop:2")}); err != nil {
		t.Fatal(err)
	}
	f.Settle()
	s := f.Service("prod", "shop-blue")
	if got, want := deployments(s), "PRIMARY/COMPLETED/1"; got != want {
		t.Errorf("after the rollback settled: %q, want %q", got, want)
	}
	var msgs []string
	for _, e := range s.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"deployment failed: tasks failed to start", "rolling back to deployment"} {
		if !strings.Contains(all, want) {
			t.Errorf("events lack %q:\n%s", want, all)
		}
	}
	stopped, err := f.ListTasks(t.Context(), &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("shop-blue"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := f.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: stopped.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	crashed := slices.ContainsFunc(tasks.Tasks, func(t types.Task) bool {
		return aws.ToString(t.StoppedReason) == "Essential container in task exited" && aws.ToInt32(t.Containers[0].ExitCode) == 1
	})
	if !crashed {
		t.Errorf("no stopped task says its essential container exited")
	}
}

func TestFailedWithoutRollback(t *testing.T) {
	t.Parallel()
	f, lb := newShop(t, false)
	register(t, f, "shop:sick")
	f.SetOutcome("shop:sick", FailsHealthChecks)
	if _, err := f.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("shop-blue"), TaskDefinition: aws.String("shop:2")}); err != nil {
		t.Fatal(err)
	}
	seen := map[Health]bool{}
	for range 12 {
		f.Tick()
		for _, h := range lb.Targets(testBlue) {
			seen[h] = true
		}
	}
	if got, want := deployments(f.Service("prod", "shop-blue")), "PRIMARY/IN_PROGRESS/2 ACTIVE/COMPLETED/1"; got != want {
		t.Errorf("without a circuit breaker: %q, want %q (the rollout never ends)", got, want)
	}
	for _, want := range []Health{Initial, Unhealthy, Draining, Healthy} {
		if !seen[want] {
			t.Errorf("targets never were %+v; seen %v", want, seen)
		}
	}
	if got := f.Service("prod", "shop-blue").Deployments[0].FailedTasks; got < 4 {
		t.Errorf("failed tasks %d, want the replaced tasks counted", got)
	}
}

func TestECSErrors(t *testing.T) {
	t.Parallel()
	f, _ := newShop(t, true)
	out, err := f.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"shop-blue", "shop-green"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("describe of a missing service: %d services, failures %+v; want 1 and a MISSING failure", len(out.Services), out.Failures)
	}
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{name: "unknown cluster", code: "ClusterNotFoundException", call: func() error {
			_, err := f.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("nope"), Services: []string{"shop-blue"}})
			return err
		}},
		{name: "update of a missing service", code: "ServiceNotFoundException", call: func() error {
			_, err := f.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("shop-green"), DesiredCount: aws.Int32(1)})
			return err
		}},
		{name: "service created twice", code: "InvalidParameterException", call: func() error {
			_, err := f.CreateService(t.Context(), &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("shop-blue"), TaskDefinition: aws.String("shop"),
				NetworkConfiguration: &types.NetworkConfiguration{}})
			return err
		}},
		{name: "target group without a load balancer", code: "InvalidParameterException", call: func() error {
			f.elb.AddTargetGroup("tg-orphan")
			_, err := f.CreateService(t.Context(), &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("shop-green"), TaskDefinition: aws.String("shop"),
				NetworkConfiguration: &types.NetworkConfiguration{},
				LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String("tg-orphan"), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}})
			return err
		}},
	}
	for _, tc := range cases {
		if got := code(tc.call()); got != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.code)
		}
	}
	var nf *types.ServiceNotFoundException
	_, err = f.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("nope")})
	if !errors.As(err, &nf) {
		t.Errorf("UpdateService of an unknown service: %v, want *types.ServiceNotFoundException", err)
	}

	f.ThrottleEvery(1)
	_, err = f.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"shop-blue"}})
	if got := code(err); got != "ThrottlingException" {
		t.Errorf("throttled call: %q, want ThrottlingException", got)
	}
	if diff := cmp.Diff(3, f.Count("DescribeServices")); diff != "" {
		t.Errorf("DescribeServices calls (-want +got):\n%s", diff)
	}
}
