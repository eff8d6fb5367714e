package deploy

import (
	"context"
	"fmt"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
)

// chooseStep picks the color a rollback returns to: the one not live now.
// It refuses when that color never ran a release.
type chooseStep struct{ r *Run }

func (chooseStep) String() string { return "choose rollback color" }

func (ch chooseStep) Run(ctx context.Context, s *State) error {
	if s.Live == color.None {
		return fmt.Errorf("nothing is live for %q: there is nothing to roll back from", ch.r.opts.App)
	}
	prev := s.Colors[s.Target]
	if !prev.Exists || prev.Release.Image == "" {
		return fmt.Errorf("%s never ran a release of %q: there is nothing to roll back to", s.Target, ch.r.opts.App)
	}
	return ch.notPrepared(ctx, s)
}

// notPrepared refuses a rollback onto a color that holds a release waiting
// for approval: it is the next release, not the previous one, and a
// rollback must not put it live without the approval.
func (ch chooseStep) notPrepared(ctx context.Context, s *State) error {
	if ch.r.deps.History == nil {
		return nil
	}
	entries, err := ch.r.deps.History.List(ctx)
	if err != nil {
		return err
	}
	p := history.Prepared(entries)
	if p == nil || p.Color != s.Target.String() || p.Revision != s.Colors[s.Target].Spec {
		return nil
	}
	return fmt.Errorf("%s holds %s, prepared and waiting for approval, not the previous release; run command switch to put it live or abort to drop it", s.Target, p.Image)
}

func (ch chooseStep) Detail(s *State) string {
	return fmt.Sprintf("back to %s (%s)", s.Target, s.Colors[s.Target].Release.Image)
}

// scaleUpStep brings a scaled-down color back to the live color's size
// before traffic returns to it. A warm color skips this: the rollback is
// then a single routing write.
type scaleUpStep struct{ r *Run }

func (scaleUpStep) String() string { return "scale up" }

func (su scaleUpStep) Skip(s *State) (string, bool) {
	if st := s.Colors[s.Target]; st.Desired > 0 && st.Healthy {
		return fmt.Sprintf("%s is warm (%d/%d ready)", s.Target, st.Ready, st.Desired), true
	}
	return "", false
}

func (su scaleUpStep) Run(ctx context.Context, s *State) error {
	n := s.Colors[s.Live].Desired
	if n <= 0 {
		n = 1
	}
	if su.r.opts.DryRun {
		s.note(fmt.Sprintf("scale %s to %d", s.Target, n))
		if !canDryRun(su.r.deps.Platform) {
			return nil
		}
	}
	if err := su.r.mayWrite(ctx, s, "scaling "+s.Target.String()+" up"); err != nil {
		return err
	}
	return su.r.deps.Platform.Scale(ctx, s.Target, n)
}

func (su scaleUpStep) Detail(s *State) string {
	if _, ok := su.r.deps.Platform.(FixedSizer); ok {
		return fmt.Sprintf("%s's servers back under the load balancer's health checks", s.Target)
	}
	return fmt.Sprintf("%s scaled to %d", s.Target, max(s.Colors[s.Live].Desired, 1))
}

// rollbackWait is the wait step, skipped when the target is already warm.
type rollbackWait struct{ waitStep }

func (w rollbackWait) Skip(s *State) (string, bool) {
	if w.r.opts.DryRun {
		return "dry run: nothing to wait for", true
	}
	if st := s.Colors[s.Target]; st.Desired > 0 && st.Healthy {
		return fmt.Sprintf("%s is warm", s.Target), true
	}
	return "", false
}
