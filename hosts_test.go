package main

import (
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/haproxy"
)

// TestHostsThroughTheBinary: on platform hosts the binary exits 2 naming
// the input when HAProxy's Runtime API is below admin level, and 0 once a
// deploy command put the release on green and the switch read it serving.
func TestHostsThroughTheBinary(t *testing.T) {
	t.Parallel()
	blue, green := haproxytest.StartApp(t, "shop:1.0"), haproxytest.StartApp(t, "shop:1.1")
	h := haproxytest.Start(t, haproxytest.Options{}, haproxytest.Backend{Name: "shop", Servers: []haproxytest.Server{
		{Name: "blue1", Addr: blue.Addr, Weight: 10}, {Name: "green1", Addr: green.Addr, Weight: 0},
	}})
	base := env{
		"BLUEGREEN_APP": "shop", "BLUEGREEN_IMAGE": "shop:1.1", "BLUEGREEN_PLATFORM": "hosts",
		// green already runs 1.1: the command stands for the one that put it there.
		"BLUEGREEN_DEPLOY_COMMAND": "true", "BLUEGREEN_WAIT_TIMEOUT": "20s",
	}
	with := func(k, v string) env {
		e := env{k: v}
		for bk, bv := range base {
			e[bk] = bv
		}
		return e
	}
	code, _, stderr := runMain(t, nil, with("BLUEGREEN_HAPROXY_RUNTIME_API", h.OperatorSocket))
	if code != exitInput || !strings.Contains(stderr, `input "haproxy-runtime-api"`) {
		t.Errorf("below admin level: exit %d, stderr %q; want %d naming haproxy-runtime-api", code, stderr, exitInput)
	}
	code, stdout, stderr := runMain(t, nil, with("BLUEGREEN_HAPROXY_RUNTIME_API", h.AdminAddr))
	if code != exitOK {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, stdout, stderr)
	}
	api, err := haproxy.Dial(h.AdminAddr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	out, err := api.Do(t.Context(), "get weight shop/green1")
	if err != nil || !strings.HasPrefix(out, "10 ") {
		t.Errorf("green1's weight after the deploy: %q, %v; want the backend's full weight 10", out, err)
	}
}
