package deploy

import (
	"context"
	"fmt"
)

// Promoter copies the release's image by digest to where the platform
// pulls it from (package registry).
type Promoter interface {
	// Promote copies the image and returns the copy's reference by digest
	// (repo@sha256:...) and the digest.
	Promote(ctx context.Context) (image, digest string, err error)
}

// promoteStep copies the source image by digest before anything else, so
// that a later stage deploys exactly the bytes an earlier stage ran. The
// deploy that follows uses the copy's digest reference.
type promoteStep struct{ r *Run }

func (promoteStep) String() string { return "promote image" }

func (p promoteStep) Skip(*State) (string, bool) {
	if p.r.deps.Promoter == nil {
		return "no source-image given", true
	}
	if p.r.opts.DryRun {
		return "dry run: nothing copied", true
	}
	return "", false
}

func (p promoteStep) Run(ctx context.Context, s *State) error {
	image, digest, err := p.r.deps.Promoter.Promote(ctx)
	if err != nil {
		return err
	}
	s.Release.Image, s.Release.Digest = image, digest
	return nil
}

func (p promoteStep) Detail(s *State) string {
	return fmt.Sprintf("copied as %s", s.Release.Image)
}
