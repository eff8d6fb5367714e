package config

import (
	"reflect"
	"slices"
	"strings"
)

// The platforms and routers a user can choose are stated once, as the two
// tables below, and validation is derived from them: which routers pair
// with a platform, which can split traffic or keep a client on one color,
// which inputs a router requires, and which inputs only one router or
// platform reads.
//
// The tables hold facts only. The constructors live in internal/setup,
// keyed by the same names, because building a router needs the clients of
// Kubernetes, AWS or HAProxy and config must stay importable by setup (and
// cheap to import everywhere else). A test in setup fails when a row has no
// constructor or a constructor no row, so adding a router is its package,
// a row here and its constructor there.

// PlatformFamily is a place the two colors run.
type PlatformFamily struct {
	Name string
	// Router is the router of a run that names none.
	Router string
	// Inputs are inputs of this platform alone that a run on another
	// platform refuses, since it would ignore them. An input with a
	// default, or one derived from app, cannot be told from one not
	// given, and is not listed.
	Inputs []string
}

// RouterFamily is a way traffic moves between the colors.
type RouterFamily struct {
	Name string
	// Platforms are the platforms the router pairs with.
	Platforms []string
	// Split: the router can send part of the traffic to each color
	// (traffic-steps, command split).
	Split bool
	// Sticky: the router can keep a client on the color it first reached
	// while traffic is split (sticky-duration).
	Sticky bool
	// Inputs are the inputs only this router reads: given with another
	// router, they are a mistake the user hears about.
	Inputs []RouterInput
}

// RouterInput is an input of one router.
type RouterInput struct {
	Name string
	// Required, when set, makes the input required with its router and
	// tells what to give; it follows "is required with router <name>".
	// {app} stands for the app input.
	Required string
}

var platformFamilies = []PlatformFamily{
	{Name: "kubernetes", Router: "service", Inputs: []string{"eks-cluster"}},
	{Name: "ecs", Router: "alb", Inputs: []string{"cluster", "task-definition"}},
	{Name: "hosts", Router: "haproxy", Inputs: []string{"deploy-command"}},
}

var routerFamilies = []RouterFamily{
	{Name: "service", Platforms: []string{"kubernetes"}},
	{
		Name: "gateway", Platforms: []string{"kubernetes"}, Split: true, Sticky: true,
		Inputs: []RouterInput{{Name: "route", Required: ": the name of the HTTPRoute whose backends are {app}-blue and {app}-green"}},
	},
	{
		Name: "ingress", Platforms: []string{"kubernetes"},
		Inputs: []RouterInput{{Name: "ingress", Required: ": the name of the Ingress whose backends name {app}-blue or {app}-green"}},
	},
	{
		Name: "alb", Platforms: []string{"ecs"}, Split: true, Sticky: true,
		Inputs: []RouterInput{
			{Name: "listener-arn", Required: ": the ARN of the production listener"},
			{Name: "rule-arn"},
			{Name: "test-listener-arn"},
		},
	},
	{
		Name: "elb", Platforms: []string{"kubernetes", "ecs"},
		Inputs: []RouterInput{
			{Name: "load-balancer-name", Required: ": the name of the classic load balancer whose tags blue and green hold the colors' ports"},
			{Name: "listener-ports"},
		},
	},
	{
		Name: "route53", Platforms: []string{"kubernetes", "ecs"}, Split: true,
		Inputs: []RouterInput{
			{Name: "hosted-zone-id", Required: ", e.g. Z0123456789ABCDEFGHIJ"},
			{Name: "record-name", Required: ": the name of the weighted records blue and green, e.g. shop.example.com"},
		},
	},
	{
		Name: "haproxy", Platforms: []string{"hosts"}, Split: true, Sticky: true,
		Inputs: []RouterInput{
			{Name: "haproxy-runtime-api", Required: ": the stats socket at admin level, host:port or unix:/path"},
			{Name: "haproxy-backend"},
			{Name: "haproxy-preview-backend"},
			{Name: "haproxy-history-map"},
		},
	},
}

// Platforms returns the platforms, in the order help and errors list them.
func Platforms() []PlatformFamily { return slices.Clone(platformFamilies) }

// Routers returns the routers, in the order help and errors list them.
func Routers() []RouterFamily { return slices.Clone(routerFamilies) }

// PlatformNames returns the names of the platforms.
func PlatformNames() []string {
	var out []string
	for _, p := range platformFamilies {
		out = append(out, p.Name)
	}
	return out
}

// RoutersOf returns the names of the routers that pair with platform and
// have every property asked, such as canSplit.
func RoutersOf(platform string, has ...func(RouterFamily) bool) []string {
	var out []string
rows:
	for _, r := range routerFamilies {
		if !slices.Contains(r.Platforms, platform) {
			continue
		}
		for _, h := range has {
			if !h(r) {
				continue rows
			}
		}
		out = append(out, r.Name)
	}
	return out
}

// canSplit and canStick select routers in RoutersOf.
func canSplit(r RouterFamily) bool { return r.Split }
func canStick(r RouterFamily) bool { return r.Sticky }

// routerNamed returns the row of router name, whatever the platform.
func routerNamed(name string) (RouterFamily, bool) {
	i := slices.IndexFunc(routerFamilies, func(r RouterFamily) bool { return r.Name == name })
	if i < 0 {
		return RouterFamily{}, false
	}
	return routerFamilies[i], true
}

// defaultRouter is the router of platform when none is named.
func defaultRouter(platform string) string {
	i := slices.IndexFunc(platformFamilies, func(p PlatformFamily) bool { return p.Name == platform })
	if i < 0 {
		return ""
	}
	return platformFamilies[i].Router
}

// routerFamily returns the row of the run's router when it pairs with the
// run's platform; ok is false otherwise (Validate reports that once,
// under router).
func (c *Config) routerFamily() (RouterFamily, bool) {
	r, ok := routerNamed(c.Router)
	return r, ok && slices.Contains(r.Platforms, c.Platform)
}

// validateFamilies checks the router against the platform, and the inputs
// that belong to routers and platforms: the run's router's required ones
// are given, and no other router's or platform's are.
func (c *Config) validateFamilies() []error {
	var errs []error
	add := func(input, format string, args ...any) { errs = append(errs, Errorf(input, format, args...)) }
	for _, p := range platformFamilies {
		for _, in := range p.Inputs {
			if p.Name != c.Platform && c.given(in) {
				add(in, "is only used with platform %s, but platform is %q", p.Name, c.Platform)
			}
		}
	}
	_, paired := c.routerFamily()
	if !paired && slices.Contains(PlatformNames(), c.Platform) {
		// An unknown platform is reported alone, under platform.
		add("router", "unknown router %q for platform %s, valid routers are %q", c.Router, c.Platform, RoutersOf(c.Platform))
	}
	for _, r := range routerFamilies {
		for _, in := range r.Inputs {
			given := c.given(in.Name)
			switch {
			case r.Name == c.Router && paired && !given && in.Required != "":
				add(in.Name, "is required with router %s%s", r.Name, strings.ReplaceAll(in.Required, "{app}", c.App))
			case r.Name != c.Router && given:
				add(in.Name, "is only used with router %s, but router is %q", r.Name, c.Router)
			}
		}
	}
	return errs
}

// given reports whether input holds a value, found through the env tags
// of Config's fields, so that a row names its inputs as users write them.
// It panics on a name no field carries: a row that names an input that
// does not exist is a mistake the tests catch.
func (c *Config) given(input string) bool {
	v, ok := field(reflect.ValueOf(c).Elem(), Input{Name: input}.Env())
	if !ok {
		panic("config: no field for input " + input)
	}
	return !v.IsZero()
}

// field finds the field whose env tag is key (without the BLUEGREEN_
// prefix of Env), in v or the structs it holds.
func field(v reflect.Value, env string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		switch {
		case tag == "" && f.Type.Kind() == reflect.Struct:
			if fv, ok := field(v.Field(i), env); ok {
				return fv, true
			}
		case tag != "" && "BLUEGREEN_"+tag == env:
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
