package config

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

// maxSticky is the longest stickiness an ALB accepts (7 days); the other
// routers are held to the same bound so that one input means one thing.
const maxSticky = 7 * 24 * time.Hour

// SplitPercent returns split-weight as the percent of traffic for the new
// release; 0 when not given. Validate has checked it.
func (c *Config) SplitPercent() int {
	p, _ := parsePercent(c.SplitWeight)
	return p
}

func parsePercent(s string) (int, error) {
	return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "%"))
}

// validateSplit checks command split, split-weight and sticky-duration.
func (c *Config) validateSplit() []error {
	var errs []error
	add := func(input, format string, args ...any) { errs = append(errs, Errorf(input, format, args...)) }
	row, known := c.routerFamily()
	switch {
	case c.Command == command.Split && strings.TrimSpace(c.SplitWeight) == "":
		add("split-weight", "is required by command split: the percent of traffic for the new release, from 1 to 99, e.g. 10")
	case c.SplitWeight != "":
		if p, err := parsePercent(c.SplitWeight); err != nil || p < 1 || p > 99 {
			add("split-weight", "%q is not a percentage from 1 to 99, e.g. 10 (100 is a deploy; 0 leaves the release out)", c.SplitWeight)
		} else if c.Command != command.Split {
			add("split-weight", "is only used by command split, but command is %q", c.Command)
		}
	}
	if c.Command == command.Split && known && !row.Split {
		add("router", "router %q sends all traffic to one color and cannot split it; command split needs router %q", c.Router, RoutersOf(c.Platform, canSplit))
	}
	if c.Command == command.Split && len(c.TrafficSteps) > 0 {
		add("traffic-steps", "is not used by command split, which sets split-weight in one write; traffic steps belong to the deploy that finishes the split")
	}
	if d := c.StickyDuration.D(); d != 0 {
		switch {
		case d < time.Second || d > maxSticky || d%time.Second != 0:
			add("sticky-duration", "%q is not whole seconds from 1s to 168h (7 days), e.g. 1h", d)
		case known && !row.Sticky:
			add("sticky-duration", "router %q cannot keep a client on one color; sticky sessions need router %q", c.Router, RoutersOf(c.Platform, canStick))
		}
	}
	return errs
}

// splitSkips are the inputs of deploy that command split does not read:
// it stops before the steps that use them, and sets one weight.
var splitSkips = []string{"traffic-steps", "traffic-step-pause", "scale-down-after", "migrate-after", "rollback-on-migrate-failure"}

// Command split reads what deploy reads up to the switch, so its column
// of the inputs table is derived from deploy's rather than repeated on
// every row.
func init() {
	for i, in := range inputs {
		if slices.Contains(in.Commands, command.Deploy) && !slices.Contains(in.Commands, command.Split) && !slices.Contains(splitSkips, in.Name) {
			inputs[i].Commands = append(slices.Clone(in.Commands), command.Split)
		}
	}
}
