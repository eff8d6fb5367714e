package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/taskdef"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/ecstag"
	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
)

// stepDetail returns the detail the report shows for step name.
func stepDetail(t *testing.T, steps []pipeline.Result, name string) string {
	t.Helper()
	for _, s := range steps {
		if s.Name == name {
			return s.Detail
		}
	}
	t.Fatalf("no step %q in %+v", name, steps)
	return ""
}

// TestHistoryCountsEntries: the history step counts the entries it read,
// not its report lines (an empty history has one line saying so).
func TestHistoryCountsEntries(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	store := func(family string) {
		s, err := taskdef.New(g.ecs, family)
		if err != nil {
			t.Fatal(err)
		}
		g.history = s
	}

	store("nothing-here")
	res, err, log := g.run("history", "", nil)
	if err != nil {
		t.Fatalf("history: %v\n%s", err, log)
	}
	if got, want := stepDetail(t, res.Steps, "read history"), "no entries"; got != want {
		t.Errorf("empty history: detail %q, want %q", got, want)
	}

	store("shop") // revision 1 runs shop:v1, registered as bluegreen does
	res, err, log = g.run("history", "", nil)
	if err != nil {
		t.Fatalf("history: %v\n%s", err, log)
	}
	if got, want := stepDetail(t, res.Steps, "read history"), "1 entry"; got != want {
		t.Errorf("one deploy: detail %q, want %q", got, want)
	}

	if _, err, log := g.run("deploy", "shop:v2", nil); err != nil {
		t.Fatalf("deploy: %v\n%s", err, log)
	}
	res, err, log = g.run("history", "", nil)
	if err != nil {
		t.Fatalf("history: %v\n%s", err, log)
	}
	if got, want := stepDetail(t, res.Steps, "read history"), "2 entries"; got != want {
		t.Errorf("two deploys: detail %q, want %q", got, want)
	}
}

// TestReplicasTextWithoutManifest: ECS has no manifest, so a deploy whose
// live color gives no replica count must not claim to take it from one.
func TestReplicasTextWithoutManifest(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	if _, err := g.ecs.UpdateService(t.Context(), &awsecs.UpdateServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("shop-blue"), DesiredCount: aws.Int32(0),
	}); err != nil {
		t.Fatal(err)
	}
	g.ecs.Settle()
	for _, fromManifest := range []bool{false, true} {
		res, err, log := g.run("deploy", "shop:v2", func(o *deploy.Options) { o.DryRun, o.FromManifest = true, fromManifest })
		if err != nil {
			t.Fatalf("dry run: %v\n%s", err, log)
		}
		detail := stepDetail(t, res.Steps, "deploy idle color")
		if got := strings.Contains(detail+strings.Join(res.Notes, "\n"), "manifest"); got != fromManifest {
			t.Errorf("FromManifest %t: deploy step says %q, notes %q; mentions a manifest = %t", fromManifest, detail, res.Notes, got)
		}
	}
}

// TestRefusedLockPreviousColorUnknown: a run refused the lock never read
// which color served, so it must not report that none did.
func TestRefusedLockPreviousColorUnknown(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	l, err := ecstag.New(ecstag.Config{API: g.ecs, ClusterARN: g.ecs.ClusterARN("prod"), App: "shop"}, ecstag.WithSettle(time.Millisecond), ecstag.WithPoll(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	release, err := l.Acquire(t.Context(), "https://ci.example.com/other-run", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Second)
		defer cancel()
		_ = release.Release(ctx)
	}()
	g.locker = l
	res, err, log := g.run("deploy", "shop:v2", func(o *deploy.Options) { o.Owner = "https://ci.example.com/this-run" })
	var held *lock.HeldError
	if !errors.As(err, &held) {
		t.Fatalf("deploy error = %v, want the lock held by another run\n%s", err, log)
	}
	if got, want := res.PreviousColor, "unknown"; got != want {
		t.Errorf("previous color = %q, want %q\n%s", got, want, log)
	}
	var summary strings.Builder
	if err := plain.New(&summary).Finish(res); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(summary.String(), "none -> ") {
		t.Errorf("the report says no color served before the run:\n%s", summary.String())
	}
}

// TestALBDryRunSaysNothingWasSent: ELBv2 has no dry run, so the switch of
// a dry run on ALB says what was checked and that nothing was sent, and
// sends nothing.
func TestALBDryRunSaysNothingWasSent(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	writes := func() int {
		return g.elb.Count("ModifyListener") + g.ecs.Count("RegisterTaskDefinition") + g.ecs.Count("CreateService") + g.ecs.Count("UpdateService")
	}
	before := writes()
	res, err, log := g.run("deploy", "shop:v2", func(o *deploy.Options) { o.DryRun = true })
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, log)
	}
	detail := stepDetail(t, res.Steps, "switch traffic")
	if strings.Contains(detail, "server-side") || !strings.Contains(detail, "ELBv2 has no dry run") || !strings.Contains(detail, "not sent") {
		t.Errorf("switch detail = %q, want it to say ELBv2 has no dry run and nothing was sent", detail)
	}
	if n := writes() - before; n != 0 {
		t.Errorf("dry run made %d writes to ECS and ELBv2", n)
	}
}

// TestECSRollbackToForeignReleaseRecorded: a rollback to a color that
// runs a release bluegreen did not deploy (its revision registered by
// hand) is recorded in the history, not only warned about.
func TestECSRollbackToForeignReleaseRecorded(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	ctx := t.Context()
	reg, err := g.ecs.RegisterTaskDefinition(ctx, &awsecs.RegisterTaskDefinitionInput{
		Family: aws.String("shop"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ContainerDefinitions:    []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("shop:v0"), PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.ecs.CreateService(ctx, &awsecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("shop-green"), TaskDefinition: reg.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(2), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LoadBalancers:        []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(greenTG), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
	}); err != nil {
		t.Fatal(err)
	}
	g.ecs.Settle()
	store, err := taskdef.New(g.ecs, "shop")
	if err != nil {
		t.Fatal(err)
	}
	g.history = store

	res, err, log := g.run("rollback", "", func(o *deploy.Options) { o.Release.RunURL = "https://ci.example.com/rollback/1" })
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, log)
	}
	if res.ActiveColor != "green" || res.Image != "shop:v0" {
		t.Fatalf("rollback result active %s image %s, want green shop:v0\n%s", res.ActiveColor, res.Image, log)
	}
	if strings.Contains(log, "recording history") {
		t.Errorf("the rollback was not recorded:\n%s", log)
	}
	entries, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("history is empty")
	}
	got := entries[0]
	if got.Command != "rollback" || got.Color != "green" || got.Image != "shop:v0" || got.Result != "success" || got.RunURL != "https://ci.example.com/rollback/1" {
		t.Errorf("newest history entry = %+v, want the successful rollback to green shop:v0", got)
	}
}
