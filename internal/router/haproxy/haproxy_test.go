package haproxy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/haproxy"
)

// recorder passes commands to the real API and remembers the writes.
type recorder struct {
	api haproxy.API
	mu  sync.Mutex
	set []string
}

func (r *recorder) Do(ctx context.Context, cmd string) (string, error) {
	if strings.HasPrefix(cmd, "set ") {
		r.mu.Lock()
		r.set = append(r.set, cmd)
		r.mu.Unlock()
	}
	return r.api.Do(ctx, cmd)
}

func (r *recorder) writes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.set...)
}

type fleet struct {
	h    *haproxytest.HAProxy
	apps map[string]*haproxytest.App
}

// start runs HAProxy with backend web: blue1 and blue2 live at weight
// 100, green1 and green2 idle at weight 0.
func start(t *testing.T) fleet {
	t.Helper()
	return startFleet(t, haproxytest.Options{}, "")
}

// startFleet is start with opts tuning the checks and, when cookie is
// not "", cookie persistence under that name (cookie <name> insert
// indirect nocache), each server with its own cookie value (b1, g2, ...).
func startFleet(t *testing.T, opts haproxytest.Options, cookie string) fleet {
	t.Helper()
	f := fleet{apps: map[string]*haproxytest.App{}}
	var servers []haproxytest.Server
	for _, n := range []string{"blue1", "blue2", "green1", "green2"} {
		f.apps[n] = haproxytest.StartApp(t, "shop:"+n[:len(n)-1])
		w := 100
		if strings.HasPrefix(n, "green") {
			w = 0
		}
		s := haproxytest.Server{Name: n, Addr: f.apps[n].Addr, Weight: w}
		if cookie != "" {
			s.Cookie = n[:1] + n[len(n)-1:]
		}
		servers = append(servers, s)
	}
	f.h = haproxytest.Start(t, opts, haproxytest.Backend{Name: "web", Cookie: cookie, Servers: servers})
	return f
}

func newRouter(t *testing.T, api haproxy.API, backend string) *haproxy.Router {
	t.Helper()
	r, err := haproxy.New(haproxy.Config{API: api, Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dial(t *testing.T, addr string) *haproxy.Runtime {
	t.Helper()
	rt, err := haproxy.Dial(addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestSwitchRaisesNewColorBeforeLoweringOld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := start(t)
	rec := &recorder{api: dial(t, f.h.AdminAddr)}
	r := newRouter(t, rec, "web")
	if err := r.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	w, err := r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.Live(), color.Blue; got != want || w.Split() {
		t.Fatalf("live = %v (%v), want all on %v", got, w, want)
	}
	if err := r.Set(ctx, router.All(color.Green)); err != nil {
		t.Fatalf("Set: %v", err)
	}
	want := []string{
		"set weight web/green1 100", "set weight web/green2 100",
		"set weight web/blue1 0", "set weight web/blue2 0",
	}
	if got := rec.writes(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	w, err = r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w[color.Green] != 100 || w[color.Blue] != 0 {
		t.Errorf("after the switch the backend reads %v, want all on green", w)
	}
	// Idempotent: the same weights again write nothing.
	n := len(rec.writes())
	if err := r.Set(ctx, router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.writes()); got != n {
		t.Errorf("setting the weights in force wrote %d commands", got-n)
	}
}

func TestSplitReadsBackAsSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := start(t)
	r := newRouter(t, dial(t, f.h.AdminAddr), "web")
	for _, pct := range []int{1, 10, 33, 50, 90, 99, 100} {
		if err := r.Set(ctx, router.Weights{color.Green: pct, color.Blue: 100 - pct}); err != nil {
			t.Fatalf("Set %d%%: %v", pct, err)
		}
		w, err := r.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if w[color.Green] != pct {
			t.Errorf("set green %d%%, read %v", pct, w)
		}
	}
}

func TestVerifySeesHealthChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := start(t)
	r := newRouter(t, dial(t, f.h.AdminAddr), "web")
	waitFor(t, func() error { return r.Verify(ctx, color.Green) })
	f.apps["green2"].Set("shop:green", false, 200)
	waitFor(t, func() error {
		err := r.Verify(ctx, color.Green)
		if err == nil {
			return errors.New("green still verifies with green2 failing its checks")
		}
		if !strings.Contains(err.Error(), "green2 down") {
			return err
		}
		return nil
	})
}

func waitFor(t *testing.T, cond func() error) {
	t.Helper()
	var err error
	for i := 0; i < 200; i++ {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal(err)
}

func TestCheckRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app := haproxytest.StartApp(t, "shop:1")
	h := haproxytest.Start(t, haproxytest.Options{},
		haproxytest.Backend{Name: "web", Servers: []haproxytest.Server{{Name: "blue1", Addr: app.Addr, Weight: 1}, {Name: "green1", Addr: app.Addr}}},
		haproxytest.Backend{Name: "onlyblue", Servers: []haproxytest.Server{{Name: "blue1", Addr: app.Addr, Weight: 1}}},
		haproxytest.Backend{Name: "stray", Servers: []haproxytest.Server{{Name: "blue1", Addr: app.Addr}, {Name: "green1", Addr: app.Addr}, {Name: "red1", Addr: app.Addr}}},
	)
	cases := []struct {
		name, addr, backend string
		want                error
		text                string
	}{
		{"operator level", h.OperatorSocket, "web", haproxy.ErrNotAdmin, `level "operator"`},
		{"nothing listens", haproxytest.FreePort(t), "web", haproxy.ErrUnreachable, "unreachable"},
		{"no such backend", h.AdminAddr, "nosuch", haproxy.ErrNoBackend, `"nosuch"`},
		{"no server of green", h.AdminAddr, "onlyblue", haproxy.ErrServers, "no server of green"},
		{"a server of no color", h.AdminAddr, "stray", haproxy.ErrServers, `server "red1" fits no color`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := newRouter(t, dial(t, tc.addr), tc.backend).Check(ctx)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Check = %v, want %v mentioning %q", err, tc.want, tc.text)
			}
		})
	}
	if err := newRouter(t, dial(t, h.AdminAddr), "web").Check(ctx); err != nil {
		t.Errorf("Check of a good backend: %v", err)
	}
}

func TestDialRefusesBadAddresses(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"", "localhost", "unix:", ":9999", "http://127.0.0.1:9999"} {
		if _, err := haproxy.Dial(addr, 0); err == nil {
			t.Errorf("Dial(%q) accepted it", addr)
		}
	}
}

// TestRecheckCountsOnlyChecksFromNowOn: after Recheck a checked server is
// down until its next checks pass, so an UP from before a deploy is not
// taken for the new release; a server without checks is left alone.
func TestRecheckCountsOnlyChecksFromNowOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := haproxytest.StartApp(t, "shop:1"), haproxytest.StartApp(t, "shop:1")
	// Checks a second apart: the look right after Recheck comes before
	// the next check, however slow the machine.
	h := haproxytest.Start(t, haproxytest.Options{CheckInterval: time.Second}, haproxytest.Backend{Name: "web", Servers: []haproxytest.Server{
		{Name: "blue1", Addr: a.Addr, Weight: 1}, {Name: "green1", Addr: a.Addr}, {Name: "green2", Addr: b.Addr, NoCheck: true},
	}})
	r := newRouter(t, dial(t, h.AdminAddr), "web")
	waitFor(t, func() error { return r.Verify(ctx, color.Green) })
	if err := r.Recheck(ctx, color.Green); err != nil {
		t.Fatalf("Recheck: %v", err)
	}
	if err := r.Verify(ctx, color.Green); err == nil || !strings.Contains(err.Error(), "green1") || strings.Contains(err.Error(), "green2") {
		t.Errorf("Verify right after Recheck = %v, want green1 (checked) down and green2 (no checks) up", err)
	}
	waitFor(t, func() error { return r.Verify(ctx, color.Green) })
}
