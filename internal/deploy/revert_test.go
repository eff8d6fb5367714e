package deploy_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/ecs"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/alb"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// failingListener is the ELBv2 double whose ModifyListener fails, once
// armed, for the given number of calls (-1: all of them), as an ELB API
// outage or a network that drops the calls would.
type failingListener struct {
	*awsfake.ELBv2
	armed    atomic.Bool
	failures atomic.Int32
	failed   atomic.Int32
}

var errListenerOutage = errors.New("dial tcp: connection reset by peer")

func (f *failingListener) ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, opts ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	if f.armed.Load() && f.failures.Load() != 0 {
		f.failures.Add(-1)
		f.failed.Add(1)
		return nil, errListenerOutage
	}
	return f.ELBv2.ModifyListener(ctx, in, opts...)
}

// badBake is a production URL that fails every request, after calling
// first once: the bake fails, and first changes the world meanwhile.
func badBake(t *testing.T, first func()) string {
	t.Helper()
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		once.Do(first)
		http.Error(w, "bad release", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// runOver deploys image over the doubles with the listener's API lb, and
// a bake against prodURL.
func (g *awsGround) runOver(lb interface {
	alb.API
	ecs.ELB
}, image, prodURL string, grace time.Duration) (report.Result, error, string) {
	g.t.Helper()
	groups := map[color.Color]string{color.Blue: blueTG, color.Green: greenTG}
	p, err := ecs.New(ecs.Config{API: g.ecs, ELB: lb, Cluster: "prod", App: "shop", TargetGroups: groups},
		ecs.WithPoll(time.Millisecond), ecs.WithProgressEvery(time.Hour))
	if err != nil {
		g.t.Fatal(err)
	}
	r, err := alb.New(alb.Config{API: lb, ListenerARN: listener, TargetGroups: groups}, alb.WithReadBack(5, time.Millisecond))
	if err != nil {
		g.t.Fatal(err)
	}
	log := &syncBuffer{}
	opts := deploy.Options{
		App: "shop", Release: platform.Release{Image: image}, WaitTimeout: time.Minute, VerifyTimeout: time.Second,
		Poll: time.Millisecond, Grace: grace, RevertBackoff: time.Millisecond, RouteGrace: 5 * time.Millisecond,
		BakeTime: time.Minute, ProductionURL: prodURL,
	}
	deps := deploy.Deps{Platform: p, Router: r, Reporter: plain.New(log), Checker: &verify.Checker{Interval: time.Millisecond}}
	res, err := deploy.New("deploy", opts, deps).Execute(g.t.Context())
	return res, err, log.String()
}

// TestRevertRetriedUntilReadBack: the bake fails, and the first writes
// that put traffic back fail. The revert tries again until a read shows
// traffic back, and only then reports rolled-back.
func TestRevertRetriedUntilReadBack(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	lb := &failingListener{ELBv2: g.elb}
	lb.failures.Store(3)
	res, err, log := g.runOver(lb, "shop:v2", badBake(t, func() { lb.armed.Store(true) }), 10*time.Second)
	if lb.failed.Load() == 0 {
		t.Fatalf("no listener write failed; the test proves nothing\n%s", log)
	}
	if err == nil {
		t.Fatalf("deploy with a failing bake succeeded:\n%s", log)
	}
	if res.Outcome != report.RolledBack || res.ActiveColor != "blue" {
		t.Errorf("result %s active %s, want rolled-back with blue live\n%s", res.Outcome, res.ActiveColor, log)
	}
	if b, gr := g.weights(); b == 0 || gr != 0 {
		t.Errorf("weights after the revert: blue %d green %d, want all back on blue", b, gr)
	}
}

// TestRevertFailed: the bake fails and every write that would put traffic
// back fails until the revert's deadline. The run must not say
// rolled-back: it is revert-failed, says what serves now and the one
// command that fixes it.
func TestRevertFailed(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	lb := &failingListener{ELBv2: g.elb}
	lb.failures.Store(-1)
	res, err, log := g.runOver(lb, "shop:v2", badBake(t, func() { lb.armed.Store(true) }), 200*time.Millisecond)
	if lb.failed.Load() == 0 {
		t.Fatalf("no listener write failed; the test proves nothing\n%s", log)
	}
	if err == nil {
		t.Fatalf("deploy with a failing bake succeeded:\n%s", log)
	}
	if got, want := res.Outcome, report.RevertFailed; got != want {
		t.Errorf("outcome %q, want %q\n%s", got, want, log)
	}
	if b, gr := g.weights(); b != 0 || gr == 0 {
		t.Errorf("weights: blue %d green %d, want all still on green (every revert failed)", b, gr)
	}
	for _, want := range []string{"command: rollback", "green runs shop:v2 (100% of traffic", "blue runs shop:v1 (0% of traffic"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if res.ActiveColor != "green" {
		t.Errorf("active color %q, want green", res.ActiveColor)
	}
}

// TestRevertNeverToColorNotReady: the bake fails while the previous color
// has been scaled to nothing. Putting traffic back there would send it to
// a color with no ready task: the run leaves traffic where it is and is
// revert-failed, never rolled-back.
func TestRevertNeverToColorNotReady(t *testing.T) {
	t.Parallel()
	g := newAWSGround(t)
	scaleBlueDown := func() {
		if _, err := g.ecs.UpdateService(context.Background(), &awsecs.UpdateServiceInput{
			Cluster: aws.String("prod"), Service: aws.String("shop-blue"), DesiredCount: aws.Int32(0),
		}); err != nil {
			t.Error(err)
		}
	}
	res, err, log := g.runOver(g.elb, "shop:v2", badBake(t, scaleBlueDown), 200*time.Millisecond)
	if err == nil {
		t.Fatalf("deploy with a failing bake succeeded:\n%s", log)
	}
	if b, gr := g.weights(); b != 0 || gr == 0 {
		t.Errorf("weights: blue %d green %d, want all still on green: blue has no task", b, gr)
	}
	if got, want := res.Outcome, report.RevertFailed; got != want {
		t.Errorf("outcome %q, want %q\n%s", got, want, log)
	}
	if !strings.Contains(err.Error(), "not fully ready") {
		t.Errorf("error does not say why traffic stayed: %v", err)
	}
}
