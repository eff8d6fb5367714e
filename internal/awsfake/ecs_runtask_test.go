package awsfake

import (
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
)

var testNetwork = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}

// runInput runs command in container web of the latest shop revision.
func runInput(token string, command ...string) *ecs.RunTaskInput {
	in := &ecs.RunTaskInput{
		Cluster: aws.String("prod"), TaskDefinition: aws.String("shop"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: testNetwork, StartedBy: aws.String("bluegreen-migrate"),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("web"), Command: command}}},
	}
	if token != "" {
		in.ClientToken = aws.String(token)
	}
	return in
}

func newRunner(t *testing.T) *ECS {
	t.Helper()
	f := NewECS(nil)
	f.AddCluster("prod")
	register(t, f, "shop:v2")
	return f
}

func runOne(t *testing.T, f *ECS, in *ecs.RunTaskInput) string {
	t.Helper()
	out, err := f.RunTask(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 1 {
		t.Fatalf("RunTask started %d tasks, want 1", len(out.Tasks))
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

func describeTask(t *testing.T, f *ECS, arn string) types.Task {
	t.Helper()
	out, err := f.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 1 {
		t.Fatalf("DescribeTasks(%q): %d tasks, failures %+v", arn, len(out.Tasks), out.Failures)
	}
	return out.Tasks[0]
}

// stateOf summarises a task as last/desired/stopCode/exit code of its
// first container.
func stateOf(tk types.Task) string {
	s := aws.ToString(tk.LastStatus) + "/" + aws.ToString(tk.DesiredStatus)
	if tk.StopCode != "" {
		s += "/" + string(tk.StopCode)
	}
	if c := tk.Containers[0]; c.ExitCode != nil {
		s += "/" + strconv.Itoa(int(*c.ExitCode))
	}
	return s
}

func TestRunTaskLifecycle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		outcome RunOutcome
		stop    int // tick after which StopTask is called; 0: never
		want    []string
	}{
		{name: "exits 0", want: []string{
			"PROVISIONING/RUNNING", "PENDING/RUNNING", "RUNNING/RUNNING",
			"DEPROVISIONING/STOPPED/EssentialContainerExited/0", "STOPPED/STOPPED/EssentialContainerExited/0",
		}},
		{name: "exits 3 after two ticks", outcome: RunOutcome{ExitCode: 3, Ticks: 2}, want: []string{
			"PROVISIONING/RUNNING", "PENDING/RUNNING", "RUNNING/RUNNING", "RUNNING/RUNNING",
			"DEPROVISIONING/STOPPED/EssentialContainerExited/3", "STOPPED/STOPPED/EssentialContainerExited/3",
		}},
		{name: "stopped by the user", outcome: RunOutcome{Ticks: -1}, stop: 3, want: []string{
			"PROVISIONING/RUNNING", "PENDING/RUNNING", "RUNNING/RUNNING", "RUNNING/STOPPED/UserInitiated",
			"DEPROVISIONING/STOPPED/UserInitiated/143", "STOPPED/STOPPED/UserInitiated/143",
		}},
		{name: "fails to start", outcome: RunOutcome{StartFailure: "CannotPullContainerError: pull access denied"}, want: []string{
			"PROVISIONING/RUNNING", "PENDING/RUNNING",
			"DEPROVISIONING/STOPPED/TaskFailedToStart", "STOPPED/STOPPED/TaskFailedToStart",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newRunner(t)
			f.SetRunOutcome("", RunOutcome{ExitCode: 9}) // overridden below: the last match wins
			f.SetRunOutcome("migrate", tc.outcome)
			arn := runOne(t, f, runInput("", "migrate", "up"))
			var got []string
			for i := 0; ; i++ {
				tk := describeTask(t, f, arn)
				got = append(got, stateOf(tk))
				if aws.ToString(tk.LastStatus) == "STOPPED" || i > 10 {
					break
				}
				if i+1 == tc.stop {
					out, err := f.StopTask(t.Context(), &ecs.StopTaskInput{Cluster: aws.String("prod"), Task: aws.String(arn)})
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, stateOf(*out.Task))
				}
				f.Tick()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
			tk := describeTask(t, f, arn)
			if tc.outcome.StartFailure != "" {
				if got, want := aws.ToString(tk.Containers[0].Reason), tc.outcome.StartFailure; got != want {
					t.Errorf("container reason %q, want %q", got, want)
				}
			}
			if got, want := tk.Overrides.ContainerOverrides[0].Command, []string{"migrate", "up"}; !cmp.Equal(got, want) {
				t.Errorf("overrides command %q, want %q", got, want)
			}
			if got, want := aws.ToString(tk.StartedBy), "bluegreen-migrate"; got != want {
				t.Errorf("startedBy %q, want %q", got, want)
			}
		})
	}
}

// A task keeps running while its essential container does, even when the
// container that ran the command has exited.
func TestRunTaskNonEssentialCommand(t *testing.T) {
	t.Parallel()
	f := NewECS(nil)
	f.AddCluster("prod")
	_, err := f.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("shop"), NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("web"), Image: aws.String("shop:v2")},
			{Name: aws.String("tools"), Image: aws.String("shop-tools:v2"), Essential: aws.Bool(false)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := runOne(t, f, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("shop:1"),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("tools"), Command: []string{"migrate"}}}}})
	for range 5 {
		f.Tick()
	}
	tk := describeTask(t, f, arn)
	if got := aws.ToString(tk.LastStatus); got != "RUNNING" {
		t.Errorf("task %s, want RUNNING", got)
	}
	if c := tk.Containers[1]; aws.ToString(c.LastStatus) != "STOPPED" || c.ExitCode == nil || *c.ExitCode != 0 {
		t.Errorf("non-essential container: %s, exit %v; want STOPPED with exit code 0", aws.ToString(c.LastStatus), c.ExitCode)
	}
}

func TestRunTaskClientToken(t *testing.T) {
	t.Parallel()
	f := newRunner(t)
	first := runOne(t, f, runInput("tok-1", "migrate"))
	if again := runOne(t, f, runInput("tok-1", "migrate")); again != first {
		t.Errorf("retry with the same token started %q, want the first task %q", again, first)
	}
	list, err := f.ListTasks(t.Context(), &ecs.ListTasksInput{Cluster: aws.String("prod"), StartedBy: aws.String("bluegreen-migrate")})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(list.TaskArns); got != 1 {
		t.Errorf("%d tasks listed, want 1", got)
	}
	_, err = f.RunTask(t.Context(), runInput("tok-1", "migrate", "down"))
	if got := code(err); got != "ConflictException" {
		t.Errorf("same token, other command: %v, want ConflictException", err)
	}
}

func TestRunTaskErrors(t *testing.T) {
	t.Parallel()
	f := newRunner(t)
	cases := []struct {
		name string
		in   func(*ecs.RunTaskInput)
		code string
	}{
		{name: "unknown cluster", code: "ClusterNotFoundException", in: func(in *ecs.RunTaskInput) { in.Cluster = aws.String("nope") }},
		{name: "unknown task definition", code: "InvalidParameterException", in: func(in *ecs.RunTaskInput) { in.TaskDefinition = aws.String("shop:9") }},
		{name: "no task definition", code: "InvalidParameterException", in: func(in *ecs.RunTaskInput) { in.TaskDefinition = nil }},
		{name: "awsvpc without network", code: "InvalidParameterException", in: func(in *ecs.RunTaskInput) { in.NetworkConfiguration = nil }},
		{name: "launch type and strategy", code: "InvalidParameterException", in: func(in *ecs.RunTaskInput) {
			in.CapacityProviderStrategy = []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT")}}
		}},
		{name: "unknown container", code: "InvalidParameterException", in: func(in *ecs.RunTaskInput) {
			in.Overrides.ContainerOverrides[0].Name = aws.String("worker")
		}},
		{name: "count", code: "InvalidParameterException", in: func(in *ecs.RunTaskInput) { in.Count = aws.Int32(11) }},
		{name: "startedBy", code: "InvalidParameterException", in: func(in *ecs.RunTaskInput) { in.StartedBy = aws.String("blue green") }},
	}
	for _, tc := range cases {
		in := runInput("", "migrate")
		tc.in(in)
		if _, err := f.RunTask(t.Context(), in); code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	_, err := f.StopTask(t.Context(), &ecs.StopTaskInput{Cluster: aws.String("prod"), Task: aws.String("0123")})
	if got := code(err); got != "InvalidParameterException" {
		t.Errorf("StopTask of an unknown task: %v, want InvalidParameterException", err)
	}
	f.ThrottleEvery(1)
	if _, err := f.RunTask(t.Context(), runInput("", "migrate")); code(err) != "ThrottlingException" {
		t.Errorf("throttled RunTask: %v, want ThrottlingException", err)
	}
}
