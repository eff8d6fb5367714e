package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

// inputErrors returns the messages of err's bad inputs, by input.
func inputErrors(err error) map[string][]string {
	out := map[string][]string{}
	for _, e := range leaves(err) {
		var ce *config.Error
		if errors.As(e, &ce) {
			out[ce.Input] = append(out[ce.Input], ce.Msg)
		}
	}
	return out
}

// TestRouterRowsDriveValidation shows what a row of the router table is
// worth: with nothing but the row, a router is accepted on the platforms
// it names and refused, as a bad router input (exit 2), on every other;
// its required inputs are asked for; its inputs are refused with any other
// router; and split, traffic-steps and sticky-duration follow its Split
// and Sticky.
func TestRouterRowsDriveValidation(t *testing.T) {
	t.Parallel()
	for _, r := range config.Routers() {
		for _, p := range config.Platforms() {
			t.Run(r.Name+" on "+p.Name, func(t *testing.T) {
				t.Parallel()
				e := validBase.with("INPUT_PLATFORM", p.Name, "INPUT_ROUTER", r.Name, "INPUT_CLUSTER", "prod", "INPUT_DEPLOY-COMMAND", "./deploy.sh")
				got := inputErrors(loadAndValidate(t.Context(), e))
				paired := slices.Contains(r.Platforms, p.Name)
				if routerErr := len(got["router"]) > 0; routerErr == paired {
					t.Errorf("router %s on platform %s: errors %q, want a router error: %t", r.Name, p.Name, got, !paired)
				}
				for _, in := range r.Inputs {
					want := paired && in.Required != ""
					if asked := slices.ContainsFunc(got[in.Name], func(m string) bool { return strings.HasPrefix(m, "is required with router "+r.Name) }); asked != want {
						t.Errorf("input %s with router %s on %s: errors %q, want it required: %t", in.Name, r.Name, p.Name, got[in.Name], want)
					}
				}
			})
		}
	}
}

// TestRouterInputsBelongToTheirRouter gives each router's inputs with
// another router of the same platform: each is refused, naming the router
// that reads it.
func TestRouterInputsBelongToTheirRouter(t *testing.T) {
	t.Parallel()
	for _, r := range config.Routers() {
		p := r.Platforms[0]
		other := slices.DeleteFunc(config.RoutersOf(p), func(n string) bool { return n == r.Name })
		if len(other) == 0 {
			// Only router of its platform: its inputs go with a router
			// of another platform.
			other = []string{"service"}
			p = "kubernetes"
		}
		for _, in := range r.Inputs {
			e := validBase.with("INPUT_PLATFORM", p, "INPUT_ROUTER", other[0], "INPUT_"+strings.ToUpper(in.Name), "x")
			got := inputErrors(loadAndValidate(t.Context(), e))[in.Name]
			want := "is only used with router " + r.Name + `, but router is "` + other[0] + `"`
			if !slices.Contains(got, want) {
				t.Errorf("input %s with router %s: errors %q, want %q", in.Name, other[0], got, want)
			}
		}
	}
}

// TestRouterCapabilities checks that what a row says a router can do is
// what validation lets through: command split, traffic-steps and
// sticky-duration.
func TestRouterCapabilities(t *testing.T) {
	t.Parallel()
	for _, r := range config.Routers() {
		p := r.Platforms[0]
		base := validBase.with("INPUT_PLATFORM", p, "INPUT_ROUTER", r.Name)
		cases := []struct {
			name  string
			env   env
			input string
			can   bool
		}{
			{"split", base.with("INPUT_COMMAND", "split", "INPUT_SPLIT-WEIGHT", "10"), "router", r.Split},
			{"traffic-steps", base.with("INPUT_TRAFFIC-STEPS", "10,50"), "traffic-steps", r.Split},
			{"sticky-duration", base.with("INPUT_STICKY-DURATION", "1h"), "sticky-duration", r.Sticky},
		}
		for _, tc := range cases {
			got := inputErrors(loadAndValidate(t.Context(), tc.env))[tc.input]
			if refused := len(got) > 0; refused == tc.can {
				t.Errorf("%s with router %s: errors under %s %q, want it allowed: %t", tc.name, r.Name, tc.input, got, tc.can)
			}
		}
	}
}

// TestFamiliesAreDocumented keeps the tables and the inputs users read in
// step: the router input names every router, each router input says which
// router reads it, and each platform's default router pairs with it.
func TestFamiliesAreDocumented(t *testing.T) {
	t.Parallel()
	desc := map[string]string{}
	for _, in := range config.Inputs() {
		desc[in.Name] = in.Description
	}
	for _, r := range config.Routers() {
		if !strings.Contains(desc["router"], "`"+r.Name+"`") {
			t.Errorf("the description of input router does not name router `%s`", r.Name)
		}
		for _, in := range r.Inputs {
			d, ok := desc[in.Name]
			if !ok {
				t.Errorf("router %s reads input %s, which is not an input", r.Name, in.Name)
			}
			if !strings.Contains(d, "`"+r.Name+"`") {
				t.Errorf("the description of input %s does not name its router `%s`", in.Name, r.Name)
			}
		}
	}
	for _, p := range config.Platforms() {
		if !slices.Contains(config.RoutersOf(p.Name), p.Router) {
			t.Errorf("platform %s defaults to router %q, which does not pair with it", p.Name, p.Router)
		}
		if !strings.Contains(desc["platform"], "`"+p.Name+"`") {
			t.Errorf("the description of input platform does not name platform `%s`", p.Name)
		}
	}
}

// TestPlatformInputsBelongToTheirPlatform gives each platform's own
// inputs on every other platform: each is refused, naming its platform.
func TestPlatformInputsBelongToTheirPlatform(t *testing.T) {
	t.Parallel()
	for _, p := range config.Platforms() {
		for _, other := range config.Platforms() {
			if other.Name == p.Name {
				continue
			}
			for _, in := range p.Inputs {
				e := validBase.with("INPUT_PLATFORM", other.Name, "INPUT_"+strings.ToUpper(in), "x")
				got := inputErrors(loadAndValidate(t.Context(), e))[in]
				want := "is only used with platform " + p.Name + `, but platform is "` + other.Name + `"`
				if !slices.Contains(got, want) {
					t.Errorf("input %s on platform %s: errors %q, want %q", in, other.Name, got, want)
				}
			}
		}
	}
}
