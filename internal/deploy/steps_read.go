package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// lockStep takes the application's deploy lock. It is released by Run on
// every path, not by a revert, so that a run that fails after committing
// releases it too. Once the lock is lost the run's context is cancelled
// with the loss as its cause, and every later write is refused.
type lockStep struct{ r *Run }

func (lockStep) String() string { return "lock" }

func (l lockStep) Skip(*State) (string, bool) {
	switch {
	case l.r.opts.DryRun:
		return "dry run: no lock taken", true
	case l.r.deps.Locker == nil:
		return "this platform has no deploy lock: do not run two deploys of this app at once", true
	}
	return "", false
}

func (l lockStep) Run(ctx context.Context, s *State) error {
	return l.r.takeLock(ctx, s)
}

// heartbeat is the longest a wait stays silent. CI services end jobs
// whose log is quiet for ten minutes, and a user watching a quiet step
// cannot tell waiting from hanging.
const heartbeat = 15 * time.Second

// takeLock takes the deploy lock, saying every heartbeat that it still
// waits while another run holds it, and watches it for a loss.
func (r *Run) takeLock(ctx context.Context, s *State) error {
	if r.opts.LockTimeout > 0 {
		stop := clock.Every(ctx, r.deps.Clock, heartbeat, func(waited time.Duration) {
			r.deps.Reporter.Info(fmt.Sprintf("waiting for the deploy lock of %s, held by another run: %s of lock-timeout %s",
				r.opts.App, waited.Round(time.Second), r.opts.LockTimeout))
		})
		defer stop()
	}
	lk, err := r.deps.Locker.Acquire(ctx, r.opts.Owner, r.opts.LockTimeout)
	if err != nil {
		return err
	}
	s.lock = lk
	r.watchLock(ctx, s)
	return nil
}

func (l lockStep) Detail(s *State) string {
	if s.lock == nil {
		return ""
	}
	return "held by " + l.r.opts.Owner
}

// readStep reads which color is live from the router, and what each color
// runs from the platform. Nothing remembered from an earlier run is trusted.
type readStep struct{ r *Run }

func (readStep) String() string { return "read live state" }

func (rs readStep) Run(ctx context.Context, s *State) error {
	w, err := rs.r.deps.Router.Read(ctx)
	if err != nil {
		return err
	}
	s.Previous = w
	s.moved(rs.String(), w)
	s.Live = w.Live()
	s.Colors = map[color.Color]platform.ColorState{}
	for _, c := range color.All {
		st, err := rs.r.deps.Platform.Describe(ctx, c)
		if err != nil {
			return err
		}
		s.Colors[c] = st
	}
	s.Target = s.Live.Other()
	if s.Previous.Split() {
		return rs.r.readSplit(ctx, s)
	}
	if rs.r.command == command.Split && s.Live == color.None {
		return fmt.Errorf("nothing is live for %q: a split shares traffic with a live release; deploy first", rs.r.opts.App)
	}
	live := s.Colors[s.Live]
	if rs.r.deploys() && s.Live != color.None &&
		live.Healthy && live.Release.Image == s.Release.Image {
		s.UpToDate = true
		s.Target = s.Live // nothing moves: the run confirms the live color
	}
	return nil
}

func (rs readStep) Detail(s *State) string {
	if s.Live == color.None {
		return "nothing is live yet: first deploy goes to " + s.Target.String()
	}
	live := s.Colors[s.Live]
	d := fmt.Sprintf("live: %s (%s, %d/%d ready)", s.Live, orNone(live.Release.Image), live.Ready, live.Desired)
	if s.UpToDate {
		d += "; already serves the requested image"
	}
	return d
}

func orNone(s string) string {
	if s == "" {
		return "no image recorded"
	}
	return s
}
