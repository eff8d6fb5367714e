package haproxy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

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
}

var _ router.Router = (*Router)(nil)

// New returns the router of cfg.Backend.
func New(cfg Config) (*Router, error) {
	if cfg.API == nil || cfg.Backend == "" {
		return nil, errors.New("haproxy router: API and Backend are required")
	}
	return &Router{api: cfg.API, backend: cfg.Backend}, nil
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

// Read returns each color's share of the backend's total weight.
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
		if s.Color != color.None {
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

// Set gives each server the weight that makes w: raises first, then
// lowers, so that some server carries weight at every moment. Servers
// already at their weight are not written.
func (r *Router) Set(ctx context.Context, w router.Weights) error {
	list, err := r.servers(ctx, r.backend)
	if err != nil {
		return err
	}
	want := targetWeights(list, w)
	var raise, lower []string
	for _, s := range list {
		t, ok := want[s.Name]
		switch {
		case !ok || t == s.Weight:
		case t > s.Weight:
			raise = append(raise, s.Name)
		default:
			lower = append(lower, s.Name)
		}
	}
	for _, name := range append(raise, lower...) {
		if err := r.setWeight(ctx, name, want[name]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Router) setWeight(ctx context.Context, server string, weight int) error {
	cmd := "set weight " + r.backend + "/" + server + " " + strconv.Itoa(weight)
	out, err := r.api.Do(ctx, cmd)
	if err != nil {
		return fmt.Errorf("setting the weight of %s/%s to %d: %w", r.backend, server, weight, err)
	}
	if out = strings.TrimSpace(out); out != "" {
		return fmt.Errorf("setting the weight of %s/%s to %d: HAProxy answered %q", r.backend, server, weight, out)
	}
	return nil
}

// targetWeights returns the weight of each colored server that makes w.
// All traffic to a color gives its servers their full weight (the one the
// configuration gives, or the backend's highest when that is 0). A split
// gives each color's servers equal weights whose sum is the color's share.
func targetWeights(list []Server, w router.Weights) map[string]int {
	count := map[color.Color]int{}
	full := 0
	for _, s := range list {
		count[s.Color]++
		full = max(full, s.InitialWeight)
	}
	if full == 0 {
		full = 1
	}
	// scale is the weight of one percent, as high as keeps every server
	// within HAProxy's maximum, for the finest split.
	scale := math.Inf(1)
	for _, c := range color.All {
		if p := w[c]; p > 0 && p < 100 && count[c] > 0 {
			scale = math.Min(scale, float64(maxWeight*count[c])/float64(p))
		}
	}
	out := map[string]int{}
	for _, s := range list {
		if s.Color == color.None {
			continue
		}
		switch p := w[s.Color]; {
		case p <= 0:
			out[s.Name] = 0
		case p >= 100:
			out[s.Name] = s.InitialWeight
			if out[s.Name] == 0 {
				out[s.Name] = full
			}
		default:
			out[s.Name] = max(1, int(math.Round(float64(p)*scale/float64(count[s.Color]))))
		}
	}
	return out
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
func (r *Router) Recheck(ctx context.Context, c color.Color) error {
	list, err := r.Servers(ctx, c)
	if err != nil {
		return err
	}
	for _, s := range list {
		if !s.Checked {
			continue // forced down, it would stay down: nothing checks it
		}
		cmd := "set server " + r.backend + "/" + s.Name + " health down"
		out, err := r.api.Do(ctx, cmd)
		if err != nil {
			return fmt.Errorf("setting %s/%s down until its next checks: %w", r.backend, s.Name, err)
		}
		if out = strings.TrimSpace(out); out != "" {
			return fmt.Errorf("setting %s/%s down until its next checks: HAProxy answered %q", r.backend, s.Name, out)
		}
	}
	return nil
}
