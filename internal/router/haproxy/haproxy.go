package haproxy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// Type names this router in the router input.
const Type = "haproxy"

// Errors of Check, so that set-up can name the input at fault.
var (
	// ErrNotAdmin: the Runtime API answers below admin level, where
	// weights cannot be set.
	ErrNotAdmin = errors.New("the HAProxy Runtime API is not at admin level")
	// ErrNoBackend: HAProxy has no backend of that name.
	ErrNoBackend = errors.New("no such backend")
	// ErrServers: the backend's servers do not make two colors.
	ErrServers = errors.New("the backend's servers do not make two colors")
)

// maxWeight is the highest weight HAProxy accepts.
const maxWeight = 256

// Config is what a Router needs.
type Config struct {
	API API
	// Backend holds the servers of both colors.
	Backend string
}

// Router switches traffic by the weights of one backend's servers.
type Router struct {
	api     API
	backend string
	sticky  time.Duration
	// split is set when the last Set left both colors serving: only then
	// does stickiness matter.
	split bool
}

var (
	_ router.Router = (*Router)(nil)
	_ router.Warner = (*Router)(nil)
)

// Option tunes a Router.
type Option func(*Router)

// WithSticky records that sticky sessions of d were asked. HAProxy's
// cookie persistence keeps them; its lifetime is haproxy.cfg's, so the
// router only warns after a switch that d is not what decides it.
func WithSticky(d time.Duration) Option { return func(r *Router) { r.sticky = d } }

// New returns the router of cfg.Backend.
func New(cfg Config, opts ...Option) (*Router, error) {
	if cfg.API == nil || cfg.Backend == "" {
		return nil, errors.New("haproxy router: API and Backend are required")
	}
	r := &Router{api: cfg.API, backend: cfg.Backend}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Backend names the backend the router drives.
func (r *Router) Backend() string { return r.backend }

// Check proves, before any write, that the router can work: the API
// answers at admin level, the backend exists, every server's name starts
// with a color and each color has a server.
func (r *Router) Check(ctx context.Context) error {
	lvl, err := level(ctx, r.api)
	if err != nil {
		return err
	}
	if lvl != "admin" {
		return fmt.Errorf("%w: %s answers at level %q; give its stats socket \"level admin\"", ErrNotAdmin, r.api, lvl)
	}
	list, err := r.servers(ctx, r.backend)
	if err != nil {
		return err
	}
	var problems []string
	count := map[color.Color]int{}
	for _, s := range list {
		if s.Color == color.None {
			problems = append(problems, fmt.Sprintf("server %q fits no color: its name must start with blue or green", s.Name))
		}
		count[s.Color]++
	}
	for _, c := range color.All {
		if count[c] == 0 {
			problems = append(problems, fmt.Sprintf("no server of %s (a server whose name starts with %q)", c, c))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: backend %q: %s", ErrServers, r.backend, strings.Join(problems, "; "))
	}
	return nil
}

// Servers returns the servers of color c, as HAProxy sees them now.
func (r *Router) Servers(ctx context.Context, c color.Color) ([]Server, error) {
	list, err := r.servers(ctx, r.backend)
	if err != nil {
		return nil, err
	}
	var out []Server
	for _, s := range list {
		if s.Color == c {
			out = append(out, s)
		}
	}
	return out, nil
}

// Read returns each color's share of the weight of the backend's servers
// in service: a server in maintenance takes no traffic, whatever its
// weight.
func (r *Router) Read(ctx context.Context) (router.Weights, error) {
	list, err := r.servers(ctx, r.backend)
	if err != nil {
		return nil, err
	}
	return weightsOf(list), nil
}

func weightsOf(list []Server) router.Weights {
	sum := map[color.Color]int{}
	total := 0
	for _, s := range list {
		if s.Color != color.None && !s.Maint {
			sum[s.Color] += s.Weight
			total += s.Weight
		}
	}
	if total == 0 {
		return router.Weights{color.Blue: 0, color.Green: 0}
	}
	blue := int(math.Round(100 * float64(sum[color.Blue]) / float64(total)))
	return router.Weights{color.Blue: blue, color.Green: 100 - blue}
}

// Verify checks that every server of c is up in HAProxy's own checks.
func (r *Router) Verify(ctx context.Context, c color.Color) error {
	list, err := r.Servers(ctx, c)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("backend %q has no server of %s", r.backend, c)
	}
	var down []string
	for _, s := range list {
		if !s.Up {
			down = append(down, s.Name+" "+s.State)
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("in backend %q, %d of %d servers of %s are not up: %s", r.backend, len(down), len(list), c, strings.Join(down, ", "))
	}
	return nil
}

// Recheck forces HAProxy to judge the servers of c afresh: each server
// whose health checks are enabled is set down, and only checks made from
// now on can bring it up again. A deploy calls it once the new release is
// on the machines, so that an UP from before the deploy (HAProxy notices
// a restarted server only after its next failed checks) is never taken
// for the new release being healthy. Servers without checks are left as
// they are.
//
// A server in maintenance (a color at 0% on a backend with cookie
// persistence) is put back in service first: HAProxy does not check a
// server in maintenance, and takes one out of it as up at once, before
// any check. Both commands go on one line, so that HAProxy runs them back
// to back and the server is up between them for as short a time as the
// Runtime API allows.
func (r *Router) Recheck(ctx context.Context, c color.Color) error {
	list, err := r.Servers(ctx, c)
	if err != nil {
		return err
	}
	for _, s := range list {
		var cmds []string
		if s.Maint {
			cmds = append(cmds, "set server "+r.backend+"/"+s.Name+" state ready")
		}
		if s.Checked {
			cmds = append(cmds, "set server "+r.backend+"/"+s.Name+" health down")
		}
		if len(cmds) == 0 {
			continue // forced down, it would stay down: nothing checks it
		}
		if err := r.do(ctx, strings.Join(cmds, "; "), "putting %s/%s under fresh health checks", s.Name); err != nil {
			return err
		}
	}
	return nil
}
