package deploy_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/faults"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// faultStats counts what the randomized runs did, for the test log.
type faultStats struct {
	mu       sync.Mutex
	runs     int
	outcomes map[string]int
	faults   map[string]int
	notes    map[string]int
	took     map[string]time.Duration // by outcome
	longest  time.Duration
}

func (s *faultStats) add(outcome string, took time.Duration, injected []string, notes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outcomes == nil {
		s.outcomes, s.faults, s.notes, s.took = map[string]int{}, map[string]int{}, map[string]int{}, map[string]time.Duration{}
	}
	s.runs++
	s.outcomes[outcome]++
	s.took[outcome] += took
	s.longest = max(s.longest, took)
	for _, f := range injected {
		s.faults[f]++
	}
	for _, n := range notes {
		s.notes[n]++
	}
}

func (s *faultStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := func(m map[string]int) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	var took []string
	for _, k := range slices.Sorted(maps.Keys(s.took)) {
		took = append(took, fmt.Sprintf("%s %s", k, (s.took[k]/time.Duration(s.outcomes[k])).Round(time.Millisecond)))
	}
	return fmt.Sprintf("%d runs\noutcomes: %s\nmean time by outcome: %s; longest run %s\nfaults injected: %s\nseen: %s",
		s.runs, line(s.outcomes), strings.Join(took, ", "), s.longest.Round(time.Millisecond), line(s.faults), line(s.notes))
}

// laneLease is the deploy lock's duration in the randomized runs: a lock
// left by a failed release lapses before the next run's lock-timeout.
const laneLease = 2 * time.Second

// kubeLane runs one namespace's sequence. It runs on its own goroutine, so
// it reports with t.Errorf and returns instead of calling t.Fatal.
func kubeLane(t *testing.T, g *ground, seed int64, lane, runs int, stats *faultStats) {
	ctx := t.Context()
	view := newCleanView(t, g)
	laneSeed := seed + int64(lane)*7919
	p, err := faults.Start(faults.Config{
		Upstream: g.rc, Seed: laneSeed, WatchRate: 0.6,
		MaxLatency: 40 * time.Millisecond, MaxWatch: 400 * time.Millisecond,
	})
	if err != nil {
		t.Error(err)
		return
	}
	defer p.Close()
	rng := rand.New(rand.NewPCG(uint64(laneSeed), 1))
	version := 0

	for n := range runs {
		before, err := view.snap(ctx)
		if err != nil {
			t.Errorf("lane %d: %v", lane, err)
			return
		}
		x, inputs, rate := pickKubeRun(rng, before, lane, &version)
		x.owner, x.leaseFor = fmt.Sprintf("lane %d run %d", lane, n), laneLease
		mark := len(p.Events())
		p.SetRate(rate)
		start := time.Now()
		r, ok := hangGuard(ctx, func(ctx context.Context) run {
			return faultyExec(ctx, g.ns, p.Config(), x.owner, laneLease, inputs, func(o *deploy.Options) {
				o.Poll, o.Grace = 50*time.Millisecond, 5*time.Second
			})
		})
		p.SetRate(0)
		injected := p.Events()[mark:]
		if !ok {
			t.Errorf("seed %d lane %d run %d: %s %v did not return within %s\n%s", seed, lane, n, x.command, inputs, hangAfter, describeRun(r, injected))
			return
		}
		after, err := view.snap(ctx)
		if err != nil {
			t.Errorf("lane %d: %v", lane, err)
			return
		}
		bad, notes := kubeInvariants(x, before, after, r, injected)
		if after.locked() {
			notes = append(notes, "lock left to lapse")
			// Nobody may renew a lock left behind: once its time is up it
			// is free for the next run.
			time.Sleep(time.Until(after.expires) + 100*time.Millisecond)
			again, err := view.snap(ctx)
			if err == nil && again.holder == after.holder && !again.renewed.Equal(after.renewed) {
				bad = append(bad, fmt.Sprintf("the lock left by %q is still renewed after the run", after.holder))
			}
		}
		if f := failedStep(r); f != "" {
			notes = append(notes, "failed at "+f)
		}
		stats.add(outcomeOf(r), time.Since(start), kinds(injected), notes...)
		if len(bad) > 0 {
			t.Errorf("seed %d lane %d run %d: %s %v at fault rate %v broke invariants:\n  - %s\nbefore: %s\nafter:  %s\n%s",
				seed, lane, n, x.command, inputs, rate, strings.Join(bad, "\n  - "), before, after, describeRun(r, injected))
		}
	}

	// Without faults, a deploy converges whatever the sequence left.
	final := fmt.Sprintf("registry.example.com/shop:%d.final", lane)
	owner := fmt.Sprintf("lane %d final run", lane)
	converge := func(ctx context.Context) run {
		return faultyExec(ctx, g.ns, g.rc, owner, laneLease,
			map[string]string{"IMAGE": final, "MANIFEST": "testdata/shop.yaml", "LOCK_TIMEOUT": "5s"}, nil)
	}
	r, ok := hangGuard(ctx, converge)
	after, err := view.snap(ctx)
	if !ok || err != nil || r.err != nil || !after.svc || after.colors[after.selector].image != final ||
		!after.colors[after.selector].fullyReady() || after.locked() {
		t.Errorf("seed %d lane %d: a run without faults did not converge to %s: %v (%v)\nafter: %s\n%s", seed, lane, final, r.err, err, after, describeRun(r, nil))
	}
}

// pickKubeRun draws the next command of a lane, its inputs and the fault
// rate it meets.
func pickKubeRun(rng *rand.Rand, before liveSnap, lane int, version *int) (expectation, map[string]string, float64) {
	rates := []float64{0, 0.03, 0.08, 0.15, 0.3}
	rate := rates[rng.IntN(len(rates))]
	next := func() string {
		*version++
		return fmt.Sprintf("registry.example.com/shop:%d.%d.0", lane, *version)
	}
	in := map[string]string{"WAIT_TIMEOUT": "8s", "LOCK_TIMEOUT": "4s"}
	x := expectation{command: "deploy"}
	switch p := rng.Float64(); {
	case !before.svc || p < 0.05:
		x.image = next()
		in["MANIFEST"] = "testdata/shop.yaml"
	case p < 0.45:
		x.image = next()
	case p < 0.55:
		x.image = before.colors[before.selector].image // already live
	case p < 0.75:
		x.command = "rollback"
	case p < 0.88:
		x.image = next()
		in["BAKE_TIME"] = fmt.Sprintf("%dms", 200+rng.IntN(600))
	default:
		x.image = next()
		in["MANIFEST"] = "testdata/unschedulable.yaml"
		in["WAIT_TIMEOUT"] = "1500ms"
	}
	in["COMMAND"] = x.command
	if x.image != "" {
		in["IMAGE"] = x.image
	}
	return x, in, rate
}

// hangAfter bounds a run in the randomized tests. Every wait in a run
// has a deadline, so a run that never ends is a bug; the bound is no
// measure of speed.
const hangAfter = 3 * time.Minute

// hangGuard runs f and reports whether it returned within hangAfter.
func hangGuard(ctx context.Context, f func(context.Context) run) (run, bool) {
	done := make(chan run, 1)
	go func() { done <- f(ctx) }()
	select {
	case r := <-done:
		return r, true
	case <-time.After(hangAfter):
		return run{}, false
	}
}

func outcomeOf(r run) string {
	if len(r.res.Steps) == 0 {
		return "setup failed"
	}
	o := string(r.res.Outcome)
	if r.res.Outcome == report.Success && !r.res.Changed {
		o += " (no change)"
	}
	return o
}

// failedStep names the step a run failed at, "" when none did.
func failedStep(r run) string {
	for _, st := range r.res.Steps {
		if st.Status == "failed" || st.Status == "cancelled" {
			return st.Name
		}
	}
	return ""
}

func kinds(events []faults.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, string(e.Kind))
	}
	return out
}

// describeRun prints what a failed invariant needs: the error, the steps,
// the faults the run met and its log.
func describeRun(r run, injected []faults.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "outcome %q, active %q, changed %v, error: %s\n", r.res.Outcome, r.res.ActiveColor, r.res.Changed, errText(r.err))
	for _, s := range r.res.Steps {
		fmt.Fprintf(&b, "  step %-22s %-13s %s\n", s.Name, s.Status, s.Detail)
	}
	if len(injected) > 0 {
		b.WriteString("faults injected during the run:\n")
		for _, e := range injected {
			b.WriteString("  " + e.String() + "\n")
		}
	}
	if r.log != nil {
		b.WriteString("log:\n" + r.log.String())
	}
	return b.String()
}

// awsLane runs one ECS + ALB sequence over doubles of its own. The doubles
// change only when called, and the run calls them in order, so a seed
// replays a lane call for call.
func awsLane(t *testing.T, seed int64, lane, runs int, stats *faultStats) {
	g := newAWSGround(t)
	laneSeed := seed + int64(lane)*104729
	rng := rand.New(rand.NewPCG(uint64(laneSeed), 2))
	f := &flappingELB{ELBv2: g.elb, ecs: g.ecs, rng: rand.New(rand.NewPCG(uint64(laneSeed), 3))}
	pick := func(xs ...int) int { return xs[rng.IntN(len(xs))] }
	version := 1
	for n := range runs {
		if rng.IntN(2) == 0 {
			g.ecs.Settle() // time passes between two runs
		}
		before := g.listenerNow()
		images := map[string]string{"blue": g.imageOf("blue"), "green": g.imageOf("green")}
		command, image := "deploy", ""
		switch p := rng.Float64(); {
		case p < 0.5:
			version++
			image = fmt.Sprintf("shop:v%d", version)
		case p < 0.6:
			image = images[before.live] // already live
		case p < 0.8:
			command = "rollback"
		case p < 0.9:
			version++
			image = fmt.Sprintf("shop:crashes-%d", version)
			g.ecs.SetOutcome(image, awsfake.Crashes)
		default:
			version++
			image = fmt.Sprintf("shop:unhealthy-%d", version)
			g.ecs.SetOutcome(image, awsfake.FailsHealthChecks)
		}
		ecsEvery, elbEvery, stale := pick(0, 0, 0, 0, 23, 41), pick(0, 0, 0, 0, 17, 31), pick(0, 0, 1, 2, 3, 6)
		flap := []float64{0, 0.05, 0.15, 0.3}[rng.IntN(4)]
		knobs := fmt.Sprintf("ECS throttles every %d, ELB every %d, %d stale reads, flap %v", ecsEvery, elbEvery, stale, flap)
		g.ecs.ThrottleEvery(ecsEvery)
		g.elb.ThrottleEvery(elbEvery)
		g.elb.StaleReads(stale)
		f.mu.Lock()
		f.flap, f.flaps, f.violations = flap, 0, nil
		f.startLive = map[string]string{"blue": blueTG, "green": greenTG}[before.live]
		f.mu.Unlock()
		elbCalls := g.elb.Count("")

		start := time.Now()
		r := awsFaultRun(t.Context(), g, f, command, image)
		took := time.Since(start)

		g.ecs.ThrottleEvery(0)
		g.elb.ThrottleEvery(0)
		g.elb.StaleReads(0)
		g.settleReads()
		f.mu.Lock()
		f.flap = 0
		flaps := f.flaps
		f.mu.Unlock()
		after := g.listenerNow()
		bad, notes := awsInvariants(g, f, command, image, before, after, images, r)
		var injected []string
		for k, on := range map[string]bool{"ECS throttling": ecsEvery > 0, "ELB throttling": elbEvery > 0, "stale reads": stale > 0} {
			if on {
				injected = append(injected, k)
			}
		}
		for range flaps {
			injected = append(injected, "health flap")
		}
		if f := failedStep(r); f != "" {
			notes = append(notes, "failed at "+f)
		}
		stats.add(outcomeOf(r), took, injected, notes...)
		if len(bad) > 0 {
			t.Errorf("seed %d lane %d run %d: %s %q (%s) broke invariants:\n  - %s\nbefore: %+v\nafter:  %+v\nELBv2 calls: %q\n%s",
				seed, lane, n, command, image, knobs, strings.Join(bad, "\n  - "), before, after, g.elb.Calls()[elbCalls:], describeRun(r, nil))
		}
	}

	// Without faults, a deploy converges whatever the sequence left.
	g.ecs.Settle()
	final := fmt.Sprintf("shop:final-%d", lane)
	f.mu.Lock()
	f.startLive, f.violations = map[string]string{"blue": blueTG, "green": greenTG}[g.listenerNow().live], nil
	f.mu.Unlock()
	r := awsFaultRun(t.Context(), g, f, "deploy", final)
	after := g.listenerNow()
	f.mu.Lock()
	bad := f.violations
	f.mu.Unlock()
	if r.err != nil || after.live == "" || g.imageOf(after.live) != final || len(bad) > 0 {
		t.Errorf("seed %d lane %d: a run without faults did not converge to %s: %v %q\nafter: %+v\n%s", seed, lane, final, r.err, bad, after, describeRun(r, nil))
	}
}
