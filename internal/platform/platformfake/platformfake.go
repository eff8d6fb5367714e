// Package platformfake is an in-memory platform.Platform: two colors whose
// replicas become ready the moment they are asked for, unless a test says
// otherwise. It lets the order of a run's steps, their reverts and the
// commit be tested without a cluster or the AWS doubles.
package platformfake

import (
	"context"
	"fmt"
	"sync"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

var _ platform.Platform = (*Platform)(nil)

// Platform runs two colors in memory. The zero value has neither deployed;
// use Run to start one.
type Platform struct {
	// Record, when set, is told of every write ("deploy green shop:v2",
	// "scale blue 0"), so a test can check their order against a router's.
	Record func(op string)

	mu     sync.Mutex
	colors map[color.Color]platform.ColorState
	fail   map[string]error
	stuck  map[color.Color]bool
}

// Run makes color c run image with n ready replicas.
func (p *Platform) Run(c color.Color, image string, n int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.set(c, platform.Release{Image: image}, n)
}

// FailOn makes the next calls of op ("deploy", "wait", "scale",
// "describe") on color c fail with err; nil clears it.
func (p *Platform) FailOn(op string, c color.Color, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail == nil {
		p.fail = map[string]error{}
	}
	p.fail[op+" "+c.String()] = err
}

// Stick keeps color c's new replicas from becoming ready, as a crash loop
// would.
func (p *Platform) Stick(c color.Color) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stuck == nil {
		p.stuck = map[color.Color]bool{}
	}
	p.stuck[c] = true
}

// State returns what color c runs now.
func (p *Platform) State(c color.Color) platform.ColorState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.colors[c]
}

func (p *Platform) set(c color.Color, r platform.Release, n int32) {
	if p.colors == nil {
		p.colors = map[color.Color]platform.ColorState{}
	}
	ready := n
	if p.stuck[c] {
		ready = 0
	}
	p.colors[c] = platform.ColorState{
		Color: c, Exists: true, Release: r, Desired: n, Updated: n, Ready: ready, Available: ready,
		Healthy: ready == n,
	}
}

func (p *Platform) check(op string, c color.Color) error {
	if err := p.fail[op+" "+c.String()]; err != nil {
		return fmt.Errorf("%s %s: %w", op, c, err)
	}
	return nil
}

func (p *Platform) record(format string, args ...any) {
	if p.Record != nil {
		p.Record(fmt.Sprintf(format, args...))
	}
}

// Describe returns what color c runs; a color never deployed does not
// exist.
func (p *Platform) Describe(_ context.Context, c color.Color) (platform.ColorState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.check("describe", c); err != nil {
		return platform.ColorState{}, err
	}
	st, ok := p.colors[c]
	if !ok {
		return platform.ColorState{Color: c}, nil
	}
	return st, nil
}

// Deploy makes color c run r with replicas (0: as many as it has, or 1).
func (p *Platform) Deploy(_ context.Context, c color.Color, r platform.Release, replicas int32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.check("deploy", c); err != nil {
		return err
	}
	if replicas == 0 {
		replicas = max(p.colors[c].Desired, 1)
	}
	p.set(c, r, replicas)
	p.record("deploy %s %s", c, r.Image)
	return nil
}

// Wait returns at once: ready now, or never.
func (p *Platform) Wait(_ context.Context, c color.Color, _ func(string)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.check("wait", c); err != nil {
		return err
	}
	if st := p.colors[c]; !st.Healthy {
		return fmt.Errorf("%s: %d/%d ready: %w", c, st.Ready, st.Desired, platform.ErrNotReady)
	}
	return nil
}

// Scale sets color c's replicas, keeping what it runs.
func (p *Platform) Scale(_ context.Context, c color.Color, replicas int32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.check("scale", c); err != nil {
		return err
	}
	st, ok := p.colors[c]
	if !ok {
		return fmt.Errorf("scaling %s: not deployed", c)
	}
	p.set(c, st.Release, replicas)
	p.record("scale %s %d", c, replicas)
	return nil
}
