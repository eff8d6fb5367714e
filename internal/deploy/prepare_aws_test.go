package deploy_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/taskdef"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/ecstag"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/ecs"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/alb"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/route53"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

const testListener = arnPrefix + "listener/app/shop/50dc6c495c0c9188/0a1b2c3d4e5f6a7b"

// approvalGround is the ECS + ALB pattern with a test listener as the
// preview and the task definition family as the history.
type approvalGround struct {
	*awsGround
	history *taskdef.Store
}

func newApprovalGround(t *testing.T) *approvalGround {
	t.Helper()
	g := newAWSGround(t)
	if err := g.elb.AddListener(testListener, awsfake.Forward(blueTG, 1, greenTG, 0)); err != nil {
		t.Fatal(err)
	}
	h, err := taskdef.New(g.ecs, "shop")
	if err != nil {
		t.Fatal(err)
	}
	return &approvalGround{awsGround: g, history: h}
}

// run executes command with the ECS platform, the ALB router with its test
// listener as preview, and the history in the task definition family.
func (g *approvalGround) run(command command.Name, image string, tweaks ...func(*deploy.Options)) (report.Result, error, string) {
	g.t.Helper()
	groups := map[color.Color]string{color.Blue: blueTG, color.Green: greenTG}
	p, err := ecs.New(ecs.Config{API: g.ecs, ELB: g.elb, Cluster: "prod", App: "shop", TargetGroups: groups},
		ecs.WithPoll(time.Millisecond), ecs.WithProgressEvery(time.Hour))
	if err != nil {
		g.t.Fatal(err)
	}
	r, err := alb.New(alb.Config{API: g.elb, ListenerARN: listener, TestListenerARN: testListener, TargetGroups: groups}, alb.WithReadBack(5, time.Millisecond))
	if err != nil {
		g.t.Fatal(err)
	}
	log := &syncBuffer{}
	opts := deploy.Options{
		App: "shop", Release: platform.Release{Image: image, RunURL: "https://ci.example.com/" + string(command)},
		WaitTimeout: time.Minute, VerifyTimeout: time.Second, Poll: time.Millisecond, Grace: 10 * time.Second,
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	deps := deploy.Deps{
		Platform: p, Router: r, Preview: r.Preview(), History: g.history,
		Reporter: plain.New(log), Checker: &verify.Checker{Interval: time.Millisecond},
	}
	if g.locker != nil {
		deps.Locker = g.locker
	}
	res, err := deploy.New(command, opts, deps).Execute(g.t.Context())
	return res, err, log.String()
}

// forward returns a listener's forward weights for blue and green.
func (g *approvalGround) forward(arn string) (int32, int32) {
	g.t.Helper()
	var b, gr int32
	for _, a := range g.elb.DefaultActions(arn) {
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

// writes counts the calls that change the services or the listeners.
func (g *approvalGround) writes() int {
	return g.elb.Count("ModifyListener") + g.ecs.Count("UpdateService") + g.ecs.Count("CreateService") +
		g.ecs.Count("RegisterTaskDefinition") + g.ecs.Count("TagResource")
}

func (g *approvalGround) mustPrepare(image string, live color.Color) {
	g.t.Helper()
	res, err, log := g.run("prepare", image)
	if err != nil {
		g.t.Fatalf("prepare %s: %v\n%s", image, err, log)
	}
	if res.Outcome != report.Prepared || res.ActiveColor != live.String() || res.Changed {
		g.t.Fatalf("prepare %s: result %s, active %s, changed %v; want prepared, %s, false\n%s", image, res.Outcome, res.ActiveColor, res.Changed, live, log)
	}
	if c := colorState(res, live.Other().String()); c.State != "prepared, waiting for switch" {
		g.t.Errorf("prepare %s: the prepared color is reported as %q", image, c.State)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "`command: switch` and `image: "+image+"`") {
		g.t.Errorf("prepare's report does not say how to switch:\n%s", strings.Join(res.Notes, "\n"))
	}
}

// refused runs command and checks that it failed, saying want, without
// writing anything.
func (g *approvalGround) refused(command command.Name, image, want string) error {
	g.t.Helper()
	before := g.writes()
	res, err, log := g.run(command, image)
	if err == nil {
		g.t.Fatalf("%s %q succeeded, want a refusal:\n%s", command, image, log)
	}
	if !strings.Contains(err.Error(), want) {
		g.t.Errorf("%s %q: error %q does not say %q", command, image, err, want)
	}
	if res.Outcome != report.Failed {
		g.t.Errorf("%s %q: result %s, want failed", command, image, res.Outcome)
	}
	if n := g.writes() - before; n != 0 {
		g.t.Errorf("%s %q refused but made %d writes", command, image, n)
	}
	return err
}

// TestECSPrepareSwitchAbort runs the approval flow on ECS behind an ALB:
// prepare leaves production alone while the test listener shows the new
// color; switch from a later run moves production; a second switch finds
// nothing prepared; abort scales the prepared color to 0 and points the
// test listener back; switch refuses another image, a color whose targets
// fail their health checks now, and a color changed by hand.
func TestECSPrepareSwitchAbort(t *testing.T) {
	t.Parallel()
	g := newApprovalGround(t)

	g.mustPrepare("shop:v2", color.Blue)
	if b, gr := g.forward(listener); b == 0 || gr != 0 {
		t.Errorf("production after prepare: blue %d green %d, want all on blue", b, gr)
	}
	if b, gr := g.forward(testListener); b != 0 || gr == 0 {
		t.Errorf("test listener after prepare: blue %d green %d, want all on green", b, gr)
	}
	p := history.Prepared(mustList(t, g.history))
	if p == nil || p.Image != "shop:v2" || p.Color != "green" || p.RunURL != "https://ci.example.com/prepare" || p.Revision == "" {
		t.Fatalf("prepared record %+v, want shop:v2 on green by the prepare run with its revision", p)
	}

	g.refused("switch", "shop:v9", `input image "shop:v9" is not the prepared release`)

	res, err, log := g.run("switch", "shop:v2")
	if err != nil {
		t.Fatalf("switch: %v\n%s", err, log)
	}
	if res.Outcome != report.Success || res.ActiveColor != "green" || !res.Changed || res.Image != "shop:v2" {
		t.Errorf("switch: result %s active %s changed %v image %s; want success, green, true, shop:v2", res.Outcome, res.ActiveColor, res.Changed, res.Image)
	}
	if b, gr := g.forward(listener); b != 0 || gr == 0 {
		t.Errorf("production after switch: blue %d green %d, want all on green", b, gr)
	}
	if err := g.refused("switch", "", "nothing is prepared"); !errors.Is(err, deploy.ErrNothingPrepared) {
		t.Errorf("second switch: %v, want ErrNothingPrepared", err)
	}

	// Blue is idle now: the next release is prepared there, then dropped.
	g.mustPrepare("shop:v3", color.Green)
	modifies := g.elb.Count("ModifyListener")
	res, err, log = g.run("abort", "")
	if err != nil {
		t.Fatalf("abort: %v\n%s", err, log)
	}
	if res.Outcome != report.Success || res.ActiveColor != "green" || res.Image != "shop:v3" {
		t.Errorf("abort: result %s active %s image %s; want success, green, shop:v3", res.Outcome, res.ActiveColor, res.Image)
	}
	if blue := colorState(res, "blue"); blue.Desired != 0 {
		t.Errorf("blue after abort: %+v, want scaled to 0", blue)
	}
	if b, gr := g.forward(listener); b != 0 || gr == 0 {
		t.Errorf("production after abort: blue %d green %d, want all still on green", b, gr)
	}
	if b, gr := g.forward(testListener); b != 0 || gr == 0 {
		t.Errorf("test listener after abort: blue %d green %d, want back on green", b, gr)
	}
	if got := g.elb.Count("ModifyListener") - modifies; got != 1 {
		t.Errorf("abort wrote listeners %d times, want once (the test listener)", got)
	}
	g.refused("switch", "", "nothing is prepared")
	g.refused("abort", "", "nothing is prepared")

	// A prepared color whose service was pointed at another revision by
	// hand is not what was approved.
	g.mustPrepare("shop:v4", color.Green)
	// A prepared color whose targets fail their health checks now is not
	// switched to, whatever it was when prepared.
	g.elb.SetAllHealth(blueTG, awsfake.Unhealthy)
	g.refused("switch", "", "blue is not fully ready now")
	g.elb.SetAllHealth(blueTG, awsfake.Healthy)

	handChange(t, g.ecs, "shop-blue", "shop:hotfix")
	g.refused("switch", "", "blue was changed since")
	if b, gr := g.forward(listener); b != 0 || gr == 0 {
		t.Errorf("production after the refused switch: blue %d green %d, want all still on green", b, gr)
	}
}

// TestECSRollbackRefusesPreparedColor: a rollback would send production to
// the idle color, which holds the release waiting for approval.
func TestECSRollbackRefusesPreparedColor(t *testing.T) {
	t.Parallel()
	g := newApprovalGround(t)
	if _, err, log := g.run("deploy", "shop:v2"); err != nil {
		t.Fatalf("deploy: %v\n%s", err, log)
	}
	g.mustPrepare("shop:v3", color.Green)
	modifies := g.elb.Count("ModifyListener")
	_, err, log := g.run("rollback", "")
	if err == nil || !strings.Contains(err.Error(), "prepared and waiting for approval") {
		t.Fatalf("rollback onto the prepared color: %v, want a refusal naming it\n%s", err, log)
	}
	if n := g.elb.Count("ModifyListener") - modifies; n != 0 {
		t.Errorf("refused rollback wrote the listeners %d times", n)
	}
}

func mustList(t *testing.T, h history.Store) []history.Entry {
	t.Helper()
	entries, err := h.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// handChange registers a revision of family shop running image and points
// service at it, as someone fixing things from the console would.
func handChange(t *testing.T, f *awsfake.ECS, service, image string) {
	t.Helper()
	out, err := f.RegisterTaskDefinition(t.Context(), &awsecs.RegisterTaskDefinitionInput{
		Family: aws.String("shop"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(image), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.UpdateService(t.Context(), &awsecs.UpdateServiceInput{
		Cluster: aws.String("prod"), Service: aws.String(service), TaskDefinition: out.TaskDefinition.TaskDefinitionArn,
	}); err != nil {
		t.Fatal(err)
	}
	f.Settle()
}

// TestECSRoute53PrepareSwitchAbort: with weighted DNS records, which have
// no preview route, prepare leaves the records alone, switch moves them,
// and abort scales the prepared service to 0 without a change batch.
func TestECSRoute53PrepareSwitchAbort(t *testing.T) {
	t.Parallel()
	g := newApprovalGround(t)
	dns := awsfake.NewRoute53()
	weighted := func(c color.Color, ip string, w int64) r53types.ResourceRecordSet {
		return r53types.ResourceRecordSet{
			Name: aws.String("shop.example.com."), Type: r53types.RRTypeA, SetIdentifier: aws.String(string(c)), Weight: aws.Int64(w),
			TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(ip)}},
		}
	}
	dns.AddZone("Z0123456789EXAMPLE", "example.com", weighted(color.Blue, "192.0.2.10", 100), weighted(color.Green, "192.0.2.20", 0))
	run := func(command command.Name, image string) (report.Result, error, string) {
		t.Helper()
		groups := map[color.Color]string{color.Blue: blueTG, color.Green: greenTG}
		p, err := ecs.New(ecs.Config{API: g.ecs, ELB: g.elb, Cluster: "prod", App: "shop", TargetGroups: groups},
			ecs.WithPoll(time.Millisecond), ecs.WithProgressEvery(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		r, err := route53.New(route53.Config{API: dns, HostedZoneID: "/hostedzone/Z0123456789EXAMPLE", RecordName: "shop.example.com"},
			route53.WithPoll(time.Millisecond), route53.WithTimeout(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		log := &syncBuffer{}
		opts := deploy.Options{App: "shop", Release: platform.Release{Image: image}, WaitTimeout: time.Minute, Poll: time.Millisecond, Grace: 10 * time.Second}
		deps := deploy.Deps{Platform: p, Router: r, History: g.history, Reporter: plain.New(log), Checker: &verify.Checker{Interval: time.Millisecond}}
		res, err := deploy.New(command, opts, deps).Execute(t.Context())
		return res, err, log.String()
	}
	live := func() string {
		for _, rr := range dns.Records("Z0123456789EXAMPLE") {
			if aws.ToInt64(rr.Weight) > 0 {
				return aws.ToString(rr.SetIdentifier)
			}
		}
		return "none"
	}
	mustRun := func(command command.Name, image string, want report.Outcome) report.Result {
		t.Helper()
		res, err, log := run(command, image)
		if err != nil || res.Outcome != want {
			t.Fatalf("%s %s: %s (%v), want %s\n%s", command, image, res.Outcome, err, want, log)
		}
		return res
	}

	mustRun("prepare", "shop:v2", report.Prepared)
	if got := live(); got != "blue" || len(dns.Batches()) != 0 {
		t.Errorf("after prepare the records send to %s after %d change batches, want blue and none", got, len(dns.Batches()))
	}
	mustRun("switch", "", report.Success)
	if got := live(); got != "green" {
		t.Errorf("after switch the records send to %s, want green", got)
	}
	batches := len(dns.Batches())
	mustRun("prepare", "shop:v3", report.Prepared)
	res := mustRun("abort", "", report.Success)
	if blue := colorState(res, "blue"); blue.Desired != 0 {
		t.Errorf("blue after abort: %+v, want scaled to 0", blue)
	}
	if n := len(dns.Batches()) - batches; n != 0 || live() != "green" {
		t.Errorf("prepare and abort sent %d change batches (records on %s), want none (green)", n, live())
	}
}

// TestECSPrepareMeetsDeployLock: a prepare that starts while a deploy runs
// meets the deploy lock (a tag on the cluster): it is refused at once,
// naming the deploy's run, and writes nothing; the deploy finishes, and a
// prepare after it goes through. The deploy is held in its bake by a
// production URL that answers only when the test says so.
func TestECSPrepareMeetsDeployLock(t *testing.T) {
	t.Parallel()
	g := newApprovalGround(t)
	var err error
	g.locker, err = ecstag.New(ecstag.Config{API: g.ecs, ClusterARN: g.ecs.ClusterARN("prod"), App: "shop"},
		ecstag.WithSettle(time.Millisecond), ecstag.WithPoll(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	baking, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	prod := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		once.Do(func() { close(baking) })
		<-release
	}))
	defer prod.Close()
	type outcome struct {
		res report.Result
		err error
		log string
	}
	done := make(chan outcome, 1)
	go func() {
		res, err, log := g.run("deploy", "shop:v2", func(o *deploy.Options) {
			o.Owner, o.BakeTime, o.ProductionURL = "https://ci.example.com/deploy/1", 10*time.Millisecond, prod.URL
		})
		done <- outcome{res, err, log}
	}()
	select {
	case <-baking:
	case d := <-done:
		t.Fatalf("the deploy ended before its bake: %v\n%s", d.err, d.log)
	}

	before := g.writes()
	res, err, log := g.run("prepare", "shop:v3", func(o *deploy.Options) { o.Owner = "https://ci.example.com/prepare/1" })
	var held *lock.HeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "https://ci.example.com/deploy/1") {
		t.Errorf("prepare during the deploy: %v, want the lock held by the deploy's run\n%s", err, log)
	}
	if res.Outcome != report.Failed {
		t.Errorf("prepare during the deploy: result %s, want failed", res.Outcome)
	}
	if n := g.writes() - before; n != 0 {
		t.Errorf("the refused prepare made %d writes", n)
	}

	close(release)
	if d := <-done; d.err != nil || d.res.ActiveColor != "green" {
		t.Fatalf("the deploy: %v, active %s; want success on green\n%s", d.err, d.res.ActiveColor, d.log)
	}
	if _, err, log := g.run("prepare", "shop:v3", func(o *deploy.Options) { o.Owner = "https://ci.example.com/prepare/2" }); err != nil {
		t.Fatalf("prepare after the deploy: %v\n%s", err, log)
	}
}

// TestStatusShowsPreparedRelease: status tells a release waiting for
// approval from a color kept warm for a rollback, and says how to finish
// it; once switched, nothing is shown as waiting.
func TestStatusShowsPreparedRelease(t *testing.T) {
	t.Parallel()
	g := newApprovalGround(t)
	status := func() report.Result {
		t.Helper()
		before := g.writes()
		res, err, log := g.run("status", "")
		if err != nil {
			t.Fatalf("status: %v\n%s", err, log)
		}
		if n := g.writes() - before; n != 0 {
			t.Errorf("status made %d writes", n)
		}
		return res
	}

	g.mustPrepare("shop:v2", color.Blue)
	res := status()
	if green := colorState(res, "green"); green.State != "prepared, waiting for switch" {
		t.Errorf("status shows green as %q, want it prepared and waiting", green.State)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, "shop:v2 was prepared on green") || !strings.Contains(notes, "`command: switch` puts it live") {
		t.Errorf("status does not say what waits and how to finish it:\n%s", notes)
	}
	if res.Image != "" && res.Image != "shop:v1" {
		t.Errorf("status reports image %q; the prepared release is not what is live", res.Image)
	}

	if _, err, log := g.run("switch", "shop:v2"); err != nil {
		t.Fatalf("switch: %v\n%s", err, log)
	}
	res = status()
	if strings.Contains(strings.Join(res.Notes, "\n"), "prepared") {
		t.Errorf("status after the switch still shows a prepared release:\n%s", strings.Join(res.Notes, "\n"))
	}
	for _, c := range res.Colors {
		if c.State == "prepared, waiting for switch" {
			t.Errorf("status after the switch shows %s as prepared", c.Color)
		}
	}
}
