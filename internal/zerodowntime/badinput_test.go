package zerodowntime_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// TestBadInputsNameTheInputBeforeAnyWrite: each input that cannot work is
// a bad input (exit 2) naming it, found before anything is written: the
// weights stay as they were and the deploy command never runs.
func TestBadInputsNameTheInputBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	g := newGround(t, true)
	stray := haproxytest.Start(t, haproxytest.Options{},
		haproxytest.Backend{Name: "shop", Servers: []haproxytest.Server{
			{Name: "blue1", Addr: g.apps[color.Blue][0].Addr, Weight: 1}, {Name: "green1", Addr: g.apps[color.Green][0].Addr}, {Name: "canary1", Addr: g.apps[color.Green][1].Addr},
		}},
		haproxytest.Backend{Name: "onlyblue", Servers: []haproxytest.Server{{Name: "blue1", Addr: g.apps[color.Blue][0].Addr, Weight: 1}}})
	cases := []struct {
		name  string
		in    []string
		input string
		text  string
	}{
		{"runtime api unreachable", []string{"INPUT_HAPROXY-RUNTIME-API", haproxytest.FreePort(t)}, "haproxy-runtime-api", "unreachable"},
		{"runtime api below admin", []string{"INPUT_HAPROXY-RUNTIME-API", g.h.OperatorSocket}, "haproxy-runtime-api", `level "operator"`},
		{"no such backend", []string{"INPUT_HAPROXY-BACKEND", "nosuch"}, "haproxy-backend", `no backend "nosuch"`},
		{"backend with no server of a color", []string{"INPUT_HAPROXY-RUNTIME-API", stray.AdminAddr, "INPUT_HAPROXY-BACKEND", "onlyblue", "INPUT_HAPROXY-HISTORY-MAP", ""}, "haproxy-backend", "no server of green"},
		{"server name that fits no color", []string{"INPUT_HAPROXY-RUNTIME-API", stray.AdminAddr, "INPUT_HAPROXY-HISTORY-MAP", ""}, "haproxy-backend", `server "canary1" fits no color`},
		{"history map not loaded", []string{"INPUT_HAPROXY-HISTORY-MAP", "/etc/haproxy/nosuch.map"}, "haproxy-history-map", "no such map"},
		{"invalid PromQL", []string{"INPUT_GATE-PROMETHEUS", "sum(rate(x[5m]", "INPUT_PROMETHEUS-URL", g.prom.URL}, "gate-prometheus", "invalid query"},
		{"prometheus unreachable", []string{"INPUT_GATE-PROMETHEUS", "vector(0)", "INPUT_PROMETHEUS-URL", "http://" + haproxytest.FreePort(t)}, "prometheus-url", "unreachable"},
		{"deploy command missing", []string{"INPUT_DEPLOY-COMMAND", "/nonexistent/deploy.sh"}, "deploy-command", "cannot be run"},
	}
	before, err := runtimeDo(g.h.AdminAddr, "show servers state shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := g.run(g.inputs("deploy", "shop:1.1", tc.in...), nil)
			var ie *config.Error
			if !errors.As(r.err, &ie) || ie.Input != tc.input || !strings.Contains(r.err.Error(), tc.text) {
				t.Errorf("error = %v, want a bad input %q mentioning %q", r.err, tc.input, tc.text)
			}
		})
	}
	after, _ := runtimeDo(g.h.AdminAddr, "show servers state shop")
	if weights(after) != weights(before) {
		t.Errorf("weights changed by runs refused for bad input:\n%s\n%s", before, after)
	}
	for _, a := range g.apps[color.Green] {
		if a.Release() != "shop:0.9" {
			t.Errorf("green runs %q: the deploy command ran", a.Release())
		}
	}
}

// weights is the name and weight of every server in a servers state answer.
func weights(out string) string {
	var b strings.Builder
	for _, line := range strings.Split(out, "\n")[2:] {
		if f := strings.Fields(line); len(f) > 8 {
			b.WriteString(f[3] + "=" + f[7] + " ")
		}
	}
	return b.String()
}

// TestHAProxyGoneMidRun: HAProxy stopping during a traffic step fails the
// run (exit 1, not a bad input), and the report says the revert could not
// be made and the routing could not be read rather than guessing.
func TestHAProxyGoneMidRun(t *testing.T) {
	t.Parallel()
	g := newGround(t, false)
	go func() {
		// Gone once the first step is set.
		for {
			out, err := runtimeDo(g.h.AdminAddr, "show servers state shop")
			if err != nil || strings.Contains(weights(out), "green1=") && !strings.Contains(weights(out), "green1=0 ") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		g.h.Stop()
	}()
	r := g.run(g.inputs("deploy", "shop:1.1", "INPUT_TRAFFIC-STEPS", "10,100", "INPUT_TRAFFIC-STEP-PAUSE", "30s", "INPUT_HAPROXY-HISTORY-MAP", ""),
		func(o *deploy.Options) { o.Grace = 2 * time.Second })
	if r.err == nil {
		t.Fatalf("a deploy whose HAProxy went away succeeded\n%s", r.log)
	}
	if config.IsInputError(r.err) {
		t.Errorf("HAProxy gone mid-run is reported as a bad input: %v", r.err)
	}
	// Traffic was split when HAProxy went: putting it back could not be
	// done, and the report says so rather than claiming a rollback.
	if r.res.Outcome != report.RevertFailed || r.res.ActiveColor != "unknown" {
		t.Errorf("outcome %s, active color %q; want revert-failed, unknown (no fresh read possible)", r.res.Outcome, r.res.ActiveColor)
	}
	if !strings.Contains(r.log, "reading the final routing") {
		t.Errorf("the report does not say the final routing could not be read:\n%s", r.log)
	}
}
