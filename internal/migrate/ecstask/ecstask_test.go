package ecstask

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
)

// ticking is the ECS double with time passing: one tick before each read
// of a task, as a poll interval passing would. onTask sees every task
// read, onRun every RunTask call before the double does.
type ticking struct {
	*awsfake.ECS
	onTask func(types.Task)
	onRun  func()
}

func (t *ticking) RunTask(ctx context.Context, in *awsecs.RunTaskInput, opts ...func(*awsecs.Options)) (*awsecs.RunTaskOutput, error) {
	if t.onRun != nil {
		t.onRun()
	}
	return t.ECS.RunTask(ctx, in, opts...)
}

func (t *ticking) DescribeTasks(ctx context.Context, in *awsecs.DescribeTasksInput, opts ...func(*awsecs.Options)) (*awsecs.DescribeTasksOutput, error) {
	t.Tick()
	out, err := t.ECS.DescribeTasks(ctx, in, opts...)
	if err == nil && t.onTask != nil {
		for _, tk := range out.Tasks {
			t.onTask(tk)
		}
	}
	return out, err
}

var network = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
	Subnets: []string{"subnet-private-a"}, SecurityGroups: []string{"sg-app"},
}}

// newShop returns an ECS double whose service shop-green runs shop:1 and
// was then pointed at shop:2, the release being deployed.
func newShop(t *testing.T) *ticking {
	t.Helper()
	f := awsfake.NewECS(nil)
	f.AddCluster("prod")
	for _, image := range []string{"shop:v1", "shop:v2"} {
		_, err := f.RegisterTaskDefinition(t.Context(), &awsecs.RegisterTaskDefinitionInput{
			Family: aws.String("shop"), NetworkMode: types.NetworkModeAwsvpc,
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("512"),
			ContainerDefinitions: []types.ContainerDefinition{
				{Name: aws.String("envoy"), Image: aws.String("envoy:1"), Essential: aws.Bool(false)},
				{Name: aws.String("web"), Image: aws.String(image), LogConfiguration: &types.LogConfiguration{
					LogDriver: types.LogDriverAwslogs,
					Options:   map[string]string{"awslogs-group": "/ecs/shop", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs"},
				}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	if _, err := f.CreateService(ctx, &awsecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("shop-green"), TaskDefinition: aws.String("shop:1"),
		DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: network,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.UpdateService(ctx, &awsecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("shop-green"), TaskDefinition: aws.String("shop:2")}); err != nil {
		t.Fatal(err)
	}
	return &ticking{ECS: f}
}

// lines collects what Migrate logs.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) log(s string) { l.mu.Lock(); l.all = append(l.all, s); l.mu.Unlock() }

func (l *lines) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.all, func(s string) bool { return strings.Contains(s, sub) })
}

func newMigrator(t *testing.T, api API, cfg Config) *Migrator {
	t.Helper()
	cfg.API, cfg.Cluster, cfg.App = api, "prod", "shop"
	m, err := New(cfg, WithPoll(time.Millisecond), WithProgressEvery(time.Hour), WithStopTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// migrationTask is the one task the migration started, as ECS shows it.
func migrationTask(t *testing.T, f *awsfake.ECS) types.Task {
	t.Helper()
	ctx := t.Context()
	list, err := f.ListTasks(ctx, &awsecs.ListTasksInput{Cluster: aws.String("prod"), StartedBy: aws.String("bluegreen-migrate-before"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.TaskArns) != 1 {
		t.Fatalf("%d stopped migration tasks, want 1", len(list.TaskArns))
	}
	out, err := f.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: list.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	return out.Tasks[0]
}

const wantLogs = "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fecs$252Fshop/log-events/ecs$252Fweb$252F"

func TestMigrate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		outcome  awsfake.RunOutcome
		throttle int        // every nth call to the double fails with ThrottlingException
		fromRun  bool       // throttle from RunTask on, not the reads before
		want     *ExitError // nil: success
	}{
		{name: "exits 0"},
		// Every other poll is throttled.
		{name: "throttled polls", throttle: 2, fromRun: true},
		// The setup makes 4 calls, Migrate reads the service and its task
		// definition: the 7th call is RunTask, retried with its token.
		{name: "throttled RunTask", throttle: 7},
		{name: "exits 3", outcome: awsfake.RunOutcome{ExitCode: 3, Ticks: 2}, want: &ExitError{
			Container: "web", ExitCode: aws.Int32(3), StopCode: types.TaskStopCodeEssentialContainerExited, StoppedReason: "Essential container in task exited",
		}},
		{name: "fails to start", outcome: awsfake.RunOutcome{StartFailure: "CannotPullContainerError: pull access denied"}, want: &ExitError{
			Container: "web", StopCode: types.TaskStopCodeTaskFailedToStart, StoppedReason: "CannotPullContainerError: pull access denied",
			Reason: "CannotPullContainerError: pull access denied",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newShop(t)
			f.SetRunOutcome("db:migrate", tc.outcome)
			if tc.fromRun {
				f.onRun = func() { f.ThrottleEvery(tc.throttle) }
			} else {
				f.ThrottleEvery(tc.throttle)
			}
			var l lines
			err := newMigrator(t, f, Config{}).Migrate(t.Context(), color.Green, migrate.Before, []string{"rails", "db:migrate"}, l.log)
			f.ThrottleEvery(0)
			task := migrationTask(t, f.ECS)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Migrate: %v", err)
				}
			} else {
				var got *ExitError
				if !errors.As(err, &got) {
					t.Fatalf("Migrate: %v, want an *ExitError", err)
				}
				if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(ExitError{}, "Task", "LogsURL")); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				if !strings.HasPrefix(got.LogsURL, wantLogs) || !strings.Contains(err.Error(), got.LogsURL) {
					t.Errorf("error %q does not link to the logs", err)
				}
			}
			if got, want := aws.ToString(task.TaskDefinitionArn), "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2"; got != want {
				t.Errorf("task definition %q, want the new revision %q", got, want)
			}
			wantOverrides := []types.ContainerOverride{{Name: aws.String("web"), Command: []string{"rails", "db:migrate"}}}
			if diff := cmp.Diff(wantOverrides, task.Overrides.ContainerOverrides, cmpopts.IgnoreUnexported(types.ContainerOverride{})); diff != "" {
				t.Errorf("overrides (-want +got):\n%s", diff)
			}
			if got := task.Attachments[0].Details[0]; aws.ToString(got.Value) != "subnet-private-a" || task.LaunchType != types.LaunchTypeFargate {
				t.Errorf("task runs in %s on %q, want subnet-private-a on FARGATE", aws.ToString(got.Value), task.LaunchType)
			}
			if !l.has("logs of the migration task: " + wantLogs) {
				t.Errorf("no logs link logged: %q", l.all)
			}
			if tc.fromRun && !l.has("(AWS throttled ") {
				t.Errorf("throttled polls not reported: %q", l.all)
			}
			if got := f.Count("RunTask"); tc.throttle > 0 && !tc.fromRun && got != 2 {
				t.Errorf("RunTask called %d times, want 2 (one throttled)", got)
			}
		})
	}
}

func TestMigrateCancelledStopsTheTask(t *testing.T) {
	t.Parallel()
	f := newShop(t)
	f.SetRunOutcome("", awsfake.RunOutcome{Ticks: -1})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f.onTask = func(tk types.Task) {
		if aws.ToString(tk.LastStatus) == "RUNNING" {
			cancel()
		}
	}
	var l lines
	err := newMigrator(t, f, Config{}).Migrate(ctx, color.Green, migrate.Before, []string{"migrate"}, l.log)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Migrate: %v, want context.Canceled", err)
	}
	if got := f.Count("StopTask"); got != 1 {
		t.Fatalf("StopTask called %d times, want 1", got)
	}
	f.onTask = nil
	f.Tick()
	f.Tick()
	task := migrationTask(t, f.ECS)
	if got, want := aws.ToString(task.StoppedReason), "bluegreen: the deploy was cancelled"; task.StopCode != types.TaskStopCodeUserInitiated || got != want {
		t.Errorf("task stopped with %s %q, want UserInitiated %q", task.StopCode, got, want)
	}
	if !l.has("stopped: the deploy was cancelled") {
		t.Errorf("stop not logged: %q", l.all)
	}
}

func TestMigrateRefusesBeforeRunning(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     Config
		c       color.Color
		command []string
		want    string
	}{
		{name: "no service", c: color.Blue, command: []string{"migrate"}, want: `service "shop-blue" not found in cluster "prod"`},
		{name: "unknown container", cfg: Config{Container: "worker"}, c: color.Green, command: []string{"migrate"}, want: `finding container "worker" to run the migration in: valid containers are ["envoy" "web"]`},
		{name: "no command", c: color.Green, want: "no command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newShop(t)
			err := newMigrator(t, f, tc.cfg).Migrate(t.Context(), tc.c, migrate.Before, tc.command, func(string) {})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Migrate: %v, want an error containing %q", err, tc.want)
			}
			if got := f.Count("RunTask"); got != 0 {
				t.Errorf("RunTask called %d times, want 0", got)
			}
		})
	}
}

func TestMigrateCustomLogsURL(t *testing.T) {
	t.Parallel()
	f := newShop(t)
	var l lines
	m := newMigrator(t, f, Config{LogsURL: func(tk types.Task) string { return "https://logs.example.com/?task=" + taskID(tk) }})
	if err := m.Migrate(t.Context(), color.Green, migrate.After, []string{"migrate"}, l.log); err != nil {
		t.Fatal(err)
	}
	if !l.has("logs of the migration task: https://logs.example.com/?task=") {
		t.Errorf("custom logs link not logged: %q", l.all)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	f := newShop(t)
	cases := []struct {
		name string
		cfg  Config
		opts []Option
	}{
		{name: "no client", cfg: Config{Cluster: "prod", App: "shop"}},
		{name: "no cluster", cfg: Config{API: f, App: "shop"}},
		{name: "no app", cfg: Config{API: f, Cluster: "prod"}},
		{name: "negative poll", cfg: Config{API: f, Cluster: "prod", App: "shop"}, opts: []Option{WithPoll(-time.Second)}},
	}
	for _, tc := range cases {
		if _, err := New(tc.cfg, tc.opts...); err == nil {
			t.Errorf("%s: New accepted it", tc.name)
		}
	}
}
