// Package routerfake is an in-memory router.Router: the weights it holds
// are what it reads back. It lets the order of a run's steps, their
// reverts and the commit be tested without a cluster or the AWS doubles.
package routerfake

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

var _ router.Router = (*Router)(nil)

// Router holds weights in memory.
type Router struct {
	// Record, when set, is told of every write that changes the weights
	// ("set blue 0% / green 100%").
	Record func(op string)

	mu      sync.Mutex
	weights router.Weights
	fail    map[string]error
	writes  int
}

// New returns a Router holding w.
func New(w router.Weights) *Router { return &Router{weights: maps.Clone(w)} }

// FailOn makes the calls of op ("read", "set", "verify") fail with err;
// nil clears it.
func (r *Router) FailOn(op string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail == nil {
		r.fail = map[string]error{}
	}
	r.fail[op] = err
}

// Weights returns the weights held now.
func (r *Router) Weights() router.Weights {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.weights)
}

// Writes counts the writes that changed the weights.
func (r *Router) Writes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

// Read returns the weights held.
func (r *Router) Read(context.Context) (router.Weights, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail["read"]; err != nil {
		return nil, fmt.Errorf("reading route: %w", err)
	}
	return maps.Clone(r.weights), nil
}

// Set holds w; it writes nothing when w is held already.
func (r *Router) Set(_ context.Context, w router.Weights) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail["set"]; err != nil {
		return fmt.Errorf("setting route: %w", err)
	}
	if err := w.Check(); err != nil {
		return fmt.Errorf("setting route: %w", err)
	}
	if r.weights.Equal(w) {
		return nil
	}
	r.weights = maps.Clone(w)
	r.writes++
	if r.Record != nil {
		r.Record("set " + w.String())
	}
	return nil
}

// Verify fails only when told to.
func (r *Router) Verify(_ context.Context, c color.Color) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail["verify"]; err != nil {
		return fmt.Errorf("verifying %s: %w", c, err)
	}
	return nil
}
