package main

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/haproxy"
)

// TestHostsSplitOnHAProxy: on a real HAProxy, command split gives the new
// color its share of the backend's weight and leaves both serving; a
// rollback takes all traffic back to the release that was live; sticky
// sessions are refused, exit 2, on a backend without cookie persistence.
func TestHostsSplitOnHAProxy(t *testing.T) {
	t.Parallel()
	blue, green := haproxytest.StartApp(t, "shop:1.0"), haproxytest.StartApp(t, "shop:1.1")
	h := haproxytest.Start(t, haproxytest.Options{}, haproxytest.Backend{Name: "shop", Servers: []haproxytest.Server{
		{Name: "blue1", Addr: blue.Addr, Weight: 10}, {Name: "green1", Addr: green.Addr, Weight: 0},
	}})
	base := env{
		"BLUEGREEN_APP": "shop", "BLUEGREEN_IMAGE": "shop:1.1", "BLUEGREEN_PLATFORM": "hosts",
		"BLUEGREEN_HAPROXY_RUNTIME_API": h.AdminAddr, "BLUEGREEN_COMMAND": "split", "BLUEGREEN_SPLIT_WEIGHT": "30",
		// green already runs 1.1: the command stands for the one that put it there.
		"BLUEGREEN_DEPLOY_COMMAND": "true", "BLUEGREEN_WAIT_TIMEOUT": "20s",
	}
	with := base.with
	api, err := haproxy.Dial(h.AdminAddr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	weight := func(server string) int {
		t.Helper()
		out, err := api.Do(t.Context(), "get weight shop/"+server)
		if err != nil {
			t.Fatal(err)
		}
		w, _, _ := strings.Cut(out, " ")
		n, err := strconv.Atoi(w)
		if err != nil {
			t.Fatalf("get weight shop/%s: %q", server, out)
		}
		return n
	}
	// green's share of the backend's weight, in percent.
	share := func() int {
		b, g := weight("blue1"), weight("green1")
		return int(math.Round(float64(g) * 100 / float64(b+g)))
	}

	code, _, stderr := runMain(t, nil, with("BLUEGREEN_STICKY_DURATION", "1h"))
	if code != exitInput || !strings.Contains(stderr, `input "sticky-duration"`) || !strings.Contains(stderr, `"cookie SRV insert indirect nocache"`) {
		t.Errorf("sticky split on a backend without cookies: exit %d, stderr %q; want %d naming sticky-duration and the haproxy.cfg lines it needs", code, stderr, exitInput)
	}
	if s := share(); s != 0 {
		t.Errorf("a refused split gave green %d%% of the weight", s)
	}

	code, stdout, stderr := runMain(t, nil, with())
	if code != exitOK || !strings.Contains(stdout, "blue and green (split: both serve)") {
		t.Fatalf("split: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if s := share(); s != 30 || weight("blue1") == 0 {
		t.Errorf("after split 30: green has %d%% of the weight (blue1 %d, green1 %d), want 30%% with both serving", s, weight("blue1"), weight("green1"))
	}

	code, stdout, stderr = runMain(t, nil, with("BLUEGREEN_COMMAND", "rollback", "BLUEGREEN_SPLIT_WEIGHT", "", "BLUEGREEN_IMAGE", ""))
	if code != exitOK {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if s := share(); s != 0 || weight("blue1") == 0 {
		t.Errorf("after rolling back the split green has %d%% of the weight, want all back on blue1", s)
	}
}
