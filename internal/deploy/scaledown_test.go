package deploy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/lockfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/platformfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/routerfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

// memGround is one application on the in-memory platform, router and
// lock: blue serves shop:v1 with two replicas.
type memGround struct {
	t        *testing.T
	platform *platformfake.Platform
	router   *routerfake.Router
	locker   *lockfake.Locker
}

func newMemGround(t *testing.T) *memGround {
	g := &memGround{t: t, platform: &platformfake.Platform{}, router: routerfake.New(router.All(color.Blue)), locker: &lockfake.Locker{}}
	g.platform.Run(color.Blue, "shop:v1", 2)
	return g
}

type memRun struct {
	res report.Result
	err error
	log *testkit.SyncBuffer
}

// start runs command in the background on clk (nil: the wall clock).
func (g *memGround) start(command command.Name, owner, image string, clk clock.Clock, tweak func(*deploy.Options)) (<-chan memRun, *testkit.SyncBuffer) {
	log := &testkit.SyncBuffer{}
	opts := deploy.Options{App: "shop", Owner: owner, Release: platform.Release{Image: image}, WaitTimeout: time.Minute, Poll: time.Millisecond, RouteGrace: time.Millisecond}
	if tweak != nil {
		tweak(&opts)
	}
	deps := deploy.Deps{Platform: g.platform, Router: g.router, Locker: g.locker, Reporter: plain.New(log), Clock: clk}
	done := make(chan memRun, 1)
	go func() {
		res, err := deploy.New(command, opts, deps).Execute(g.t.Context())
		done <- memRun{res, err, log}
	}()
	return done, log
}

// waitLine waits until the log holds want: the line is written before the
// waiting code sleeps on the fake clock again, so no time threshold is
// involved.
func waitLine(t *testing.T, clk *clock.Fake, log *testkit.SyncBuffer, want string) {
	t.Helper()
	clk.BlockUntil(1)
	if !strings.Contains(log.String(), want) {
		t.Fatalf("log lacks %q:\n%s", want, log.String())
	}
}

// TestScaleDownAfterLetsRollbackRun: while a deploy waits scale-down-after
// it holds no lock, says every 15 s how long is left, and an emergency
// rollback in that time succeeds; the deploy then scales nothing down,
// because the old color serves again.
func TestScaleDownAfterLetsRollbackRun(t *testing.T) {
	t.Parallel()
	g := newMemGround(t)
	clk := clock.NewFake(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))
	done, log := g.start("deploy", "deploy-run", "shop:v2", clk, func(o *deploy.Options) { o.ScaleDownAfter = time.Minute })

	clk.BlockUntil(1)
	if h := g.locker.Holder(); h != "" {
		t.Fatalf("the deploy lock is held by %q while scale-down-after runs; want it free", h)
	}
	clk.Advance(15 * time.Second)
	waitLine(t, clk, log, "keeping blue warm: 45s left before scaling it to 0")

	rb, rlog := g.start("rollback", "rollback-run", "", nil, nil)
	r := <-rb
	if r.err != nil {
		t.Fatalf("rollback during scale-down-after: %v\n%s", r.err, rlog.String())
	}
	if got := g.router.Weights().Live(); got != color.Blue {
		t.Fatalf("after the rollback %s is live, want blue", got)
	}

	clk.Advance(15 * time.Second)
	waitLine(t, clk, log, "30s left")
	clk.Advance(15 * time.Second)
	waitLine(t, clk, log, "15s left")
	clk.Advance(15 * time.Second)
	d := <-done
	if d.err != nil {
		t.Fatalf("deploy: %v\n%s", d.err, log.String())
	}
	if st := g.platform.State(color.Blue); st.Desired != 2 || !st.Healthy {
		t.Errorf("blue after the wait = %d/%d ready; want it left serving at 2", st.Ready, st.Desired)
	}
	if !strings.Contains(log.String(), "blue serves again") {
		t.Errorf("the deploy does not say why blue was left running:\n%s", log.String())
	}
	if h := g.locker.Holder(); h != "" {
		t.Errorf("lock still held by %q after both runs", h)
	}
}

// TestScaleDownAfterScalesOldColor: with no rollback, the old color is
// scaled to 0 under the lock taken again.
func TestScaleDownAfterScalesOldColor(t *testing.T) {
	t.Parallel()
	g := newMemGround(t)
	clk := clock.NewFake(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))
	done, log := g.start("deploy", "deploy-run", "shop:v2", clk, func(o *deploy.Options) { o.ScaleDownAfter = 20 * time.Second })
	clk.BlockUntil(1)
	clk.Advance(15 * time.Second)
	waitLine(t, clk, log, "5s left")
	clk.Advance(5 * time.Second)
	d := <-done
	if d.err != nil {
		t.Fatalf("deploy: %v\n%s", d.err, log.String())
	}
	if st := g.platform.State(color.Blue); st.Desired != 0 {
		t.Errorf("blue has %d replicas after scale-down-after, want 0", st.Desired)
	}
	if got, want := g.locker.Takes(), 2; got != want {
		t.Errorf("lock taken %d times, want %d (before and after the wait)", got, want)
	}
}

// TestLockWaitSpeaks: a run waiting for a lock another run holds says so
// every 15 s, then goes on once the lock is free.
func TestLockWaitSpeaks(t *testing.T) {
	t.Parallel()
	g := newMemGround(t)
	other, err := g.locker.Acquire(t.Context(), "other-run", 0)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))
	done, log := g.start("deploy", "deploy-run", "shop:v2", clk, func(o *deploy.Options) { o.LockTimeout = 10 * time.Minute })
	clk.BlockUntil(1)
	clk.Advance(15 * time.Second)
	waitLine(t, clk, log, "waiting for the deploy lock of shop, held by another run: 15s of lock-timeout 10m0s")
	clk.Advance(15 * time.Second)
	waitLine(t, clk, log, "30s of lock-timeout")
	if err := other.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := <-done
	if d.err != nil {
		t.Fatalf("deploy after the lock was freed: %v\n%s", d.err, log.String())
	}
	if got := g.router.Weights().Live(); got != color.Green {
		t.Errorf("%s is live after the deploy, want green", got)
	}
}
