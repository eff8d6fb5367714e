package hosts_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/hosts"
)

// fleet is a fixed list of servers whose up state a test sets; the real
// one, HAProxy's view, is tested in package haproxy and the traffic tests.
type fleet struct {
	mu      sync.Mutex
	servers map[color.Color][]hosts.Server
}

func (f *fleet) Servers(_ context.Context, c color.Color) ([]hosts.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]hosts.Server(nil), f.servers[c]...), nil
}

func (f *fleet) setUp(c color.Color, i int, up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.servers[c][i].Up, f.servers[c][i].State = up, map[bool]string{true: "up", false: "down"}[up]
}

func newFleet(t *testing.T) (*fleet, map[string]*haproxytest.App) {
	apps := map[string]*haproxytest.App{}
	f := &fleet{servers: map[color.Color][]hosts.Server{}}
	for _, c := range color.All {
		for _, n := range []string{"1", "2"} {
			a := haproxytest.StartApp(t, "shop:1."+map[color.Color]string{color.Blue: "0", color.Green: "1"}[c])
			apps[string(c)+n] = a
			f.servers[c] = append(f.servers[c], hosts.Server{Name: string(c) + n, Addr: a.Addr, Up: true, State: "up"})
		}
	}
	return f, apps
}

func TestDescribeReadsReleaseFromEveryServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, apps := newFleet(t)
	p, err := hosts.New(hosts.Config{Fleet: f, App: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Describe(ctx, color.Blue)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Healthy || st.Ready != 2 || st.Desired != 2 || st.Release.Image != "shop:1.0" {
		t.Errorf("blue = %+v, want healthy 2/2 running shop:1.0", st)
	}
	f.setUp(color.Blue, 1, false)
	if st, _ = p.Describe(ctx, color.Blue); st.Healthy || st.Ready != 1 {
		t.Errorf("blue with blue2 down = healthy %v, %d/%d ready", st.Healthy, st.Ready, st.Desired)
	}
	f.setUp(color.Blue, 1, true)
	apps["blue2"].Stop()
	if st, _ = p.Describe(ctx, color.Blue); st.Healthy || st.Ready != 1 {
		t.Errorf("blue with blue2 not answering = healthy %v, %d/%d ready", st.Healthy, st.Ready, st.Desired)
	}
}

func TestDeployRunsCommandThenWaitsForTheRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, apps := newFleet(t)
	var mu sync.Mutex
	var lines []string
	p, err := hosts.New(hosts.Config{Fleet: f, App: "shop",
		DeployCommand: []string{"sh", "-c", `echo "deploying $BLUEGREEN_IMAGE of $BLUEGREEN_APP to $BLUEGREEN_COLOR"; echo to stderr >&2`}},
		hosts.WithPoll(5*time.Millisecond), hosts.WithEnv([]string{"EXTRA=1"}),
		hosts.WithLog(func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Deploy(ctx, color.Green, platform.Release{Image: "shop:2.0"}, 0); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	mu.Lock()
	got := strings.Join(lines, "|")
	mu.Unlock()
	if want := "deploying shop:2.0 of shop to green|to stderr"; got != want {
		t.Errorf("streamed %q, want %q", got, want)
	}
	// The machines still answer 1.1: green is not ready for 2.0.
	if st, _ := p.Describe(ctx, color.Green); st.Healthy {
		t.Errorf("green healthy while answering the old release: %+v", st)
	}
	// Each wait below ends after its first look, through the progress
	// line it prints: the error is then about what that look saw.
	once := func() (context.Context, func(string)) {
		c, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		return c, func(string) { cancel() }
	}
	short, stop := once()
	err = p.Wait(short, color.Green, stop)
	if !errors.Is(err, platform.ErrNotReady) || !strings.Contains(err.Error(), `answers "shop:1.1", not "shop:2.0"`) {
		t.Fatalf("Wait = %v, want ErrNotReady naming the release answered", err)
	}
	apps["green1"].Set("shop:2.0", true, 200)
	apps["green2"].Set("shop:2.0", true, 200)
	f.setUp(color.Green, 0, false)
	short, stop = once()
	if err := p.Wait(short, color.Green, stop); err == nil || !strings.Contains(err.Error(), "green1") || !strings.Contains(err.Error(), "down in the load balancer") {
		t.Fatalf("Wait with green1 down = %v", err)
	}
	f.setUp(color.Green, 0, true)
	if err := p.Wait(ctx, color.Green, func(string) {}); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	mu.Lock()
	last := lines[len(lines)-1]
	mu.Unlock()
	if want := "green is ready and answers shop:2.0 at green1 http://" + apps["green1"].Addr; !strings.HasPrefix(last, want) {
		t.Errorf("the log says %q, want the new color's addresses (%q...)", last, want)
	}
	if st, _ := p.Describe(ctx, color.Green); !st.Healthy || st.Release.Image != "shop:2.0" {
		t.Errorf("green = %+v, want healthy on shop:2.0", st)
	}
}

func TestFailedDeployCommandCarriesItsLastLines(t *testing.T) {
	t.Parallel()
	f, _ := newFleet(t)
	p, err := hosts.New(hosts.Config{Fleet: f, App: "shop",
		DeployCommand: []string{"sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i; done; exit 3`}})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Deploy(context.Background(), color.Green, platform.Release{Image: "shop:2.0"}, 0)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "line 12") || strings.Contains(err.Error(), "line 2\n") {
		t.Errorf("Deploy = %v, want exit status 3 with the last 10 lines", err)
	}
}

// rechecking is a fleet that can have its servers judged afresh, and
// notes which colors were.
type rechecking struct {
	*fleet
	rechecked []color.Color
}

func (r *rechecking) Recheck(_ context.Context, c color.Color) error {
	r.rechecked = append(r.rechecked, c)
	return nil
}

// TestScaleUpPutsServersUnderFreshChecks: a rollback scales up a color
// that is not ready; on hosts that asks the load balancer to judge its
// servers afresh (HAProxy's maintenance is not health-checked), where the
// fleet can, and fails elsewhere and for a scale-down.
func TestScaleUpPutsServersUnderFreshChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, _ := newFleet(t)
	rf := &rechecking{fleet: f}
	p, err := hosts.New(hosts.Config{Fleet: rf, App: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Scale(ctx, color.Blue, 2); err != nil {
		t.Errorf("Scale up with a fleet that rechecks: %v", err)
	}
	if got := rf.rechecked; len(got) != 1 || got[0] != color.Blue {
		t.Errorf("rechecked %v, want blue once", got)
	}
	if err := p.Scale(ctx, color.Blue, 0); err == nil {
		t.Error("Scale to 0 on hosts succeeded; machines are not bluegreen's to stop")
	}
	plain, err := hosts.New(hosts.Config{Fleet: f, App: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Scale(ctx, color.Blue, 2); err == nil || !strings.Contains(err.Error(), "does not start or stop machines") {
		t.Errorf("Scale up with a fleet that cannot recheck = %v, want the machines named as not bluegreen's", err)
	}
}
