package main

import (
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
)

// TestHostsStickySplitOnHAProxy: on a real HAProxy whose backend has
// cookie persistence, a split with sticky-duration keeps every client
// that holds a cookie on the color it first reached, new clients split
// by the weights, and the report warns that haproxy.cfg decides how long
// the cookie lasts. A switch then moves every client to the new release,
// cookie or not, and a rollback every client back.
func TestHostsStickySplitOnHAProxy(t *testing.T) {
	t.Parallel()
	var servers []haproxytest.Server
	for _, s := range []struct{ name, release string }{{"blue1", "shop:1.0"}, {"blue2", "shop:1.0"}, {"green1", "shop:1.1"}, {"green2", "shop:1.1"}} {
		w := 10
		if strings.HasPrefix(s.name, "green") {
			w = 0
		}
		app := haproxytest.StartApp(t, s.release)
		servers = append(servers, haproxytest.Server{Name: s.name, Addr: app.Addr, Weight: w, Cookie: s.name})
	}
	h := haproxytest.Start(t, haproxytest.Options{HistoryMap: true}, haproxytest.Backend{Name: "shop", Cookie: "SRV", Servers: servers})
	url := h.URLs["shop"] + "/"
	base := env{
		"BLUEGREEN_APP": "shop", "BLUEGREEN_IMAGE": "shop:1.1", "BLUEGREEN_PLATFORM": "hosts",
		"BLUEGREEN_HAPROXY_RUNTIME_API": h.AdminAddr, "BLUEGREEN_COMMAND": "split", "BLUEGREEN_SPLIT_WEIGHT": "30",
		"BLUEGREEN_STICKY_DURATION": "1h", "BLUEGREEN_HAPROXY_HISTORY_MAP": h.HistoryMap,
		// green already runs 1.1: the command stands for the one that put it there.
		"BLUEGREEN_DEPLOY_COMMAND": "true", "BLUEGREEN_WAIT_TIMEOUT": "20s",
	}
	with := base.with
	// release asks through c and returns the release that answered.
	release := func(c *http.Client) string {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get(haproxytest.ReleaseHeader)
	}
	fresh := func() *http.Client {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		return c
	}

	code, stdout, stderr := runMain(t, nil, with())
	if code != exitOK {
		t.Fatalf("sticky split: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if out := stdout + stderr; !strings.Contains(out, "haproxy.cfg") || !strings.Contains(out, "maxlife") {
		t.Errorf("the sticky split does not warn that haproxy.cfg decides the cookie's lifetime:\n%s", out)
	}

	// Clients with a cookie jar, as browsers: each stays where it landed.
	const clients, again = 40, 10
	browsers := make([]*http.Client, clients)
	landed := map[string]int{}
	for i := range browsers {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		browsers[i] = &http.Client{Jar: jar, Transport: &http.Transport{DisableKeepAlives: true}}
		first := release(browsers[i])
		landed[first]++
		for n := range again {
			if got := release(browsers[i]); got != first {
				t.Fatalf("client %d first reached %s, then %s on request %d: not sticky", i, first, got, n+2)
			}
		}
	}
	// New clients, no cookie: the weights decide.
	news := map[string]int{}
	for range 200 {
		news[release(fresh())]++
	}
	t.Logf("split 30: %d clients with a cookie first reached %v and stayed %d requests each; 200 new clients reached %v", clients, landed, again, news)
	if g := news["shop:1.1"]; g < 40 || g > 80 {
		t.Errorf("of 200 new clients %d reached the new release, want about 30%% (40-80)", g)
	}
	if landed["shop:1.1"] == 0 || landed["shop:1.0"] == 0 {
		t.Errorf("clients landed %v: the split did not give both releases clients", landed)
	}

	everyone := func(want, after string) {
		t.Helper()
		for i, b := range browsers {
			for range 3 {
				if got := release(b); got != want {
					t.Fatalf("after %s client %d (with its cookie) reached %s, want %s", after, i, got, want)
				}
			}
		}
		for range 20 {
			if got := release(fresh()); got != want {
				t.Fatalf("after %s a new client reached %s, want %s", after, got, want)
			}
		}
	}
	code, stdout, stderr = runMain(t, nil, with("BLUEGREEN_COMMAND", "switch", "BLUEGREEN_SPLIT_WEIGHT", "", "BLUEGREEN_IMAGE", ""))
	if code != exitOK {
		t.Fatalf("switch: exit %d\n%s\n%s", code, stdout, stderr)
	}
	everyone("shop:1.1", "the switch")
	code, stdout, stderr = runMain(t, nil, with("BLUEGREEN_COMMAND", "status", "BLUEGREEN_SPLIT_WEIGHT", "", "BLUEGREEN_IMAGE", ""))
	if code != exitOK || !strings.Contains(stdout, "idle, out of service (not health-checked") {
		t.Errorf("status after the switch: exit %d, want blue shown out of service, not health-checked:\n%s\n%s", code, stdout, stderr)
	}

	code, stdout, stderr = runMain(t, nil, with("BLUEGREEN_COMMAND", "rollback", "BLUEGREEN_SPLIT_WEIGHT", "", "BLUEGREEN_IMAGE", ""))
	if code != exitOK {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, stdout, stderr)
	}
	everyone("shop:1.0", "the rollback")
}
