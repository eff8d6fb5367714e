package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// Backoff of the attempts at putting traffic back, unless Options say
// otherwise: the first wait, doubled after each failure up to the last.
const (
	revertBackoff    = 250 * time.Millisecond
	revertMaxBackoff = 4 * time.Second
)

// revertTraffic puts the routing found at the start back, and returns nil
// only once a read of the route shows it. A failed attempt (an API error,
// a read-back that still shows the switch, a previous color not fully
// ready) is tried again, with a growing wait, until ctx ends. Traffic goes
// back only to a color that is fully ready right before the write, and
// only while the run still holds the deploy lock.
func (r *Run) revertTraffic(ctx context.Context, s *State) error {
	wait := r.opts.RevertBackoff
	if wait <= 0 {
		wait = revertBackoff
	}
	for attempt := 1; ; attempt++ {
		err := r.revertOnce(ctx, s)
		if err == nil {
			return nil
		}
		if errors.Is(err, lock.ErrLost) {
			return err
		}
		err = fmt.Errorf("putting traffic back to %s (attempt %d): %w", s.Previous, attempt, err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w; gave up: %w", err, context.Cause(ctx))
		case <-t.C:
		}
		r.deps.Reporter.Warning(err.Error() + "; trying again")
		wait = min(2*wait, max(revertMaxBackoff, wait))
	}
}

// revertOnce is one attempt: check the color going back, write, read back.
func (r *Run) revertOnce(ctx context.Context, s *State) error {
	back := s.Previous.Live()
	if err := r.checkServable(ctx, s, back); err != nil {
		return err
	}
	if err := r.mayWrite(ctx, s, "putting traffic back"); err != nil {
		return err
	}
	put := r.deps.Router.Set
	if rs, ok := r.deps.Router.(router.Restorer); ok {
		put = rs.Restore
	}
	if err := put(ctx, s.Previous); err != nil {
		return err
	}
	w, err := r.deps.Router.Read(ctx)
	if err != nil {
		return fmt.Errorf("reading the route back: %w", err)
	}
	if !w.Equal(s.Previous) {
		return fmt.Errorf("the route still reads %s", w)
	}
	return nil
}
