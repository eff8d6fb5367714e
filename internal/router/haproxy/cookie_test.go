package haproxy_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// startCookies runs the fleet of start under cookie persistence (cookie
// SRV insert indirect nocache), each server with its cookie; opts tune
// the checks.
func startCookies(t *testing.T, opts haproxytest.Options) fleet {
	t.Helper()
	return startFleet(t, opts, "SRV")
}

// browser is a client that keeps the cookies HAProxy gives it, as a
// browser does.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// colorOf asks url through c and returns the color that answered.
func colorOf(t *testing.T, c *http.Client, url string) color.Color {
	t.Helper()
	resp, err := c.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rel := resp.Header.Get(haproxytest.ReleaseHeader)
	for _, col := range color.All {
		if rel == "shop:"+col.String() {
			return col
		}
	}
	t.Fatalf("answer %s with release %q: no color served it", resp.Status, rel)
	return color.None
}

// TestSwitchMovesCookieHolders: HAProxy lets a server at weight 0 keep
// the clients whose persistence cookie names it, so a switch by weights
// alone would leave them on the old color while the route reads 0% there.
// After a switch every client, cookie or not, reaches the new color.
func TestSwitchMovesCookieHolders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := startCookies(t, haproxytest.Options{})
	url := f.h.URLs["web"]
	r := newRouter(t, dial(t, f.h.AdminAddr), "web")
	waitFor(t, func() error { return r.Verify(ctx, color.Green) })

	held := browser(t)
	if got := colorOf(t, held, url); got != color.Blue {
		t.Fatalf("before the switch a new client reached %s, want blue", got)
	}
	if err := r.Set(ctx, router.All(color.Green)); err != nil {
		t.Fatalf("Set: %v", err)
	}
	w, err := r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Equal(router.All(color.Green)) {
		t.Fatalf("after the switch the backend reads %v, want all on green", w)
	}
	for i := range 10 {
		if got := colorOf(t, held, url); got != color.Green {
			t.Fatalf("request %d of a client holding blue's cookie reached %s after the switch read %v", i+1, got, w)
		}
	}
	if got := colorOf(t, browser(t), url); got != color.Green {
		t.Errorf("a new client reached %s after the switch", got)
	}
}

// TestColorInMaintenanceComesBackUnderFreshChecks: a color switched away
// from on a cookie backend is in maintenance, where HAProxy neither
// checks it nor counts it up; Recheck puts it back in service but down,
// so that only checks made from then on bring it up, and a switch back to
// it then moves every client, the ones holding the other color's cookie
// too.
func TestColorInMaintenanceComesBackUnderFreshChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Checks a second apart: the look right after Recheck comes before
	// the next check, however slow the machine.
	f := startCookies(t, haproxytest.Options{CheckInterval: time.Second})
	url := f.h.URLs["web"]
	r := newRouter(t, dial(t, f.h.AdminAddr), "web")
	waitFor(t, func() error { return r.Verify(ctx, color.Green) })
	if err := r.Set(ctx, router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	held := browser(t)
	if got := colorOf(t, held, url); got != color.Green {
		t.Fatalf("a new client reached %s after the switch to green", got)
	}
	if err := r.Verify(ctx, color.Blue); err == nil || !strings.Contains(err.Error(), "blue1 maintenance") {
		t.Errorf("Verify(blue) in maintenance = %v, want blue1 maintenance", err)
	}
	if err := r.Recheck(ctx, color.Blue); err != nil {
		t.Fatalf("Recheck: %v", err)
	}
	list, err := r.Servers(ctx, color.Blue)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Maint || s.Up {
			t.Errorf("right after Recheck %s is %s (maintenance %v), want down until its next checks", s.Name, s.State, s.Maint)
		}
	}
	waitFor(t, func() error { return r.Verify(ctx, color.Blue) })
	if w, err := r.Read(ctx); err != nil || !w.Equal(router.All(color.Green)) {
		t.Errorf("back under checks at weight 0, blue reads %v (%v), want no share", w, err)
	}
	if err := r.Set(ctx, router.All(color.Blue)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if got := colorOf(t, held, url); got != color.Blue {
			t.Fatalf("request %d of a client holding green's cookie reached %s after the switch back to blue", i+1, got)
		}
	}
}

// TestSplitLeavesAnOperatorsMaintenance: a server of a serving color that
// someone put in maintenance stays there through a split, and takes no
// share of the weights the split reads.
func TestSplitLeavesAnOperatorsMaintenance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := startCookies(t, haproxytest.Options{})
	api := dial(t, f.h.AdminAddr)
	r := newRouter(t, api, "web")
	waitFor(t, func() error { return r.Verify(ctx, color.Green) })
	if out, err := api.Do(ctx, "set server web/blue2 state maint"); err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("maint blue2: %q %v", out, err)
	}
	if err := r.Set(ctx, router.Share(color.Green, 30)); err != nil {
		t.Fatal(err)
	}
	w, err := r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Equal(router.Share(color.Green, 30)) {
		t.Errorf("split 30 with blue2 in maintenance reads %v", w)
	}
	list, err := r.Servers(ctx, color.Blue)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if got, want := s.Maint, s.Name == "blue2"; got != want {
			t.Errorf("%s in maintenance = %v, want %v", s.Name, got, want)
		}
	}
}

// TestCheckCookiesNamesWhatHAProxyLacks: sticky sessions on HAProxy need
// a cookie on the backend and a value on every colored server; the error
// names the haproxy.cfg lines missing.
func TestCheckCookiesNamesWhatHAProxyLacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	app := haproxytest.StartApp(t, "shop:1")
	h := haproxytest.Start(t, haproxytest.Options{},
		haproxytest.Backend{Name: "plain", Servers: []haproxytest.Server{{Name: "blue1", Addr: app.Addr, Weight: 1}, {Name: "green1", Addr: app.Addr}}},
		haproxytest.Backend{Name: "half", Cookie: "SRV", Servers: []haproxytest.Server{{Name: "blue1", Addr: app.Addr, Weight: 1, Cookie: "b1"}, {Name: "green1", Addr: app.Addr}, {Name: "green2", Addr: app.Addr}}},
		haproxytest.Backend{Name: "sticky", Cookie: "SRV", Servers: []haproxytest.Server{{Name: "blue1", Addr: app.Addr, Weight: 1, Cookie: "b1"}, {Name: "green1", Addr: app.Addr, Cookie: "g1"}}},
	)
	api := dial(t, h.AdminAddr)
	cases := []struct{ backend, text string }{
		{"plain", `backend "plain" has no "cookie" line; add e.g. "cookie SRV insert indirect nocache"`},
		{"half", `servers green1, green2 have no cookie value`},
		{"nosuch", `no backend "nosuch"`},
	}
	for _, tc := range cases {
		err := newRouter(t, api, tc.backend).CheckCookies(ctx)
		if err == nil || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("CheckCookies(%s) = %v, want it to say %q", tc.backend, err, tc.text)
		}
	}
	if err := newRouter(t, api, "sticky").CheckCookies(ctx); err != nil {
		t.Errorf("CheckCookies of a backend with cookies on every server: %v", err)
	}
}
