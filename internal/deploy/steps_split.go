package deploy

import (
	"context"
	"fmt"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// ResultSplit is the history result of a split that left both colors live.
const ResultSplit = string(report.Split)

// readSplit decides, when the route splits traffic, which color the run
// moves traffic from (s.Live) and to (s.Target). Both colors serve, so
// there is no idle color to deploy to: a deploy or split may only go on
// with the release one of them already runs, which then gets the traffic
// (a deploy of the newer release finishes the split, of the older one
// takes it back); rollback returns all traffic to the release that was
// live before the split.
func (r *Run) readSplit(ctx context.Context, s *State) error {
	old, newer, why := r.splitColors(ctx, s)
	r.deps.Reporter.Info(fmt.Sprintf("traffic is split (%s): %s holds the newer release (%s), %s the one that was live before", s.Previous, newer, why, old))
	s.Live, s.Target = old, newer
	switch r.command {
	case command.Rollback:
		s.Live, s.Target = newer, old
	case command.Switch:
		// A switch puts all traffic on the newer release: it finishes
		// the split, as it finishes a prepared release.
		if img := s.Release.Image; img != "" && img != s.Colors[newer].Release.Image {
			return fmt.Errorf("input image %q is not the release the split sends traffic to (%s on %s); nothing was changed",
				img, orNone(s.Colors[newer].Release.Image), newer)
		}
		s.Finishing = true
	case command.Deploy, command.Split:
		img := s.Release.Image
		switch {
		case s.Colors[newer].Release.Image == img:
			s.Finishing = true
		case r.command == command.Deploy && s.Colors[old].Release.Image == img:
			s.Live, s.Target, s.Finishing = newer, old, true
		default:
			return fmt.Errorf("traffic is split (%s) and both colors serve, so no idle color is left for %s: "+
				"finish the split first (deploy %s, which %s runs) or take it back with command rollback; nothing was changed",
				s.Previous, img, orNone(s.Colors[newer].Release.Image), newer)
		}
	}
	return nil
}

// splitColors tells which color of a split route holds the newer release
// and why it says so: the history's last split, else the color deployed
// later, else the color with less traffic (a split made by hand).
func (r *Run) splitColors(ctx context.Context, s *State) (old, newer color.Color, why string) {
	if c, ok := r.lastSplit(ctx, s.Previous); ok {
		return c.Other(), c, "the history records its split"
	}
	b, g := s.Colors[color.Blue].Release.DeployedAt, s.Colors[color.Green].Release.DeployedAt
	switch {
	case !b.IsZero() && !g.IsZero() && b.After(g):
		return color.Green, color.Blue, "deployed later"
	case !b.IsZero() && !g.IsZero() && g.After(b):
		return color.Blue, color.Green, "deployed later"
	}
	live := s.Previous.Live()
	return live, live.Other(), "it takes less traffic"
}

// lastSplit returns the color the newest split of the history sent
// traffic to, when that split is what the route still shows: no run that
// moved traffic came after it. Runs that failed or were rolled back left
// the route as they found it and are passed over.
func (r *Run) lastSplit(ctx context.Context, w router.Weights) (color.Color, bool) {
	if r.deps.History == nil {
		return color.None, false
	}
	entries, err := r.deps.History.List(ctx)
	if err != nil {
		r.deps.Reporter.Warning(fmt.Sprintf("reading the history to tell the colors of the split apart: %v", err))
		return color.None, false
	}
	for _, e := range entries {
		if e.Result == string(report.Failed) || e.Result == string(report.RolledBack) {
			continue
		}
		c, err := color.Parse(e.Color)
		if e.Result != ResultSplit || err != nil || w[c] == 0 {
			return color.None, false
		}
		return c, true
	}
	return color.None, false
}

// startedAlready skips the steps that start and check a release when the
// target color already runs it: the live color (nothing to do) or one side
// of a split that the run finishes.
func startedAlready(s *State) (string, bool) {
	if s.Finishing {
		return fmt.Sprintf("%s already runs this release and serves %d%% of traffic", s.Target, s.Previous[s.Target]), true
	}
	return upToDate(s)
}

// splitNotes tell, for the report, what a split left and how to go on.
func (r *Run) splitNotes(s *State) []string {
	return []string{
		fmt.Sprintf("%s serves %d%% of traffic with %s; %s keeps %d%% with %s",
			s.Target, s.Want[s.Target], s.Release.Image, s.Live, s.Want[s.Live], orNone(s.Colors[s.Live].Release.Image)),
		fmt.Sprintf("to finish: run command switch, or deploy with image %s (all traffic to %s)", s.Release.Image, s.Target),
		fmt.Sprintf("to take it back: run command rollback (all traffic to %s)", s.Live),
	}
}

// historyResult is the result a successful run records.
func (r *Run) historyResult(s *State) string {
	if r.command == command.Split && !s.UpToDate {
		return ResultSplit
	}
	return string(report.Success)
}
