package deploy_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/haproxy"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
)

// hostsGround is platform hosts behind a real HAProxy: servers blue1,
// blue2, green1 and green2 of backend shop (blue live) and of the preview
// backend shop-preview, history in an HAProxy map. The deploy command
// asks a control server of the test to set the release of a color's apps,
// as a deploy to those machines would.
type hostsGround struct {
	t    *testing.T
	ha   *haproxytest.HAProxy
	apps map[string]*haproxytest.App
	ctl  string
}

func newHostsGround(t *testing.T) *hostsGround {
	t.Helper()
	haproxytest.Binary(t)
	g := &hostsGround{t: t, apps: map[string]*haproxytest.App{}}
	var prod, preview []haproxytest.Server
	for _, c := range color.All {
		for _, n := range []string{"1", "2"} {
			name := string(c) + n
			g.apps[name] = haproxytest.StartApp(t, "shop:1.0")
			w := map[color.Color]int{color.Blue: 100, color.Green: 0}[c]
			prod = append(prod, haproxytest.Server{Name: name, Addr: g.apps[name].Addr, Weight: w})
			preview = append(preview, haproxytest.Server{Name: name, Addr: g.apps[name].Addr, Weight: w})
		}
	}
	g.ha = haproxytest.Start(t, haproxytest.Options{HistoryMap: true},
		haproxytest.Backend{Name: "shop", Servers: prod}, haproxytest.Backend{Name: "shop-preview", Servers: preview})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, image := r.URL.Query().Get("color"), r.URL.Query().Get("image")
		for name, a := range g.apps {
			if strings.HasPrefix(name, c) {
				a.Set(image, true, http.StatusOK)
			}
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	g.ctl = ln.Addr().String()
	return g
}

// run builds command through config and setup, as the binary does.
func (g *hostsGround) run(command, image string) (report.Result, error, string) {
	g.t.Helper()
	env := map[string]string{
		"BLUEGREEN_COMMAND": command, "BLUEGREEN_APP": "shop", "BLUEGREEN_IMAGE": image,
		"BLUEGREEN_PLATFORM": "hosts", "BLUEGREEN_WAIT_TIMEOUT": "30s",
		"BLUEGREEN_HAPROXY_RUNTIME_API":     g.ha.AdminAddr,
		"BLUEGREEN_HAPROXY_PREVIEW_BACKEND": "shop-preview",
		"BLUEGREEN_HAPROXY_HISTORY_MAP":     g.ha.HistoryMap,
		"BLUEGREEN_RUN_URL":                 "https://ci.example.com/" + command,
		"BLUEGREEN_DEPLOY_COMMAND": fmt.Sprintf(`["bash", "-c", "exec 3<>/dev/tcp/%s/%s && printf 'GET /?color=%%s&image=%%s HTTP/1.0\\r\\n\\r\\n' \"$BLUEGREEN_COLOR\" \"$BLUEGREEN_IMAGE\" >&3 && cat <&3 >/dev/null"]`,
			strings.Split(g.ctl, ":")[0], strings.Split(g.ctl, ":")[1]),
	}
	getenv := func(k string) string { return env[k] }
	ctx := g.t.Context()
	cfg, err := config.Load(ctx, config.Lookuper(getenv))
	if err != nil {
		g.t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		g.t.Fatal(err)
	}
	log := &syncBuffer{}
	rep := plain.New(log, plain.WithProgressInterval(0))
	built, err := setup.Build(ctx, cfg, rep, getenv)
	if err != nil {
		g.t.Fatalf("setting up %s: %v", command, err)
	}
	opts := built.Options
	opts.Poll, opts.Grace = time.Millisecond, 10*time.Second
	res, err := deploy.New(cfg.Command, opts, built.Deps).Execute(ctx)
	return res, err, log.String()
}

// weights reads a backend's split from HAProxy.
func (g *hostsGround) weights(backend string) router.Weights {
	g.t.Helper()
	api, err := haproxy.Dial(g.ha.AdminAddr, 5*time.Second)
	if err != nil {
		g.t.Fatal(err)
	}
	r, err := haproxy.New(haproxy.Config{API: api, Backend: backend})
	if err != nil {
		g.t.Fatal(err)
	}
	w, err := r.Read(context.Background())
	if err != nil {
		g.t.Fatal(err)
	}
	return w
}

// TestHostsPrepareSwitchAbort runs the approval flow on machines behind a
// real HAProxy: prepare moves only the preview backend, switch moves the
// production one, abort points the preview back and leaves the machines
// up (bluegreen does not stop them), and switch refuses a color whose
// machines were given another release since.
func TestHostsPrepareSwitchAbort(t *testing.T) {
	t.Parallel()
	g := newHostsGround(t)
	var mu sync.Mutex
	step := func(command, image string, outcome report.Outcome, want string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		res, err, log := g.run(command, image)
		if res.Outcome != outcome {
			t.Fatalf("%s %s: result %s (%v), want %s\n%s", command, image, res.Outcome, err, outcome, log)
		}
		if want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s %s: error %v, want one saying %q", command, image, err, want)
		}
	}

	step("prepare", "shop:2.0", report.Prepared, "")
	if w := g.weights("shop"); w.Live() != color.Blue || w.Split() {
		t.Errorf("production after prepare: %s, want all on blue", w)
	}
	if w := g.weights("shop-preview"); w.Live() != color.Green || w.Split() {
		t.Errorf("preview after prepare: %s, want all on green", w)
	}
	step("switch", "shop:2.0", report.Success, "")
	if w := g.weights("shop"); w.Live() != color.Green || w.Split() {
		t.Errorf("production after switch: %s, want all on green", w)
	}
	step("switch", "", report.Failed, "nothing is prepared")

	step("prepare", "shop:3.0", report.Prepared, "")
	step("abort", "", report.Success, "")
	if w := g.weights("shop-preview"); w.Live() != color.Green || w.Split() {
		t.Errorf("preview after abort: %s, want back on green", w)
	}
	if w := g.weights("shop"); w.Live() != color.Green || w.Split() {
		t.Errorf("production after abort: %s, want all still on green", w)
	}
	step("switch", "", report.Failed, "nothing is prepared")

	step("prepare", "shop:4.0", report.Prepared, "")
	g.apps["blue1"].Set("shop:hotfix", true, http.StatusOK)
	step("switch", "", report.Failed, "blue was changed since")
	if w := g.weights("shop"); w.Live() != color.Green || w.Split() {
		t.Errorf("production after the refused switch: %s, want all still on green", w)
	}
}
