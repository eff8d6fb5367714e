// Package router declares where traffic is switched between colors: a
// Kubernetes Service selector, Gateway API weights, an ALB listener, a
// classic ELB's listener ports or Route53 weighted records. The deploy
// steps use only this interface; each router is its own sub-package.
package router

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

// ErrSplitUnsupported is returned by Set when a router can only send all
// traffic to one color and was asked for a split.
var ErrSplitUnsupported = errors.New("router can only send all traffic to one color")

// ErrConflict is returned by Set when the live routing changed between
// its read and its write. The caller re-reads and re-checks before trying
// again, so that a concurrent change is never blindly overwritten.
var ErrConflict = errors.New("routing changed concurrently")

// Weights is the share of traffic, in percent, that each color receives.
// An empty Weights means the route does not exist yet.
type Weights map[color.Color]int

// All returns weights that send every request to c.
func All(c color.Color) Weights { return Weights{c: 100, c.Other(): 0} }

// Share returns weights that send pct percent of requests to c and the
// rest to the other color.
func Share(c color.Color, pct int) Weights { return Weights{c: pct, c.Other(): 100 - pct} }

// Check accepts weights for blue and green only, each 0-100 percent,
// 100 in all: what every router can be asked to apply.
func (w Weights) Check() error {
	for c, v := range w {
		if c != color.Blue && c != color.Green {
			return fmt.Errorf("weight for unknown color %q", c)
		}
		if v < 0 || v > 100 {
			return fmt.Errorf("weight %d for %s is not a percentage", v, c)
		}
	}
	if sum := w[color.Blue] + w[color.Green]; sum != 100 {
		return fmt.Errorf("weights %s add up to %d%%, not 100%%", w, sum)
	}
	return nil
}

// Equal reports whether w and o send the same share to each color; a
// color missing from one counts as 0.
func (w Weights) Equal(o Weights) bool {
	return w[color.Blue] == o[color.Blue] && w[color.Green] == o[color.Green]
}

// Live returns the color that receives all traffic, or the one receiving
// most of it during a split. None means no traffic is routed anywhere.
func (w Weights) Live() color.Color {
	b, g := w[color.Blue], w[color.Green]
	switch {
	case b == 0 && g == 0:
		return color.None
	case b >= g:
		return color.Blue
	default:
		return color.Green
	}
}

// Split reports whether both colors receive traffic.
func (w Weights) Split() bool { return w[color.Blue] > 0 && w[color.Green] > 0 }

func (w Weights) String() string {
	if len(w) == 0 {
		return "no route"
	}
	return fmt.Sprintf("blue %d%% / green %d%%", w[color.Blue], w[color.Green])
}

// Router moves traffic between the colors of one application.
type Router interface {
	// Read returns the weights the live system applies now.
	Read(ctx context.Context) (Weights, error)
	// Set applies w in one write. It is idempotent: when the live system
	// already applies w it writes nothing.
	Set(ctx context.Context, w Weights) error
	// Verify checks that color c is registered behind the route and healthy
	// as the route itself sees it. It returns an error wrapping
	// errors.ErrUnsupported when the router cannot tell.
	Verify(ctx context.Context, c color.Color) error
}

// DryRunNoter is implemented by routers whose dry run is not checked by
// the target system, because its API has none (ELBv2): Set reads the
// route, validates and builds the write, and does not send it.
// DryRunNote says so, in words for the report, so that a dry run never
// claims a check that did not happen.
type DryRunNoter interface {
	DryRunNote() string
}

// Restorer is implemented by routers whose reads may be stale right after
// a write. Restore applies w without first checking whether the route
// already reads as w: it puts traffic back after a switch whose answer was
// lost, when a stale read could hide that the switch took effect.
type Restorer interface {
	Restore(ctx context.Context, w Weights) error
}

// Warner is implemented by routers that have something the user must
// know after a switch, such as DNS answers that outlive it.
type Warner interface {
	// Warning returns that message, or "" when there is none.
	Warning() string
}
