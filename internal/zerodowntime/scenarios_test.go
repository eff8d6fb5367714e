package zerodowntime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/loadgen"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// measured is what one scenario saw under traffic.
type measured struct {
	records []loadgen.Record
	stats   loadgen.Stats
	run     run
}

// underTraffic runs fn while traffic flows through HAProxy, and goes on
// sending for settle after it.
func underTraffic(g *ground, fn func() run) measured {
	g.t.Helper()
	lg := g.traffic()
	time.Sleep(settle) // steady state before the run
	r := fn()
	time.Sleep(settle)
	recs := lg.Stop()
	m := measured{records: recs, stats: loadgen.Summarise(recs), run: r}
	writeReport(g.t, m)
	return m
}

// check holds a scenario to the promise: no request lost, at the rate
// asked, no answer from newRelease before the first write that gave
// newColor weight, and every answer after the run from want.
func check(t *testing.T, m measured, newColor color.Color, newRelease, want string) {
	t.Helper()
	s := m.stats
	t.Logf("sent %d (keep-alive %d, new connections %d) at %.0f/s, lost %d, answers %v, 5xx from a release %d",
		s.Sent, s.KeepAlive, s.Fresh, s.Rate, s.Lost, s.ByRelease, s.AppErrors)
	if s.Lost != 0 {
		t.Errorf("%d of %d requests lost, e.g. %s\n%s", s.Lost, s.Sent, s.FirstLoss, m.run.log)
	}
	if s.Rate < 200 || s.KeepAlive == 0 || s.Fresh == 0 {
		t.Errorf("traffic was %.0f requests/s (keep-alive %d, new %d); the proof needs at least 200/s of both kinds", s.Rate, s.KeepAlive, s.Fresh)
	}
	first := m.run.firstWeight(newColor)
	for _, r := range m.records {
		if r.Release == newRelease && (first.IsZero() || r.Start.Before(first)) {
			t.Errorf("%s answered a request sent at %s, before any write gave %s weight (%v)", newRelease, r.Start.Format("15:04:05.000"), newColor, first)
			break
		}
	}
	after := 0
	for _, r := range m.records {
		if r.Start.After(m.run.end) {
			after++
			if r.Release != want {
				t.Errorf("after the run a request was answered by %q, want %q", r.Release, want)
				break
			}
		}
	}
	if after == 0 {
		t.Error("no request was sent after the run")
	}
}

func TestSwitchLosesNoRequest(t *testing.T) {
	t.Parallel()
	g := newGround(t, false)
	m := underTraffic(g, func() run { return g.run(g.inputs("deploy", "shop:1.1"), nil) })
	if m.run.err != nil {
		t.Fatalf("deploy: %v\n%s", m.run.err, m.run.log)
	}
	check(t, m, color.Green, "shop:1.1", "shop:1.1")
}

func TestTrafficStepsLoseNoRequest(t *testing.T) {
	t.Parallel()
	g := newGround(t, false)
	m := underTraffic(g, func() run {
		return g.run(g.inputs("deploy", "shop:1.1", "INPUT_TRAFFIC-STEPS", "10,50,100", "INPUT_TRAFFIC-STEP-PAUSE", "1s"), nil)
	})
	if m.run.err != nil {
		t.Fatalf("deploy: %v\n%s", m.run.err, m.run.log)
	}
	check(t, m, color.Green, "shop:1.1", "shop:1.1")
	// Both releases answered during the steps: the split was real.
	if m.stats.ByRelease["shop:1.0"] == 0 || m.stats.ByRelease["shop:1.1"] == 0 {
		t.Errorf("answers by release %v: want both during the steps", m.stats.ByRelease)
	}
	if got := len(m.run.sets); got != 3 {
		t.Errorf("%d weight writes, want one per step (3)", got)
	}
}

func TestRollbackLosesNoRequest(t *testing.T) {
	t.Parallel()
	g := newGround(t, false)
	if r := g.run(g.inputs("deploy", "shop:1.1"), nil); r.err != nil {
		t.Fatalf("deploy: %v\n%s", r.err, r.log)
	}
	m := underTraffic(g, func() run { return g.run(g.inputs("rollback", ""), nil) })
	if m.run.err != nil {
		t.Fatalf("rollback: %v\n%s", m.run.err, m.run.log)
	}
	if m.run.res.ActiveColor != "blue" {
		t.Errorf("active color after the rollback %q, want blue", m.run.res.ActiveColor)
	}
	check(t, m, color.Blue, "shop:1.0", "shop:1.0")
	// History was kept in HAProxy's map: the deploy and the rollback.
	h := g.run(g.inputs("history", ""), nil)
	if h.err != nil || !strings.Contains(strings.Join(h.res.Notes, "\n"), "rollback") {
		t.Errorf("history = %v, %q", h.err, h.res.Notes)
	}
}

func TestNeverHealthyReleaseNeverGetsTraffic(t *testing.T) {
	t.Parallel()
	g := newGround(t, false)
	g.setMode(neverReady)
	m := underTraffic(g, func() run {
		return g.run(g.inputs("deploy", "shop:1.1", "INPUT_WAIT-TIMEOUT", "2s"), nil)
	})
	if m.run.err == nil || m.run.res.Outcome != report.Failed {
		t.Fatalf("deploy of a release that never turns healthy: %v, outcome %s", m.run.err, m.run.res.Outcome)
	}
	if len(m.run.sets) != 0 {
		t.Errorf("the router was written %d times; traffic must never move", len(m.run.sets))
	}
	check(t, m, color.Green, "shop:1.1", "shop:1.0")
	if n := m.stats.ByRelease["shop:1.1"]; n != 0 {
		t.Errorf("the unhealthy release answered %d requests", n)
	}
}

func TestFailingReleaseCaughtByPrometheusGate(t *testing.T) {
	t.Parallel()
	g := newGround(t, true)
	g.setMode(answers5xx)
	gate := `sum(rate(haproxy_server_http_responses_total{proxy="shop",code="5xx"}[5s])) > 0`
	m := underTraffic(g, func() run {
		return g.run(g.inputs("deploy", "shop:1.1",
			"INPUT_TRAFFIC-STEPS", "10,100", "INPUT_TRAFFIC-STEP-PAUSE", "20s",
			"INPUT_GATE-PROMETHEUS", gate, "INPUT_PROMETHEUS-URL", g.prom.URL), func(o *deploy.Options) {
			o.Poll = 500 * time.Millisecond
		})
	})
	if m.run.err == nil || !strings.Contains(m.run.err.Error(), "gate prometheus") {
		t.Fatalf("deploy of a release answering 5xx: %v\n%s", m.run.err, m.run.log)
	}
	if m.run.res.Outcome != report.RolledBack {
		t.Errorf("outcome %s, want rolled-back", m.run.res.Outcome)
	}
	// Caught during the 10% step: the last write put all back on blue.
	last := m.run.sets[len(m.run.sets)-1].w
	if len(m.run.sets) != 2 || last[color.Blue] != 100 {
		t.Errorf("weight writes %v, want the 10%% step then all back on blue", m.run.sets)
	}
	check(t, m, color.Green, "shop:1.1", "shop:1.0")
	if m.stats.AppErrors == 0 {
		t.Error("the failing release answered no 5xx: the gate had nothing to catch")
	}
}

// TestControlSeesDowntime: the same harness, with the live servers simply
// stopped and started again, counts lost requests. A harness that could
// not see this could not prove the others.
func TestControlSeesDowntime(t *testing.T) {
	t.Parallel()
	g := newGround(t, false)
	m := underTraffic(g, func() run {
		for _, a := range g.apps[color.Blue] {
			a.Stop()
		}
		time.Sleep(300 * time.Millisecond)
		for _, a := range g.apps[color.Blue] {
			if err := a.Restart(); err != nil {
				t.Fatal(err)
			}
		}
		g.waitUp()
		return run{end: time.Now()}
	})
	t.Logf("control: sent %d, lost %d (%s)", m.stats.Sent, m.stats.Lost, m.stats.FirstLoss)
	if m.stats.Lost == 0 {
		t.Fatalf("stopping the live servers lost no request of %d: the harness cannot see downtime", m.stats.Sent)
	}
}
