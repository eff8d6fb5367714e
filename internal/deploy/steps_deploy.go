package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// upToDate skips a step when the live color already runs the release.
func upToDate(s *State) (string, bool) {
	if s.UpToDate {
		return fmt.Sprintf("%s already serves this image", s.Live), true
	}
	return "", false
}

// deployStep starts the new release on the idle color, with as many
// replicas as the live color has now (so an autoscaled color is matched).
type deployStep struct{ r *Run }

func (deployStep) String() string { return "deploy idle color" }

func (d deployStep) Skip(s *State) (string, bool) { return startedAlready(s) }

func (d deployStep) Run(ctx context.Context, s *State) error {
	replicas := s.Colors[s.Live].Desired
	if d.r.opts.DryRun {
		s.note(fmt.Sprintf("deploy %s to %s (%s)", s.Release.Image, s.Target, replicasText(replicas, d.r.opts.FromManifest)))
		if !canDryRun(d.r.deps.Platform) {
			return nil
		}
	} else {
		s.Deployed = true
	}
	if err := d.r.mayWrite(ctx, s, "deploying "+s.Target.String()); err != nil {
		return err
	}
	return d.r.deps.Platform.Deploy(ctx, s.Target, s.Release, replicas)
}

func (d deployStep) Detail(s *State) string {
	return fmt.Sprintf("%s -> %s (%s)", s.Release.Image, s.Target, replicasText(s.Colors[s.Live].Desired, d.r.opts.FromManifest))
}

func replicasText(n int32, fromManifest bool) string {
	switch {
	case n <= 0 && fromManifest:
		return "replicas from the manifest"
	case n <= 0:
		// The platform keeps the color's own count, or copies the other
		// color's when it creates it.
		return "replicas as the color's current spec"
	}
	return fmt.Sprintf("%d replicas, as the live color", n)
}

// waitStep waits until every replica of the target color is ready.
type waitStep struct{ r *Run }

func (waitStep) String() string { return "wait until ready" }

func (w waitStep) Skip(s *State) (string, bool) {
	if w.r.opts.DryRun {
		return "dry run: nothing deployed to wait for", true
	}
	return startedAlready(s)
}

func (w waitStep) Run(ctx context.Context, s *State) error {
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.WaitTimeout)
	defer cancel()
	if err := w.r.deps.Platform.Wait(ctx, s.Target, w.r.deps.Reporter.Progress); err != nil {
		return err
	}
	st, err := w.r.deps.Platform.Describe(ctx, s.Target)
	if err != nil {
		return err
	}
	s.Colors[s.Target] = st
	return nil
}

func (w waitStep) Detail(s *State) string {
	st := s.Colors[s.Target]
	return fmt.Sprintf("%s: %d/%d ready", s.Target, st.Ready, st.Desired)
}

// previewStep points the preview route at the target color so that it can
// be tested before users see it.
type previewStep struct{ r *Run }

func (previewStep) String() string { return "point preview" }

func (p previewStep) Skip(s *State) (string, bool) {
	if p.r.deps.Preview == nil {
		return "this router has no preview route", true
	}
	return startedAlready(s)
}

func (p previewStep) Run(ctx context.Context, s *State) error {
	if p.r.opts.DryRun {
		s.note(fmt.Sprintf("point the preview route at %s", s.Target))
		if !canDryRun(p.r.deps.Preview) {
			return nil
		}
	}
	if err := p.r.mayWrite(ctx, s, "pointing the preview route"); err != nil {
		return err
	}
	return p.r.deps.Preview.Set(ctx, router.All(s.Target))
}

func (p previewStep) Detail(s *State) string { return "preview -> " + s.Target.String() }

// verifyStep checks the target color through the preview route.
type verifyStep struct{ r *Run }

func (verifyStep) String() string { return "verify" }

func (v verifyStep) Skip(s *State) (string, bool) {
	switch {
	case v.r.opts.VerifyURL == "":
		return "no verify-url given", true
	case v.r.opts.DryRun:
		return "dry run: nothing deployed to verify", true
	}
	return startedAlready(s)
}

func (v verifyStep) Run(ctx context.Context, s *State) error {
	var err error
	if len(v.r.opts.VerifyChecks) > 0 {
		err = v.r.deps.Checker.RunAll(ctx, v.r.opts.VerifyChecks, v.r.deps.Reporter.Progress)
	} else {
		err = v.r.deps.Checker.Until(ctx, v.r.opts.VerifyURL, v.r.opts.VerifyTimeout, v.r.deps.Reporter.Progress)
	}
	if err != nil {
		return fmt.Errorf("verifying %s through %s: %w", s.Target, v.r.opts.VerifyURL, err)
	}
	return nil
}

func (v verifyStep) Detail(*State) string {
	if len(v.r.opts.VerifyChecks) > 0 {
		return v.r.opts.VerifyChecks[0].String() + " passed"
	}
	return "GET " + v.r.opts.VerifyURL + " answered 2xx"
}

// errNotHealthy is returned when the last check before a switch finds the
// target color not fully ready.
var errNotHealthy = errors.New("not fully ready")
