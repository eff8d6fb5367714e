package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// ErrNothingPrepared is returned by switch and abort when no release waits
// for approval.
var ErrNothingPrepared = errors.New("nothing is prepared")

// markPreparedStep records in the history that the target color holds a
// release ready behind the preview, with the fingerprint of what the
// color runs, so that a later switch can tell whether it is still so.
// Without the record no switch can follow: failing to write it fails the
// prepare.
type markPreparedStep struct{ r *Run }

func (markPreparedStep) String() string { return "record prepared release" }

func (m markPreparedStep) Skip(s *State) (string, bool) {
	if m.r.opts.DryRun {
		return "dry run: nothing prepared to record", true
	}
	if s.UpToDate {
		return fmt.Sprintf("%s already serves this image: nothing to prepare", s.Live), true
	}
	return "", false
}

func (m markPreparedStep) Run(ctx context.Context, s *State) error {
	if m.r.deps.History == nil {
		return errors.New("this platform keeps no history to record the prepared release in")
	}
	st, err := m.r.deps.Platform.Describe(ctx, s.Target)
	if err != nil {
		return err
	}
	s.Colors[s.Target] = st
	rel := s.Release
	e := history.Entry{
		Time: time.Now().UTC(), Command: command.Prepare, Color: s.Target.String(),
		Image: rel.Image, Digest: rel.Digest, GitSHA: rel.GitSHA, RunURL: rel.RunURL,
		Result: history.ResultPrepared, Revision: st.Spec,
	}
	if err := m.r.mayWrite(ctx, s, "recording the prepared release"); err != nil {
		return err
	}
	if err := m.r.deps.History.Append(ctx, e); err != nil {
		return fmt.Errorf("recording the prepared release: %w", err)
	}
	s.Prepared = &e
	return nil
}

func (m markPreparedStep) Detail(s *State) string {
	return fmt.Sprintf("%s prepared on %s, waiting for command switch", s.Release.Image, s.Target)
}

// howToFinish tells, for the report, how to go on from a prepare.
func (r *Run) howToFinish(s *State) []string {
	preview := "behind the preview route"
	if r.deps.Preview == nil {
		preview = "(this router has no preview route)"
	}
	return []string{
		fmt.Sprintf("%s is prepared on %s, ready and warm %s; production still goes to %s", s.Release.Image, s.Target, preview, s.Live),
		fmt.Sprintf("to switch production to it: run again with `command: switch` and `image: %s` (other inputs as this run)", s.Release.Image),
		"to drop it: run again with `command: abort` (other inputs as this run)",
	}
}

// findPreparedStep finds, for switch and abort, the prepared release in
// the history and checks against the live system that it is still what
// the idle color runs. It writes nothing: a refusal leaves everything as
// it was.
type findPreparedStep struct{ r *Run }

func (findPreparedStep) String() string { return "find prepared release" }

func (f findPreparedStep) Skip(s *State) (string, bool) {
	if s.Finishing && f.r.command == command.Switch {
		return fmt.Sprintf("traffic is split: the switch finishes it, all to %s", s.Target), true
	}
	return "", false
}

func (f findPreparedStep) Run(ctx context.Context, s *State) error {
	if f.r.deps.History == nil {
		return errors.New("this platform keeps no history, where a prepared release is recorded")
	}
	entries, err := f.r.deps.History.List(ctx)
	if err != nil {
		return err
	}
	p := history.Prepared(entries)
	if p == nil {
		return fmt.Errorf("%w for %q: run command prepare first; nothing was changed", ErrNothingPrepared, f.r.opts.App)
	}
	c, err := color.Parse(p.Color)
	if err != nil {
		return fmt.Errorf("the prepared release in the history names color %q: %w", p.Color, err)
	}
	what := fmt.Sprintf("%s prepared on %s at %s", p.Image, c, p.Time.Format(time.RFC3339))
	if p.RunURL != "" {
		what += " by " + p.RunURL
	}
	if s.Previous[c] > 0 {
		return fmt.Errorf("%s receives traffic now (%s), so it no longer waits behind the preview (%s); nothing was changed", c, s.Previous, what)
	}
	st := s.Colors[c]
	if !st.Exists || st.Spec != p.Revision {
		return fmt.Errorf("%s was changed since %s: it runs %s now; prepare again; nothing was changed", c, what, orNone(st.Release.Image))
	}
	if f.r.command == command.Switch {
		if err := f.checkSwitch(p, st, what); err != nil {
			return err
		}
	}
	s.Target, s.Prepared = c, p
	return nil
}

// checkSwitch refuses a switch to a release that is not the one asked for
// or not fully ready now.
func (f findPreparedStep) checkSwitch(p *history.Entry, st platform.ColorState, what string) error {
	want := f.r.opts.Release // the image input, as given
	if want.Image != "" && (want.Image != p.Image || (want.Digest != "" && p.Digest != "" && want.Digest != p.Digest)) {
		return fmt.Errorf("input image %q is not the prepared release (%s); nothing was changed", want.Image, what)
	}
	if !st.Healthy || st.Ready < st.Desired || st.Desired == 0 {
		return fmt.Errorf("%s is %w now (%d/%d ready; %s); nothing was changed", st.Color, errNotHealthy, st.Ready, st.Desired, what)
	}
	return nil
}

func (f findPreparedStep) Detail(s *State) string {
	if s.Prepared == nil {
		return ""
	}
	return fmt.Sprintf("%s on %s, unchanged since it was prepared", s.Prepared.Image, s.Target)
}

// previewBackStep points the preview route at the live color again, so
// that it stops showing a release that is dropped.
type previewBackStep struct{ r *Run }

func (previewBackStep) String() string { return "point preview at live" }

func (p previewBackStep) Skip(s *State) (string, bool) {
	switch {
	case p.r.deps.Preview == nil:
		return "this router has no preview route", true
	case s.Live == color.None:
		return "nothing is live to point the preview at", true
	}
	return "", false
}

func (p previewBackStep) Run(ctx context.Context, s *State) error {
	if p.r.opts.DryRun {
		s.note(fmt.Sprintf("point the preview route at %s", s.Live))
		if !canDryRun(p.r.deps.Preview) {
			return nil
		}
	}
	if err := p.r.mayWrite(ctx, s, "pointing the preview route back"); err != nil {
		return err
	}
	return p.r.deps.Preview.Set(ctx, router.All(s.Live))
}

func (p previewBackStep) Detail(s *State) string { return "preview -> " + s.Live.String() }

// dropPreparedStep scales the prepared color to zero. The production
// route is not written: the color never received its traffic.
type dropPreparedStep struct{ r *Run }

func (dropPreparedStep) String() string { return "scale prepared color to 0" }

// FixedSizer is implemented by platforms that cannot change a color's
// size (machines bluegreen does not manage); FixedSize says so.
type FixedSizer interface {
	FixedSize() string
}

func (d dropPreparedStep) Skip(s *State) (string, bool) {
	if f, ok := d.r.deps.Platform.(FixedSizer); ok {
		return fmt.Sprintf("%s: %s stays up, with no traffic", f.FixedSize(), s.Target), true
	}
	return "", false
}

func (d dropPreparedStep) Run(ctx context.Context, s *State) error {
	if d.r.opts.DryRun {
		s.note(fmt.Sprintf("scale %s to 0", s.Target))
		if !canDryRun(d.r.deps.Platform) {
			return nil
		}
	}
	if err := d.r.mayWrite(ctx, s, "scaling "+s.Target.String()+" down"); err != nil {
		return err
	}
	return d.r.deps.Platform.Scale(ctx, s.Target, 0)
}

func (d dropPreparedStep) Detail(s *State) string {
	return fmt.Sprintf("%s (%s) scaled to 0", s.Target, s.Prepared.Image)
}
