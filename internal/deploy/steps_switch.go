package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// switchStep moves all traffic to the target color in one write, after a
// last readiness check made right before it: a color that lost a replica
// since the wait never receives traffic.
type switchStep struct{ r *Run }

func (switchStep) String() string { return "switch traffic" }

func (sw switchStep) Skip(s *State) (string, bool) { return upToDate(s) }

// verifyGrace is how long the last check before a switch waits for the
// route to see the new color, polling every verifyPoll.
const (
	verifyGrace = 10 * time.Second
	verifyPoll  = 200 * time.Millisecond
)

// revertTimeout bounds putting traffic back after a failed switch,
// retries included.
const revertTimeout = 30 * time.Second

// conflictRetries bounds how often a switch that met a concurrent change
// of the route is re-checked and tried again.
const conflictRetries = 3

// percents are the shares of traffic the target gets in turn: one write
// of split-weight for a split, else the traffic steps left above what the
// target already has (a split being finished goes on from where it
// stands), else all at once.
func (sw switchStep) percents(s *State) []int {
	if sw.r.command == command.Split {
		return []int{sw.r.opts.SplitWeight}
	}
	steps := sw.r.opts.TrafficSteps
	if len(steps) == 0 || s.Live == color.None || sw.r.opts.DryRun {
		return []int{100}
	}
	var out []int
	for _, p := range steps {
		if p > s.Previous[s.Target] {
			out = append(out, p)
		}
	}
	return out
}

func (sw switchStep) Run(ctx context.Context, s *State) error {
	steps := sw.percents(s)
	for i, pct := range steps {
		w := router.Share(s.Target, pct)
		s.Want = w
		if sw.r.opts.DryRun {
			s.note(fmt.Sprintf("switch traffic from %s to %s (%s)", s.Live, s.Target, w))
			if !canDryRun(sw.r.deps.Router) {
				return nil
			}
			return sw.set(ctx, s, w)
		}
		if err := sw.set(ctx, s, w); err != nil {
			return sw.putBack(ctx, s, err)
		}
		s.moved(fmt.Sprintf("%s: %s %d%%", sw, s.Target, pct), w)
		if wr, ok := sw.r.deps.Router.(router.Warner); ok && wr.Warning() != "" {
			sw.r.deps.Reporter.Warning(wr.Warning())
		}
		if i < len(steps)-1 {
			sw.r.deps.Reporter.Info(fmt.Sprintf("%d%% of traffic on %s; watching it for %s", pct, s.Target, sw.r.opts.StepPause))
			if err := sw.r.watch(ctx, s, sw.r.opts.StepPause, "traffic step"); err != nil {
				return sw.putBack(ctx, s, err)
			}
		}
	}
	return nil
}

// putBack reverts a switch that failed, or whose watch between traffic
// steps failed, and returns err. The step failed, so the pipeline will not
// revert it: traffic is put back here, on a context the cancellation
// spares.
func (sw switchStep) putBack(ctx context.Context, s *State, err error) error {
	grace := revertTimeout
	if sw.r.opts.Grace > 0 {
		grace = sw.r.opts.Grace
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if rerr := sw.Revert(rctx, s); rerr != nil {
		return fmt.Errorf("%w; %w", err, rerr)
	}
	return err
}

// set applies w after checking, right before the write, that the target
// can serve. A concurrent change of the route makes the write fail; the
// check and the write are then tried again, a few times.
func (sw switchStep) set(ctx context.Context, s *State, w router.Weights) error {
	var err error
	for attempt := 1; attempt <= conflictRetries; attempt++ {
		if !sw.r.opts.DryRun {
			if err := sw.r.checkServable(ctx, s, s.Target); err != nil {
				return err
			}
		}
		if err := sw.r.mayWrite(ctx, s, "switching traffic"); err != nil {
			return err
		}
		if !sw.r.opts.DryRun {
			// Count the switch as made before the write: a write whose
			// answer is lost (a dropped connection, a stale read-back) may
			// still have moved traffic, and only a revert that reads the
			// route can tell.
			s.Switched = true
		}
		err = sw.r.deps.Router.Set(ctx, w)
		if !errors.Is(err, router.ErrConflict) {
			return err
		}
		sw.r.deps.Reporter.Warning(fmt.Sprintf("the route changed while switching (attempt %d of %d); re-checking %s before trying again", attempt, conflictRetries, s.Target))
	}
	return err
}

func (sw switchStep) Detail(s *State) string {
	if sw.r.opts.DryRun && canDryRun(sw.r.deps.Router) {
		if n, ok := sw.r.deps.Router.(router.DryRunNoter); ok {
			return fmt.Sprintf("would switch %s -> %s (%s)", s.Live, s.Target, n.DryRunNote())
		}
		return fmt.Sprintf("would switch %s -> %s (server-side dry run accepted)", s.Live, s.Target)
	}
	if sw.r.opts.DryRun {
		return fmt.Sprintf("would switch %s -> %s (this router has no server-side dry run; nothing sent)", s.Live, s.Target)
	}
	if sw.r.command == command.Split {
		return fmt.Sprintf("%s -> %s: %s", s.Live, s.Target, s.Want)
	}
	if steps := sw.percents(s); len(steps) > 1 && s.Live != color.None {
		return fmt.Sprintf("%s -> %s in steps %v%%", s.Live, s.Target, steps)
	}
	return fmt.Sprintf("%s -> %s", s.Live, s.Target)
}

// Revert puts the routing found at the start back, retrying until a read
// of the route shows it there (see revertTraffic). A first deploy had no
// route to put back; the new route then stays, pointing at the only color.
// A revert that cannot confirm traffic is back marks the run
// revert-failed; one refused because the lock was lost writes nothing and
// leaves the run failed.
func (sw switchStep) Revert(ctx context.Context, s *State) error {
	if !s.Switched || len(s.Previous) == 0 || s.Previous.Live() == color.None {
		return nil
	}
	// When the route already reads as before, the switch most likely
	// never reached it and nothing was rolled back; the previous weights
	// are still written, because a read may be stale (ELBv2 reads are
	// eventually consistent) and Set writes nothing when they match.
	untouched := false
	if now, err := sw.r.deps.Router.Read(ctx); err == nil && now.Equal(s.Previous) {
		untouched = true
	}
	if err := sw.r.revertTraffic(ctx, s); err != nil {
		if !errors.Is(err, lock.ErrLost) {
			s.RevertFailed = true
		}
		return err
	}
	s.Switched, s.RevertFailed = false, false
	s.moved(fmt.Sprintf("%s: put back to %s", sw, s.Previous.Live()), s.Previous)
	if untouched {
		return nil
	}
	s.RolledBack = true
	sw.r.deps.Reporter.Warning(fmt.Sprintf("traffic put back to %s (%s), as a read of the route shows", s.Previous.Live(), s.Previous))
	return nil
}

// checkServable fails unless color c is healthy on the platform and, where
// the router can tell, registered and healthy behind the route.
func (r *Run) checkServable(ctx context.Context, s *State, c color.Color) error {
	st, err := r.deps.Platform.Describe(ctx, c)
	if err != nil {
		return err
	}
	s.Colors[c] = st
	if !st.Healthy || st.Ready < st.Desired || st.Desired == 0 {
		return fmt.Errorf("%s is %w (%d/%d ready); traffic not moved", c, errNotHealthy, st.Ready, st.Desired)
	}
	// The route's own view (endpoints, target health) may trail the
	// platform's by a moment: give it a few seconds to catch up.
	grace := verifyGrace
	if r.opts.RouteGrace > 0 {
		grace = r.opts.RouteGrace
	}
	deadline := time.Now().Add(grace)
	for {
		err := r.deps.Router.Verify(ctx, c)
		switch {
		case err == nil || errors.Is(err, errors.ErrUnsupported):
			return nil
		case time.Now().After(deadline) || ctx.Err() != nil:
			return fmt.Errorf("%s is not serving behind the route; traffic not moved: %w", c, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(verifyPoll, grace)):
		}
	}
}

// confirmStep bakes the new release for bake-time, watching its health,
// then confirms from the live system that the target color serves the
// release. The run commits only when this step succeeds: before it, any
// failure (or cancellation) puts traffic back.
type confirmStep struct{ r *Run }

func (confirmStep) String() string { return "bake and confirm" }

func (confirmStep) Commits() bool { return true }

func (c confirmStep) Skip(*State) (string, bool) {
	if c.r.opts.DryRun {
		return "dry run: nothing switched to confirm", true
	}
	return "", false
}

func (c confirmStep) Run(ctx context.Context, s *State) error {
	if err := c.bake(ctx, s); err != nil {
		return err
	}
	w, err := c.r.deps.Router.Read(ctx)
	if err != nil {
		return err
	}
	want := s.Want
	if want == nil {
		want = router.All(s.Target) // nothing switched: the live color must still have it all
	}
	if !w.Equal(want) {
		return fmt.Errorf("the route reads %s after the switch to %s (%s); someone else changed it", w, s.Target, want)
	}
	st, err := c.r.deps.Platform.Describe(ctx, s.Target)
	if err != nil {
		return err
	}
	s.Colors[s.Target] = st
	if want := c.r.wantImage(s); st.Release.Image != want {
		return fmt.Errorf("%s runs %q, not %q", s.Target, st.Release.Image, want)
	}
	if !st.Healthy {
		return fmt.Errorf("%s is %w after the switch (%d/%d ready)", s.Target, errNotHealthy, st.Ready, st.Desired)
	}
	return nil
}

// bake watches the target color for bake-time.
func (c confirmStep) bake(ctx context.Context, s *State) error {
	if c.r.opts.BakeTime <= 0 {
		// No bake to watch: the gates still get one look at the new
		// color under all traffic before the run commits.
		return c.r.checkGates(ctx, s, "after the switch", map[string]int{})
	}
	c.r.deps.Reporter.Info(fmt.Sprintf("baking %s for %s", s.Target, c.r.opts.BakeTime))
	return c.r.watch(ctx, s, c.r.opts.BakeTime, "bake")
}

// watch checks the target color until d has passed: every replica must
// stay ready, no container may restart, the production URL, when given,
// must keep answering 2xx (three failures in a row fail, so one dropped
// connection does not), and no metric gate may fail.
func (r *Run) watch(ctx context.Context, s *State, d time.Duration, what string) error {
	poll := r.opts.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	base := s.Colors[s.Target].Restarts
	deadline := time.Now().Add(d)
	failures := 0
	gateErrs := map[string]int{}
	for {
		st, err := r.deps.Platform.Describe(ctx, s.Target)
		if err != nil {
			return err
		}
		if !st.Healthy || st.Ready < st.Desired {
			return fmt.Errorf("%s: %s lost readiness (%d/%d ready)", what, s.Target, st.Ready, st.Desired)
		}
		if st.Restarts > base {
			return fmt.Errorf("%s: %s containers restarted %d times", what, s.Target, st.Restarts-base)
		}
		if u := r.opts.ProductionURL; u != "" {
			if err := r.deps.Checker.Once(ctx, u); err != nil {
				failures++
				if failures >= 3 {
					return fmt.Errorf("%s: %w", what, err)
				}
			} else {
				failures = 0
			}
		}
		if err := r.checkGates(ctx, s, what, gateErrs); err != nil {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		r.deps.Reporter.Progress(fmt.Sprintf("%s of %s: %d/%d ready, %s left", what, s.Target, st.Ready, st.Desired, left.Round(time.Second)))
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(min(poll, left)):
		}
	}
}

func (c confirmStep) Detail(s *State) string {
	st := s.Colors[s.Target]
	d := fmt.Sprintf("%s serves %s, %d/%d ready", s.Target, st.Release.Image, st.Ready, st.Desired)
	if c.r.opts.BakeTime > 0 {
		d += fmt.Sprintf(", healthy through a %s bake", c.r.opts.BakeTime)
	}
	return d
}

// scaleDownStep scales the old color to zero after scale-down-after. By
// default it is skipped: the old color stays warm so that a rollback is a
// single routing write.
type scaleDownStep struct{ r *Run }

func (scaleDownStep) String() string { return "scale down old color" }

func (sd scaleDownStep) Skip(s *State) (string, bool) {
	switch {
	case sd.r.opts.ScaleDownAfter <= 0:
		return "old color kept warm for instant rollback (scale-down-after not set)", true
	case s.UpToDate:
		return "nothing switched", true
	case s.Live == color.None || !s.Colors[s.Live].Exists:
		return "no old color", true
	case sd.r.opts.DryRun:
		return fmt.Sprintf("dry run: would scale %s to 0 after %s", s.Live, sd.r.opts.ScaleDownAfter), true
	}
	return "", false
}

// Run waits scale-down-after without holding the deploy lock, so that an
// emergency rollback in that time can take it and move traffic back. The
// run's history entry is written first, so that it comes before any such
// rollback. After the wait the lock is taken again and the old color is
// scaled down only if a fresh read shows it still takes no traffic.
func (sd scaleDownStep) Run(ctx context.Context, s *State) error {
	r := sd.r
	if s.lock != nil {
		r.record(ctx, s, nil)
		err := s.lock.Release(ctx)
		s.lock = nil
		if err != nil {
			return fmt.Errorf("releasing the deploy lock before waiting scale-down-after: %w", err)
		}
	}
	r.deps.Reporter.Info(fmt.Sprintf("keeping %s warm for %s before scaling it to 0; the deploy lock is free meanwhile, so a rollback can run", s.Live, r.opts.ScaleDownAfter))
	err := clock.Wait(ctx, r.deps.Clock, r.opts.ScaleDownAfter, heartbeat, func(left time.Duration) {
		r.deps.Reporter.Info(fmt.Sprintf("keeping %s warm: %s left before scaling it to 0", s.Live, left.Round(time.Second)))
	})
	if err != nil {
		return fmt.Errorf("%s left running: %w", s.Live, err)
	}
	if r.deps.Locker != nil {
		if err := r.takeLock(ctx, s); err != nil {
			return fmt.Errorf("taking the deploy lock again to scale %s down; it is left running: %w", s.Live, err)
		}
	}
	// Someone may have rolled back while we waited.
	w, err := r.deps.Router.Read(ctx)
	if err != nil {
		return err
	}
	if w[s.Live] > 0 {
		s.keptOld = fmt.Sprintf("%s serves again (%s), as a rollback may have put it back; left running", s.Live, w)
		r.deps.Reporter.Warning(s.keptOld)
		return nil
	}
	if err := r.mayWrite(ctx, s, "scaling "+s.Live.String()+" down"); err != nil {
		return err
	}
	return r.deps.Platform.Scale(ctx, s.Live, 0)
}

func (sd scaleDownStep) Detail(s *State) string {
	if s.keptOld != "" {
		return s.keptOld
	}
	return s.Live.String() + " scaled to 0"
}
