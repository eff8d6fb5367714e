package zerodowntime_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/loadgen"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

// rate is the traffic sent through HAProxy during every scenario.
const rate = 250

// deployArg makes the test binary act as the deploy command (see
// TestMain): it asks the ground's control endpoint to put the release on
// the color's servers, as a real deploy command would reach its machines.
const deployArg = "zerodowntime-deploy"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == deployArg {
		os.Exit(deployCommand(os.Args[2]))
	}
	os.Exit(m.Run())
}

func deployCommand(control string) int {
	url := fmt.Sprintf("%s/deploy?color=%s&image=%s", control, os.Getenv("BLUEGREEN_COLOR"), os.Getenv("BLUEGREEN_IMAGE"))
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	resp.Body.Close()
	fmt.Printf("deployed %s to %s: %s\n", os.Getenv("BLUEGREEN_IMAGE"), os.Getenv("BLUEGREEN_COLOR"), resp.Status)
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// mode is how a deployed release behaves on its servers.
type mode int

const (
	good       mode = iota // healthy, answers 200
	neverReady             // fails HAProxy's health checks
	answers5xx             // passes health checks, answers 500 to users
)

// ground is one app, shop, on two servers per color behind HAProxy.
type ground struct {
	t       *testing.T
	h       *haproxytest.HAProxy
	prom    *haproxytest.Prometheus
	apps    map[color.Color][]*haproxytest.App
	control string
	mode    mode
	mu      sync.Mutex
}

// newGround starts blue live on shop:1.0 and green idle on shop:0.9.
func newGround(t *testing.T, withPrometheus bool) *ground {
	return newGroundWith(t, withPrometheus, false)
}

// newGroundWith can add a preview backend, shop-preview, with the same
// servers, pointed at blue.
func newGroundWith(t *testing.T, withPrometheus, preview bool) *ground {
	t.Helper()
	return newGroundOf(t, withPrometheus, preview, false)
}

// newCookieGround is the ground with cookie persistence on backend shop
// (cookie SRV, each server its own value), as the guides to blue/green on
// HAProxy set it up.
func newCookieGround(t *testing.T) *ground {
	t.Helper()
	return newGroundOf(t, false, false, true)
}

func newGroundOf(t *testing.T, withPrometheus, preview, cookies bool) *ground {
	t.Helper()
	g := &ground{t: t, apps: map[color.Color][]*haproxytest.App{}}
	var servers []haproxytest.Server
	for _, c := range color.All {
		release, weight := "shop:1.0", 100
		if c == color.Green {
			release, weight = "shop:0.9", 0
		}
		for i := 1; i <= 2; i++ {
			a := haproxytest.StartApp(t, release)
			g.apps[c] = append(g.apps[c], a)
			s := haproxytest.Server{Name: fmt.Sprintf("%s%d", c, i), Addr: a.Addr, Weight: weight}
			if cookies {
				s.Cookie = s.Name
			}
			servers = append(servers, s)
		}
	}
	backends := []haproxytest.Backend{{Name: "shop", Servers: servers}}
	if cookies {
		backends[0].Cookie = "SRV"
	}
	if preview {
		backends = append(backends, haproxytest.Backend{Name: "shop-preview", Servers: servers})
	}
	g.h = haproxytest.Start(t, haproxytest.Options{HistoryMap: true}, backends...)
	if withPrometheus {
		g.prom = haproxytest.StartPrometheus(t, time.Second, g.h.MetricsURL)
	}
	ctl := &http.Server{Handler: http.HandlerFunc(g.deploy)}
	addr := haproxytest.FreePort(t)
	ln, err := (&netListen{}).listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ctl.Serve(ln) }()
	t.Cleanup(func() { _ = ctl.Close() })
	g.control = "http://" + addr
	g.waitUp()
	return g
}

// deploy is the control endpoint the deploy command calls: the color's
// servers restart on the new release, one at a time.
func (g *ground) deploy(w http.ResponseWriter, r *http.Request) {
	c, err := color.Parse(r.URL.Query().Get("color"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	image := r.URL.Query().Get("image")
	g.mu.Lock()
	m := g.mode
	g.mu.Unlock()
	for _, a := range g.apps[c] {
		a.Stop()
		a.Set(image, m != neverReady, map[bool]int{true: 500, false: 200}[m == answers5xx])
		if err := a.Restart(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
}

func (g *ground) setMode(m mode) {
	g.mu.Lock()
	g.mode = m
	g.mu.Unlock()
}

// waitUp waits until HAProxy sees every server up.
func (g *ground) waitUp() {
	g.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := runtimeDo(g.h.AdminAddr, "show servers state shop")
		if err == nil && strings.Count(out, "\n") >= 5 && !hasDown(out) {
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("HAProxy did not see every server up:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inputs are the inputs of a run on this ground, as a CI would give them.
func (g *ground) inputs(command, image string, more ...string) map[string]string {
	in := map[string]string{
		"INPUT_COMMAND": command, "INPUT_APP": "shop", "INPUT_PLATFORM": "hosts",
		"INPUT_HAPROXY-RUNTIME-API": g.h.AdminAddr, "INPUT_HAPROXY-HISTORY-MAP": g.h.HistoryMap,
		"INPUT_DEPLOY-COMMAND": fmt.Sprintf("[%q, %q, %q]", os.Args[0], deployArg, g.control),
		"INPUT_WAIT-TIMEOUT":   "20s", "INPUT_RUN-URL": "https://ci.example.com/run/1",
	}
	if image != "" {
		in["INPUT_IMAGE"] = image
	}
	for i := 0; i+1 < len(more); i += 2 {
		in[more[i]] = more[i+1]
	}
	return in
}

// run is one bluegreen run, built from inputs as the binary builds it,
// with its router wrapped to note when each write began.
type run struct {
	res   report.Result
	err   error
	log   string
	sets  []set
	end   time.Time
	ready time.Time
}

type set struct {
	// at is when the write began, done when it was answered.
	at, done time.Time
	w        router.Weights
}

type watched struct {
	router.Router
	mu   sync.Mutex
	sets []set
}

func (w *watched) Set(ctx context.Context, to router.Weights) error {
	at := time.Now()
	err := w.Router.Set(ctx, to)
	w.mu.Lock()
	w.sets = append(w.sets, set{at: at, done: time.Now(), w: to})
	w.mu.Unlock()
	return err
}

// waited notes when the platform's wait saw the new color ready.
type waited struct {
	platform.Platform
	mu    sync.Mutex
	ready time.Time
}

func (w *waited) Wait(ctx context.Context, c color.Color, progress func(string)) error {
	err := w.Platform.Wait(ctx, c, progress)
	if err == nil {
		w.mu.Lock()
		w.ready = time.Now()
		w.mu.Unlock()
	}
	return err
}

func (g *ground) run(in map[string]string, tweak func(*deploy.Options)) run {
	g.t.Helper()
	ctx := context.Background()
	getenv := func(k string) string { return in[k] }
	cfg, err := config.Load(ctx, config.Lookuper(getenv))
	if err == nil {
		err = cfg.Validate()
	}
	var out run
	buf := &testkit.SyncBuffer{}
	rep := plain.New(buf)
	var b *setup.Built
	if err == nil {
		b, err = setup.Build(ctx, cfg, rep, getenv)
	}
	if err != nil {
		out.err, out.end = err, time.Now()
		return out
	}
	wr := &watched{Router: b.Deps.Router}
	b.Deps.Router = wr
	wp := &waited{Platform: b.Deps.Platform}
	b.Deps.Platform = wp
	b.Options.Poll, b.Options.Grace = 200*time.Millisecond, 20*time.Second
	if tweak != nil {
		tweak(&b.Options)
	}
	out.res, out.err = deploy.New(cfg.Command, b.Options, b.Deps).Execute(ctx)
	out.end = time.Now()
	out.log = buf.String()
	wr.mu.Lock()
	out.sets = wr.sets
	wr.mu.Unlock()
	wp.mu.Lock()
	out.ready = wp.ready
	wp.mu.Unlock()
	return out
}

// firstWeight returns when the first write giving c weight began, or the
// zero time when none did.
func (r run) firstWeight(c color.Color) time.Time {
	for _, s := range r.sets {
		if s.w[c] > 0 {
			return s.at
		}
	}
	return time.Time{}
}

// traffic starts the load through HAProxy.
func (g *ground) traffic() *loadgen.Generator {
	g.t.Helper()
	lg, err := loadgen.Start(loadgen.Config{URL: g.h.URLs["shop"] + "/", Rate: rate, Header: haproxytest.ReleaseHeader})
	if err != nil {
		g.t.Fatal(err)
	}
	return lg
}

// settle is how long traffic runs before a run (the steady state) and
// after it (what answers once it is over). Measuring for the benchmarks
// takes longer windows, for percentiles worth the name.
var settle = func() time.Duration {
	if os.Getenv(envReport) != "" {
		return 3 * time.Second
	}
	return 500 * time.Millisecond
}()
