package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
)

// waitingStep tells status about a release prepared and waiting for a
// switch: without it, the idle color looks like one kept warm for a
// rollback, and a user deciding what to do next cannot see that an
// unapproved release sits behind the preview. It only reads.
type waitingStep struct{ r *Run }

func (waitingStep) String() string { return "find prepared release" }

func (w waitingStep) Skip(*State) (string, bool) {
	if w.r.deps.History == nil {
		return "this platform keeps no history, where a prepared release is recorded", true
	}
	return "", false
}

func (w waitingStep) Run(ctx context.Context, s *State) error {
	entries, err := w.r.deps.History.List(ctx)
	if err != nil {
		// status reports what serves: a history it may not read (a role
		// granted only the reads of the route and colors) is no reason to
		// fail it.
		w.r.deps.Reporter.Warning(fmt.Sprintf("reading the history for a prepared release: %v", err))
		return nil
	}
	p := history.Prepared(entries)
	if p == nil {
		return nil
	}
	what := fmt.Sprintf("%s was prepared on %s at %s", p.Image, p.Color, p.Time.Format(time.RFC3339))
	if p.RunURL != "" {
		what += " by " + p.RunURL
	}
	c, err := color.Parse(p.Color)
	if err != nil {
		return fmt.Errorf("the prepared release in the history names color %q: %w", p.Color, err)
	}
	st := s.Colors[c]
	switch {
	case !st.Exists || st.Spec != p.Revision:
		s.note(what + "; the color was changed since, so a switch would refuse it: prepare again")
	case s.Previous[c] > 0:
		s.note(what + " and receives traffic now")
	default:
		s.Prepared = p
		s.note(what + " and waits for approval: `command: switch` puts it live, `command: abort` drops it")
	}
	return nil
}
