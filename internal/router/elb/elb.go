package elb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	clk "github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// Type names this router in the router input.
const Type = "elb"

// elbAPI is the part of the classic ELB client the router uses.
// SetLoadBalancerPoliciesOfListener puts a listener's policies (its SSL
// negotiation policy, stickiness) back after it is recreated: a new
// listener starts without them.
type elbAPI interface {
	DescribeLoadBalancers(context.Context, *elasticloadbalancing.DescribeLoadBalancersInput, ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.DescribeLoadBalancersOutput, error)
	DescribeTags(context.Context, *elasticloadbalancing.DescribeTagsInput, ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.DescribeTagsOutput, error)
	DescribeInstanceHealth(context.Context, *elasticloadbalancing.DescribeInstanceHealthInput, ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.DescribeInstanceHealthOutput, error)
	ConfigureHealthCheck(context.Context, *elasticloadbalancing.ConfigureHealthCheckInput, ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.ConfigureHealthCheckOutput, error)
	CreateLoadBalancerListeners(context.Context, *elasticloadbalancing.CreateLoadBalancerListenersInput, ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.CreateLoadBalancerListenersOutput, error)
	DeleteLoadBalancerListeners(context.Context, *elasticloadbalancing.DeleteLoadBalancerListenersInput, ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.DeleteLoadBalancerListenersOutput, error)
	SetLoadBalancerPoliciesOfListener(context.Context, *elasticloadbalancing.SetLoadBalancerPoliciesOfListenerInput, ...func(*elasticloadbalancing.Options)) (*elasticloadbalancing.SetLoadBalancerPoliciesOfListenerOutput, error)
}

var (
	_ elbAPI        = (*elasticloadbalancing.Client)(nil)
	_ router.Router = (*Router)(nil)
)

// Config holds what the router needs.
type Config struct {
	API elbAPI
	// LoadBalancerName names the classic load balancer.
	LoadBalancerName string
	// ListenerPorts are the load balancer ports whose listeners carry the
	// application. Each must have a listener. Empty means every listener
	// that forwards to a color's instance port: a load balancer with only
	// port 80 needs no configuration, and a listener to another port (an
	// admin port, a sidecar) is left alone.
	ListenerPorts []int32
}

// Router implements router.Router with the listeners of one classic
// load balancer.
type Router struct {
	cfg     Config
	poll    time.Duration
	timeout time.Duration
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
}

// Option tunes a Router.
type Option func(*Router)

// WithPoll sets how often instance health is read while waiting (default
// awsapi.DefaultPoll, with jitter).
func WithPoll(d time.Duration) Option { return func(r *Router) { r.poll = d } }

// WithTimeout bounds the wait for every instance to be InService under
// the new health check (default 5m).
func WithTimeout(d time.Duration) Option { return func(r *Router) { r.timeout = d } }

// WithClock replaces the clock that times the waits.
func WithClock(now func() time.Time) Option { return func(r *Router) { r.now = now } }

// WithSleep replaces how the router waits between polls. sleep returns
// early with an error when ctx ends.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(r *Router) { r.sleep = sleep }
}

// New returns the router for cfg.
func New(cfg Config, opts ...Option) (*Router, error) {
	r := &Router{cfg: cfg, poll: awsapi.DefaultPoll, timeout: 5 * time.Minute, now: time.Now, sleep: clk.Sleep}
	for _, o := range opts {
		o(r)
	}
	switch {
	case cfg.API == nil:
		return nil, errors.New("elb router: no ELB client")
	case cfg.LoadBalancerName == "":
		return nil, errors.New("elb router: no load balancer name")
	case r.poll <= 0 || r.timeout <= 0:
		return nil, fmt.Errorf("elb router: poll interval %s and timeout %s must be positive", r.poll, r.timeout)
	}
	for i, p := range r.cfg.ListenerPorts {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("elb router: listener port %d is not a port (1-65535)", p)
		}
		if slices.Contains(r.cfg.ListenerPorts[:i], p) {
			return nil, fmt.Errorf("elb router: listener port %d given twice", p)
		}
	}
	return r, nil
}

// TagError reports a color tag of the load balancer that is missing or
// does not hold a usable instance port: a mistake in the load balancer's
// setup, which no retry fixes.
type TagError struct {
	LoadBalancer string
	// Tag is "blue" or "green".
	Tag string
	// Problem says what is wrong with it.
	Problem string
}

func (e *TagError) Error() string {
	return fmt.Sprintf("load balancer %q: tag %q %s", e.LoadBalancer, e.Tag, e.Problem)
}

// ListenerError reports a configured listener port that the load balancer
// has no listener on: a mistake in the configuration, which no retry
// fixes.
type ListenerError struct {
	LoadBalancer string
	Port         int32
}

func (e *ListenerError) Error() string {
	return fmt.Sprintf("load balancer %q has no listener on port %d", e.LoadBalancer, e.Port)
}

// lbState is the load balancer as read from AWS.
type lbState struct {
	ports     map[color.Color]int32
	listeners []types.ListenerDescription // the listeners switched: the configured ports in config order, or those to a color's port
	hc        types.HealthCheck
	instances int
}

// colorOf returns the color whose tag holds instance port p, or None.
func (s *lbState) colorOf(p int32) color.Color {
	for _, c := range color.All {
		if s.ports[c] == p {
			return c
		}
	}
	return color.None
}

// describe reads the load balancer, its listeners and its color tags.
func (r *Router) describe(ctx context.Context) (*lbState, error) {
	name := r.cfg.LoadBalancerName
	out, err := r.cfg.API.DescribeLoadBalancers(ctx, &elasticloadbalancing.DescribeLoadBalancersInput{LoadBalancerNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("describing load balancer %q: %w", name, err)
	}
	if len(out.LoadBalancerDescriptions) != 1 {
		return nil, fmt.Errorf("describing load balancer %q: %d load balancers returned", name, len(out.LoadBalancerDescriptions))
	}
	d := out.LoadBalancerDescriptions[0]
	s := &lbState{instances: len(d.Instances)}
	if d.HealthCheck != nil {
		s.hc = *d.HealthCheck
	}
	if s.ports, err = r.colorPorts(ctx); err != nil {
		return nil, err
	}
	if len(r.cfg.ListenerPorts) == 0 {
		for _, ld := range d.ListenerDescriptions {
			if ld.Listener != nil && s.colorOf(aws.ToInt32(ld.Listener.InstancePort)) != color.None {
				s.listeners = append(s.listeners, ld)
			}
		}
		// In port order, whatever order AWS lists them in, so that two
		// reads compare listener by listener.
		slices.SortFunc(s.listeners, func(a, b types.ListenerDescription) int {
			return int(a.Listener.LoadBalancerPort) - int(b.Listener.LoadBalancerPort)
		})
		if len(s.listeners) == 0 {
			return nil, fmt.Errorf("load balancer %q has no listener that forwards to blue's instance port %d or green's %d (its tags); point a listener at the live color's port, or set the listener ports to switch",
				name, s.ports[color.Blue], s.ports[color.Green])
		}
		return s, nil
	}
	for _, p := range r.cfg.ListenerPorts {
		i := slices.IndexFunc(d.ListenerDescriptions, func(ld types.ListenerDescription) bool {
			return ld.Listener != nil && ld.Listener.LoadBalancerPort == p
		})
		if i < 0 {
			return nil, &ListenerError{LoadBalancer: name, Port: p}
		}
		s.listeners = append(s.listeners, d.ListenerDescriptions[i])
	}
	return s, nil
}

// colorPorts reads the instance port of each color from the tags.
func (r *Router) colorPorts(ctx context.Context) (map[color.Color]int32, error) {
	name := r.cfg.LoadBalancerName
	out, err := r.cfg.API.DescribeTags(ctx, &elasticloadbalancing.DescribeTagsInput{LoadBalancerNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("reading tags of load balancer %q: %w", name, err)
	}
	tags := map[string]string{}
	for _, td := range out.TagDescriptions {
		for _, t := range td.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	ports := map[color.Color]int32{}
	for _, c := range color.All {
		v, ok := tags[string(c)]
		if !ok {
			return nil, &TagError{LoadBalancer: name, Tag: string(c), Problem: fmt.Sprintf("is missing: it must hold the instance port of the %s color", c)}
		}
		p, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16)
		if err != nil || p == 0 {
			return nil, &TagError{LoadBalancer: name, Tag: string(c), Problem: fmt.Sprintf("holds %q, not an instance port (1-65535)", v)}
		}
		ports[c] = int32(p)
	}
	if ports[color.Blue] == ports[color.Green] {
		return nil, &TagError{LoadBalancer: name, Tag: string(color.Green), Problem: fmt.Sprintf("holds port %d, the same as tag %q; each color needs its own instance port", ports[color.Green], color.Blue)}
	}
	return ports, nil
}

// listenerColors maps each listener to the color of its instance port. A
// port that matches neither tag is an error: bluegreen does not know what
// serves there and will not overwrite it.
func (r *Router) listenerColors(s *lbState) ([]color.Color, error) {
	out := make([]color.Color, len(s.listeners))
	for i, ld := range s.listeners {
		p := aws.ToInt32(ld.Listener.InstancePort)
		if out[i] = s.colorOf(p); out[i] == color.None {
			return nil, fmt.Errorf("load balancer %q: listener %d forwards to instance port %d, which is neither blue (%d) nor green (%d) by its tags",
				r.cfg.LoadBalancerName, ld.Listener.LoadBalancerPort, p, s.ports[color.Blue], s.ports[color.Green])
		}
	}
	return out, nil
}

// Read implements router.Router: the color whose port the listeners
// forward to gets all traffic.
//
// Listeners that disagree (a switch stopped halfway, or a hand edit) are
// reported as a split in proportion to the listeners of each color, not as
// an error: that is what the load balancer does (port 80 to one color, 443
// to the other), the deploy warns about a split it reads, and a Set to one
// color repairs it. An error here would leave no way out but a hand edit.
func (r *Router) Read(ctx context.Context) (router.Weights, error) {
	s, err := r.describe(ctx)
	if err != nil {
		return nil, err
	}
	colors, err := r.listenerColors(s)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, c := range colors {
		if c == color.Blue {
			n++
		}
	}
	blue := (200*n + len(colors)) / (2 * len(colors)) // percent, rounded
	return router.Weights{color.Blue: blue, color.Green: 100 - blue}, nil
}

// Verify implements router.Router. Instance health says something about
// color c only while the health check probes c's port; otherwise Verify
// cannot tell, and Set itself waits for c to pass the health check before
// moving any listener.
func (r *Router) Verify(ctx context.Context, c color.Color) error {
	s, err := r.describe(ctx)
	if err != nil {
		return err
	}
	t, err := parseTarget(aws.ToString(s.hc.Target))
	if err != nil {
		return fmt.Errorf("load balancer %q: %w", r.cfg.LoadBalancerName, err)
	}
	if t.port != s.ports[c] {
		return fmt.Errorf("load balancer %q: the health check probes port %d, not %s's port %d; the switch checks %s: %w",
			r.cfg.LoadBalancerName, t.port, c, s.ports[c], c, errors.ErrUnsupported)
	}
	states, err := r.instanceHealth(ctx)
	if err != nil {
		return err
	}
	if len(states) == 0 {
		return fmt.Errorf("load balancer %q has no registered instances", r.cfg.LoadBalancerName)
	}
	if down := outOfService(states); len(down) > 0 {
		return fmt.Errorf("load balancer %q: %d of %d instances are not InService on %s's port %d: %s",
			r.cfg.LoadBalancerName, len(down), len(states), c, t.port, describeStates(down))
	}
	return nil
}

func (r *Router) instanceHealth(ctx context.Context) ([]types.InstanceState, error) {
	out, err := r.cfg.API.DescribeInstanceHealth(ctx, &elasticloadbalancing.DescribeInstanceHealthInput{LoadBalancerName: aws.String(r.cfg.LoadBalancerName)})
	if err != nil {
		return nil, fmt.Errorf("reading instance health of load balancer %q: %w", r.cfg.LoadBalancerName, err)
	}
	return out.InstanceStates, nil
}

func outOfService(states []types.InstanceState) []types.InstanceState {
	var down []types.InstanceState
	for _, st := range states {
		if aws.ToString(st.State) != "InService" {
			down = append(down, st)
		}
	}
	return down
}

// describeStates lists instances with their state, reason code and
// description, as the error of a failed wait shows them; instances in the
// same state are listed together.
func describeStates(states []types.InstanceState) string {
	const most = 10
	var keys []string
	ids := map[string][]string{}
	for _, st := range states {
		k := aws.ToString(st.State)
		if code, desc := aws.ToString(st.ReasonCode), aws.ToString(st.Description); code != "" && code != "N/A" {
			k += fmt.Sprintf(" (%s: %s)", code, desc)
		}
		if _, ok := ids[k]; !ok {
			keys = append(keys, k)
		}
		ids[k] = append(ids[k], aws.ToString(st.InstanceId))
	}
	if len(keys) == 0 {
		return "no instances registered"
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		list := ids[k]
		if len(list) > most {
			list = append(list[:most:most], fmt.Sprintf("and %d more", len(ids[k])-most))
		}
		parts = append(parts, strings.Join(list, ", ")+" "+k)
	}
	return strings.Join(parts, "; ")
}

// target is a health check target: "HTTP:31001/healthz", "TCP:31001".
type target struct {
	protocol string
	port     int32
	path     string // with its leading "/", empty for TCP and SSL
}

func parseTarget(s string) (target, error) {
	proto, rest, ok := strings.Cut(s, ":")
	port, path, _ := strings.Cut(rest, "/")
	n, err := strconv.ParseUint(port, 10, 16)
	if !ok || err != nil || n == 0 {
		return target{}, fmt.Errorf("health check target %q is not PROTOCOL:PORT[/PATH]", s)
	}
	t := target{protocol: proto, port: int32(n)}
	if strings.Contains(rest, "/") {
		t.path = "/" + path
	}
	return t, nil
}

func (t target) String() string { return t.protocol + ":" + strconv.Itoa(int(t.port)) + t.path }

// pause sleeps about one poll interval (with jitter, so that parallel
// runs do not poll in step), but never past deadline.
func (r *Router) pause(ctx context.Context, deadline time.Time) error {
	return r.sleep(ctx, max(0, min(awsapi.Interval(r.poll), deadline.Sub(r.now()))))
}
