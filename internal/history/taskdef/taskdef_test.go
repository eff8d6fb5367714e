package taskdef_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/taskdef"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/ecs"
)

const (
	elbPrefix = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	listener  = elbPrefix + "listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	blueTG    = elbPrefix + "targetgroup/shop-blue/73e2d6bc24d8a067"
	greenTG   = elbPrefix + "targetgroup/shop-green/943f017f100becff"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// shop returns ECS and its platform: cluster prod with service shop-blue
// running task definition family shop (revision 1, registered by hand),
// the way a team sets an application up before its first deploy.
func shop(t *testing.T) (*awsfake.ECS, *ecs.Platform) {
	t.Helper()
	lb := awsfake.NewELBv2()
	lb.AddTargetGroup(blueTG, greenTG)
	if err := lb.AddListener(listener, awsfake.Forward(blueTG, 1, greenTG, 0)); err != nil {
		t.Fatal(err)
	}
	f := awsfake.NewECS(lb)
	f.AddCluster("prod")
	register(t, f, "shop", "shop:v0", map[string]string{"team": "shop"})
	_, err := f.CreateService(t.Context(), &awsecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("shop-blue"), TaskDefinition: aws.String("shop"),
		DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String(blueTG), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ecs.New(ecs.Config{API: f, ELB: lb, Cluster: "prod", App: "shop", TargetGroups: map[color.Color]string{color.Blue: blueTG, color.Green: greenTG}})
	if err != nil {
		t.Fatal(err)
	}
	return f, p
}

// register registers a revision of family running image, with tags.
func register(t *testing.T, f *awsfake.ECS, family, image string, tags map[string]string) string {
	t.Helper()
	in := &awsecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(image), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
	}
	for k, v := range tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := f.RegisterTaskDefinition(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// deployed is the i-th of a series of deploys, alternating colors, as
// package platform/ecs records it and as history should report it.
func deployed(i int) (color.Color, platform.Release, history.Entry) {
	c := []color.Color{color.Blue, color.Green}[i%2]
	r := platform.Release{
		Image:      fmt.Sprintf("registry.example/shop:v%d", i),
		Digest:     fmt.Sprintf("sha256:%064d", i),
		GitSHA:     fmt.Sprintf("%040d", i),
		RunURL:     fmt.Sprintf("https://github.com/octo/shop/actions/runs/%d", 1000+i),
		DeployedAt: start.Add(time.Duration(i) * time.Minute),
	}
	e := history.Entry{
		Time: r.DeployedAt, Command: "deploy", Color: c.String(), Image: r.Image, Digest: r.Digest,
		GitSHA: r.GitSHA, RunURL: r.RunURL, Result: "unknown",
	}
	return c, r, e
}

// deploy runs the i-th deploy through the ECS platform, which registers
// the revision the history reads.
func deploy(t *testing.T, p *ecs.Platform, i int) history.Entry {
	t.Helper()
	c, r, e := deployed(i)
	if err := p.Deploy(t.Context(), c, r, 1); err != nil {
		t.Fatalf("deploy %d: %v", i, err)
	}
	return e
}

func newStore(t *testing.T, api taskdef.API, opts ...taskdef.Option) *taskdef.Store {
	t.Helper()
	s, err := taskdef.New(api, "shop", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func list(t *testing.T, s *taskdef.Store) []history.Entry {
	t.Helper()
	got, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

// ignoreRevision leaves out the revision ARN each entry names.
var ignoreRevision = cmpopts.IgnoreFields(history.Entry{}, "Revision")

// TestPreparedSwitchAbort records a prepare, its switch and a later
// prepare and its abort on the revisions they name, each in the same
// second as the one before (tags hold whole seconds), and checks what
// history.Prepared finds after each.
func TestPreparedSwitchAbort(t *testing.T) {
	t.Parallel()
	f, p := shop(t)
	s := newStore(t, f)
	at := start.Add(time.Hour)
	step := func(i int, cmd command.Name, result string) history.Entry {
		t.Helper()
		c, r, _ := deployed(i)
		if cmd == command.Prepare {
			if err := p.Deploy(t.Context(), c, r, 1); err != nil {
				t.Fatal(err)
			}
		}
		st, err := p.Describe(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		e := history.Entry{Time: at, Command: cmd, Color: c.String(), Image: r.Image, Digest: r.Digest, RunURL: r.RunURL, Result: result, Revision: st.Spec}
		if err := s.Append(t.Context(), e); err != nil {
			t.Fatalf("Append %s: %v", cmd, err)
		}
		return e
	}
	prepared := func() *history.Entry { return history.Prepared(list(t, s)) }

	e := step(1, "prepare", history.ResultPrepared)
	if got := prepared(); got == nil || got.Image != e.Image || got.Revision != "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2" {
		t.Fatalf("after prepare, Prepared = %+v, want %s on shop:2", got, e.Image)
	}
	step(1, "switch", "failed")
	if got := prepared(); got == nil {
		t.Fatal("after a failed switch, nothing is prepared; want it still prepared")
	}
	step(1, "switch", "success")
	if got := prepared(); got != nil {
		t.Fatalf("after the switch, Prepared = %+v, want nil", got)
	}
	step(2, "prepare", history.ResultPrepared)
	step(2, "abort", history.ResultAborted)
	if got := prepared(); got != nil {
		t.Fatalf("after the abort, Prepared = %+v, want nil", got)
	}
	tags := f.TaskDefinitionTags("shop:3")
	for k, v := range map[string]string{taskdef.PreparedAtTag: "2026-03-01T13:00:00Z", taskdef.AbortResultTag: history.ResultAborted, taskdef.ResultTag: history.ResultPrepared} {
		if tags[k] != v {
			t.Errorf("shop:3 tag %q = %q, want %q", k, tags[k], v)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECS(nil)
	cases := []struct {
		name   string
		api    taskdef.API
		family string
		ok     bool
	}{
		{name: "ok", api: f, family: "shop-web_2", ok: true},
		{name: "no client", family: "shop"},
		{name: "no family", api: f},
		{name: "family with a revision", api: f, family: "shop:3"},
		{name: "ARN", api: f, family: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := taskdef.New(tc.api, tc.family)
			if got := err == nil; got != tc.ok {
				t.Errorf("New(%q) = %v, want ok %t", tc.family, err, tc.ok)
			}
		})
	}
}

func TestFamily(t *testing.T) {
	t.Parallel()
	cases := []struct{ ref, want string }{
		{ref: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop-web:12", want: "shop-web"},
		{ref: "shop-web:12", want: "shop-web"},
		{ref: "shop-web", want: "shop-web"},
	}
	for _, tc := range cases {
		if got := taskdef.Family(tc.ref); got != tc.want {
			t.Errorf("Family(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

func TestListEmptyFamily(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECS(nil)
	register(t, f, "shop-worker", "worker:v1", map[string]string{ecs.ImageTag: "worker:v1", ecs.ColorTag: "blue"})
	if got := list(t, newStore(t, f)); len(got) != 0 {
		t.Errorf("List of a family with no revisions = %v, want empty", got)
	}
}

func TestAppendList(t *testing.T) {
	t.Parallel()
	f, p := shop(t)
	s := newStore(t, f)

	// Revision 1 was registered by hand: no entry. Deploys 1-3 register
	// revisions 2-4; a revision of another family sits in between.
	var want []history.Entry
	for i := 1; i <= 3; i++ {
		want = append([]history.Entry{deploy(t, p, i)}, want...)
		register(t, f, "shop-worker", "worker:v1", map[string]string{ecs.ImageTag: "worker:v1", ecs.ColorTag: "green"})
	}
	if diff := cmp.Diff(want, list(t, s), ignoreRevision); diff != "" {
		t.Errorf("List before any Append (-want +got):\n%s", diff)
	}

	// Deploy 3 (to green) succeeded, then a rollback to blue (deploy 2).
	want[0].Result = "success"
	if err := s.Append(t.Context(), want[0]); err != nil {
		t.Fatalf("Append deploy: %v", err)
	}
	rollback := history.Entry{
		Time: start.Add(time.Hour), Command: "rollback", Color: want[1].Color, Image: want[1].Image, Digest: want[1].Digest,
		GitSHA: want[1].GitSHA, RunURL: "https://github.com/octo/shop/actions/runs/2000", Result: "success",
	}
	if err := s.Append(t.Context(), rollback); err != nil {
		t.Fatalf("Append rollback: %v", err)
	}
	want = append([]history.Entry{rollback}, want...)
	if diff := cmp.Diff(want, list(t, s), ignoreRevision); diff != "" {
		t.Errorf("List after Append (-want +got):\n%s", diff)
	}

	// The rollback went on deploy 2's revision without touching its result.
	tags := f.TaskDefinitionTags("shop:3")
	for k, v := range map[string]string{
		taskdef.RolledBackAtTag: "2026-03-01T13:00:00Z", taskdef.RollbackResultTag: "success",
		taskdef.RollbackRunURLTag: rollback.RunURL, ecs.ColorTag: "blue",
	} {
		if tags[k] != v {
			t.Errorf("shop:3 tag %q = %q, want %q", k, tags[k], v)
		}
	}
	if _, ok := tags[taskdef.ResultTag]; ok {
		t.Errorf("shop:3 has tag %q = %q, want none: its deploy was never recorded", taskdef.ResultTag, tags[taskdef.ResultTag])
	}
}

func withResult(e history.Entry, result string) history.Entry {
	e.Result = result
	return e
}

// TestAppendPicksTheRun: redeploying the same image to the same color
// records the result on the new revision, not on the earlier one.
func TestAppendPicksTheRun(t *testing.T) {
	t.Parallel()
	f, p := shop(t)
	s := newStore(t, f)
	_, r, first := deployed(1)
	if err := p.Deploy(t.Context(), color.Green, r, 1); err != nil {
		t.Fatal(err)
	}
	deploy(t, p, 2) // blue in between
	again := r
	again.RunURL, again.DeployedAt = "https://github.com/octo/shop/actions/runs/3000", start.Add(time.Hour)
	if err := p.Deploy(t.Context(), color.Green, again, 1); err != nil {
		t.Fatal(err)
	}
	// The earlier run records late, after the redeploy registered.
	if err := s.Append(t.Context(), withResult(first, "failed")); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if got, want := f.TaskDefinitionTags("shop:2")[taskdef.ResultTag], "failed"; got != want {
		t.Errorf("shop:2 result = %q, want %q", got, want)
	}
	if got, ok := f.TaskDefinitionTags("shop:4")[taskdef.ResultTag]; ok {
		t.Errorf("shop:4 result = %q, want none", got)
	}
}

func TestAppendErrors(t *testing.T) {
	t.Parallel()
	f, p := shop(t)
	e := deploy(t, p, 1)
	cases := []struct {
		name       string
		mod        func(*history.Entry)
		noRevision bool
	}{
		{name: "unknown command", mod: func(e *history.Entry) { e.Command = "promote" }},
		{name: "no color", mod: func(e *history.Entry) { e.Color = "" }},
		{name: "no image", mod: func(e *history.Entry) { e.Image = "" }},
		{name: "other color", mod: func(e *history.Entry) { e.Color = "blue" }, noRevision: true},
		{name: "other image", mod: func(e *history.Entry) { e.Image = "registry.example/shop:v9" }, noRevision: true},
		{name: "other digest", mod: func(e *history.Entry) { e.Digest = "sha256:" + fmt.Sprintf("%064d", 9) }, noRevision: true},
		{name: "other run", mod: func(e *history.Entry) { e.RunURL = "https://github.com/octo/shop/actions/runs/9" }, noRevision: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bad := e
			tc.mod(&bad)
			err := newStore(t, f).Append(t.Context(), bad)
			if err == nil {
				t.Fatal("Append succeeded, want an error")
			}
			if got := errors.Is(err, taskdef.ErrNoRevision); got != tc.noRevision {
				t.Errorf("Append = %v; ErrNoRevision %t, want %t", err, got, tc.noRevision)
			}
		})
	}
	if n := f.Count("TagResource"); n != 0 {
		t.Errorf("TagResource calls = %d, want none", n)
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	f, p := shop(t)
	e := deploy(t, p, 1)
	if err := newStore(t, f, taskdef.WithDryRun(true)).Append(t.Context(), withResult(e, "success")); err != nil {
		t.Fatalf("dry-run Append: %v", err)
	}
	if n := f.Count("TagResource"); n != 0 {
		t.Errorf("TagResource calls = %d, want none", n)
	}
	// A dry run still finds the revision, so it fails where a real run would.
	e.Color = "blue"
	if err := newStore(t, f, taskdef.WithDryRun(true)).Append(t.Context(), e); !errors.Is(err, taskdef.ErrNoRevision) {
		t.Errorf("dry-run Append of a release never deployed = %v, want ErrNoRevision", err)
	}
}

// TestLimit: List reads the newest history.Limit revisions, one describe
// each, and revisions without bluegreen's tags count among them.
func TestLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name             string
		tagged, untagged int // registered in that order
		want             int // entries
	}{
		{name: "more than the limit", tagged: history.Limit + 5, want: history.Limit},
		{name: "foreign revisions newest", tagged: 30, untagged: 30, want: history.Limit - 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := awsfake.NewECS(nil)
			for i := range tc.tagged {
				_, r, _ := deployed(i)
				register(t, f, "shop", r.Image, map[string]string{
					ecs.ImageTag: r.Image, ecs.ColorTag: "blue", ecs.DeployedAtTag: r.DeployedAt.Format(time.RFC3339),
				})
			}
			for range tc.untagged {
				register(t, f, "shop", "registry.example/shop:manual", nil)
			}
			got := list(t, newStore(t, f))
			if len(got) != tc.want {
				t.Fatalf("List = %d entries, want %d", len(got), tc.want)
			}
			if got, want := got[0].Image, fmt.Sprintf("registry.example/shop:v%d", tc.tagged-1); got != want {
				t.Errorf("newest entry runs %q, want %q", got, want)
			}
			if got, want := f.Count("DescribeTaskDefinition"), history.Limit; got != want {
				t.Errorf("DescribeTaskDefinition calls = %d, want %d", got, want)
			}
		})
	}
}

// paged answers ListTaskDefinitions a few ARNs at a time, as ECS does for
// long lists, with opaque tokens.
type paged struct {
	*awsfake.ECS
	size int
}

func (p *paged) ListTaskDefinitions(ctx context.Context, in *awsecs.ListTaskDefinitionsInput, opts ...func(*awsecs.Options)) (*awsecs.ListTaskDefinitionsOutput, error) {
	all, err := p.ECS.ListTaskDefinitions(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	from := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		if from, err = strconv.Atoi(tok); err != nil {
			return nil, &types.InvalidParameterException{Message: aws.String("Invalid nextToken")}
		}
	}
	size := min(p.size, int(aws.ToInt32(in.MaxResults)))
	to := min(from+size, len(all.TaskDefinitionArns))
	out := &awsecs.ListTaskDefinitionsOutput{TaskDefinitionArns: all.TaskDefinitionArns[from:to]}
	if to < len(all.TaskDefinitionArns) {
		out.NextToken = aws.String(strconv.Itoa(to))
	}
	return out, nil
}

func TestListPages(t *testing.T) {
	t.Parallel()
	f := awsfake.NewECS(nil)
	for i := range history.Limit + 10 {
		_, r, _ := deployed(i)
		register(t, f, "shop", r.Image, map[string]string{ecs.ImageTag: r.Image, ecs.ColorTag: "green"})
	}
	api := &paged{ECS: f, size: 7}
	got := list(t, newStore(t, api))
	if len(got) != history.Limit {
		t.Fatalf("List = %d entries, want %d", len(got), history.Limit)
	}
	// Eight pages of seven hold the newest 50; the ninth is never asked for.
	if got, want := f.Count("ListTaskDefinitions"), 8; got != want {
		t.Errorf("ListTaskDefinitions calls = %d, want %d", got, want)
	}
}

func TestListThrottled(t *testing.T) {
	t.Parallel()
	f, p := shop(t)
	for i := 1; i <= 6; i++ {
		deploy(t, p, i)
	}
	f.ThrottleEvery(4)
	_, err := newStore(t, f).List(t.Context())
	if !awsapi.IsThrottle(err) {
		t.Errorf("List = %v, want the throttling error", err)
	}
}

// TestRollbackToForeignRevision: a rollback to a release bluegreen did not
// deploy (a revision registered by hand, with none of the release tags)
// is recorded on that revision and listed, found by the revision it names
// or, without one, by its image.
func TestRollbackToForeignRevision(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		revision bool
	}{
		{name: "by revision", revision: true},
		{name: "by image"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, p := shop(t) // shop:1 runs shop:v0, registered by hand
			deploy(t, p, 1)
			// A newer hand-made revision with another image is not the one.
			register(t, f, "shop", "shop:v9", nil)
			rollback := history.Entry{
				Time: start.Add(time.Hour), Command: "rollback", Color: "blue", Image: "shop:v0",
				RunURL: "https://github.com/octo/shop/actions/runs/77", Result: "success",
			}
			if tc.revision {
				rollback.Revision = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:1"
			}
			s := newStore(t, f)
			if err := s.Append(t.Context(), rollback); err != nil {
				t.Fatalf("Append rollback: %v", err)
			}
			got, err := s.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			rollback.Revision = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:1"
			if len(got) == 0 {
				t.Fatal("List() is empty, want the rollback first")
			}
			if diff := cmp.Diff(rollback, got[0]); diff != "" {
				t.Errorf("newest entry (-want +got):\n%s", diff)
			}
			if n := len(got); n != 2 {
				t.Errorf("List() has %d entries, want the rollback and deploy 1: %+v", n, got)
			}
		})
	}
}
