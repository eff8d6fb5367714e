package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// mayWrite confirms, right before a write to a route, a color or the
// history, that the run still holds the deploy lock: a run that lost it
// must not write again, whatever it was about to do. Runs without a lock
// (dry runs, platforms without one) write as before.
func (r *Run) mayWrite(ctx context.Context, s *State, what string) error {
	if s.lock == nil {
		return nil
	}
	if err := s.lock.Confirm(ctx); err != nil {
		return fmt.Errorf("not %s: %w", what, err)
	}
	return nil
}

// watchLock cancels the run, with the loss as the cause, as soon as the
// lock is known lost, so that a step waiting (a bake, a rollout) stops at
// once instead of at its next write.
func (r *Run) watchLock(ctx context.Context, s *State) {
	lk := s.lock
	go func() {
		select {
		case <-lk.Lost():
			r.cancel(lk.Err())
		case <-ctx.Done():
		}
	}()
}

// lockLost returns the loss of the run's lock, nil while held or when the
// run took none.
func (s *State) lockLost() error {
	if s.lock == nil {
		return nil
	}
	return s.lock.Err()
}

// colorsNow describes what each color holds now, from the final read, for
// the message of a run that cannot finish its job.
func colorsNow(colors []report.ColorState) string {
	if len(colors) == 0 {
		return "the colors could not be read"
	}
	var parts []string
	for _, c := range colors {
		image := c.Image
		if image == "" {
			image = "no image"
		}
		parts = append(parts, fmt.Sprintf("%s runs %s (%d%% of traffic, %s)", c.Color, image, c.Weight, c.State))
	}
	return strings.Join(parts, "; ")
}
