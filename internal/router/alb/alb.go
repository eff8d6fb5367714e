package alb

import (
	"context"
	"errors"
	"fmt"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// Type names this router in the router input.
const Type = "alb"

// API is the part of the ELBv2 client the router uses.
type API interface {
	DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeRules(context.Context, *elbv2.DescribeRulesInput, ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	ModifyListener(context.Context, *elbv2.ModifyListenerInput, ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
	ModifyRule(context.Context, *elbv2.ModifyRuleInput, ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
	DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

var (
	_ API                = (*elbv2.Client)(nil)
	_ router.Router      = (*Router)(nil)
	_ router.DryRunNoter = (*Router)(nil)
)

// Config holds what the router needs.
type Config struct {
	API API
	// ListenerARN is the listener whose default action forwards to the
	// colors. It may be empty when RuleARN is set.
	ListenerARN string
	// RuleARN, when set, names the listener rule whose forward action is
	// switched instead of the listener's default action.
	RuleARN string
	// TestListenerARN, when set, is a second listener that Preview
	// returns a router for.
	TestListenerARN string
	// TargetGroups holds each color's target group ARN.
	TargetGroups map[color.Color]string
}

// Router implements router.Router with an ALB forward action. One run
// uses it from one goroutine at a time.
type Router struct {
	cfg      Config
	opts     []Option
	dryRun   bool
	attempts int
	poll     time.Duration
	// sticky, when set, is the target-group stickiness of a split.
	sticky time.Duration
	// ended is the stickiness a write to one color disabled; see remember.
	ended *types.TargetGroupStickinessConfig
}

// Option tunes a Router.
type Option func(*Router)

// WithDryRun makes Set read, validate and build its write without
// sending it.
func WithDryRun(on bool) Option { return func(r *Router) { r.dryRun = on } }

// WithReadBack sets how many times Set reads the route back after its
// write, and the base interval between reads; defaults 5 and 1 s. ELBv2
// reads are eventually consistent: the first read may still show the
// previous actions.
func WithReadBack(attempts int, poll time.Duration) Option {
	return func(r *Router) {
		if attempts > 0 {
			r.attempts = attempts
		}
		if poll > 0 {
			r.poll = poll
		}
	}
}

// WithStickiness keeps a client on the target group it first reached for
// d while the forward splits traffic: each weighted write enables
// target-group stickiness for d. Without it a split keeps the forward's
// stickiness as read. A write that sends all traffic to one color
// disables stickiness with or without this option, so that no client
// stays on the color being left.
func WithStickiness(d time.Duration) Option { return func(r *Router) { r.sticky = d } }

// DryRun reports whether writes are validated and built but not sent.
func (r *Router) DryRun() bool { return r.dryRun }

// DryRunNote implements router.DryRunNoter: ELBv2 has no dry run.
func (r *Router) DryRunNote() string {
	return "ELBv2 has no dry run: the " + r.what() + " and its target groups were read and the new forward action validated, not sent"
}

// New returns the router for cfg.
func New(cfg Config, opts ...Option) (*Router, error) {
	if cfg.API == nil {
		return nil, errors.New("alb router: no ELBv2 client")
	}
	if cfg.ListenerARN == "" && cfg.RuleARN == "" {
		return nil, errors.New("alb router: no listener or rule ARN")
	}
	check := []struct{ what, value, prefix string }{
		{"listener", cfg.ListenerARN, "listener/"},
		{"listener rule", cfg.RuleARN, "listener-rule/"},
		{"test listener", cfg.TestListenerARN, "listener/"},
	}
	for _, c := range color.All {
		if cfg.TargetGroups[c] == "" {
			return nil, fmt.Errorf("alb router: no target group for %s", c)
		}
		check = append(check, struct{ what, value, prefix string }{c.String() + " target group", cfg.TargetGroups[c], "targetgroup/"})
	}
	if cfg.TargetGroups[color.Blue] == cfg.TargetGroups[color.Green] {
		return nil, fmt.Errorf("alb router: blue and green share the target group %q; each color needs its own", cfg.TargetGroups[color.Blue])
	}
	for _, c := range check {
		if c.value == "" {
			continue
		}
		if _, err := awsapi.ParseARN(c.what, c.value, "elasticloadbalancing", c.prefix); err != nil {
			return nil, fmt.Errorf("alb router: %w", err)
		}
	}
	r := &Router{cfg: cfg, opts: opts, attempts: 5, poll: time.Second}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Preview returns a router, with the same options, for the test
// listener; nil when there is none. The deploy points it at the idle
// color with Set(router.All(idle)).
func (r *Router) Preview() *Router {
	if r.cfg.TestListenerARN == "" {
		return nil
	}
	cfg := r.cfg
	cfg.ListenerARN, cfg.RuleARN, cfg.TestListenerARN = r.cfg.TestListenerARN, "", ""
	p, err := New(cfg, r.opts...)
	if err != nil {
		return nil // unreachable: cfg was valid for r
	}
	return p
}

// what names the route in messages.
func (r *Router) what() string {
	if r.cfg.RuleARN != "" {
		return fmt.Sprintf("listener rule %q", r.cfg.RuleARN)
	}
	return fmt.Sprintf("listener %q", r.cfg.ListenerARN)
}

// actions reads the route's actions from the live load balancer.
func (r *Router) actions(ctx context.Context) ([]types.Action, error) {
	if r.cfg.RuleARN != "" {
		out, err := r.cfg.API.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{r.cfg.RuleARN}})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.what(), err)
		}
		if len(out.Rules) != 1 {
			return nil, fmt.Errorf("reading %s: got %d rules", r.what(), len(out.Rules))
		}
		return out.Rules[0].Actions, nil
	}
	out, err := r.cfg.API.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{r.cfg.ListenerARN}})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r.what(), err)
	}
	if len(out.Listeners) != 1 {
		return nil, fmt.Errorf("reading %s: got %d listeners", r.what(), len(out.Listeners))
	}
	return out.Listeners[0].DefaultActions, nil
}

// Read implements router.Router: the weights of the forward action, in
// percent of the colors' total.
func (r *Router) Read(ctx context.Context) (router.Weights, error) {
	actions, err := r.actions(ctx)
	if err != nil {
		return nil, err
	}
	_, w, err := r.parse(actions)
	return w, err
}

// Set implements router.Router with one ModifyListener (or ModifyRule)
// that forwards to both target groups with weights w, keeping the other
// actions (see withWeights for the forward's stickiness). It then reads
// the route back until it shows w, and, when w sends all traffic to one
// color, no stickiness. A route at w that is still sticky is not in
// place: it is written again.
//
// A throttled call has already been retried by the SDK's standard
// retryer (see awsapi.LoadConfig) when its error reaches Set; Set returns
// it, except during the read-back, which simply reads again.
func (r *Router) Set(ctx context.Context, w router.Weights) error {
	if err := w.Check(); err != nil {
		return fmt.Errorf("setting %s: %w", r.what(), err)
	}
	actions, err := r.actions(ctx)
	if err != nil {
		return err
	}
	i, before, err := r.parse(actions)
	if err != nil {
		return err
	}
	next := r.withWeights(actions, i, w)
	if before.Equal(w) && sameStickiness(actions[i], next[i]) {
		return nil
	}
	if r.dryRun {
		return nil
	}
	r.remember(actions[i], w)
	if err := r.write(ctx, next); err != nil {
		return err
	}
	return r.readBack(ctx, before, w)
}

// Restore implements router.Restorer: it writes w even when the route
// already reads as w, since after a write whose answer was lost that read
// may be stale (ELBv2 reads are eventually consistent).
func (r *Router) Restore(ctx context.Context, w router.Weights) error {
	if err := w.Check(); err != nil {
		return fmt.Errorf("restoring %s: %w", r.what(), err)
	}
	actions, err := r.actions(ctx)
	if err != nil {
		return err
	}
	i, before, err := r.parse(actions)
	if err != nil {
		return err
	}
	if r.dryRun {
		return nil
	}
	next := r.withWeights(actions, i, w)
	r.remember(actions[i], w)
	if err := r.write(ctx, next); err != nil {
		return err
	}
	if before.Equal(w) {
		return nil // the read was, or looked, unchanged: nothing to wait for
	}
	return r.readBack(ctx, before, w)
}

func (r *Router) write(ctx context.Context, actions []types.Action) error {
	if r.cfg.RuleARN != "" {
		if _, err := r.cfg.API.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &r.cfg.RuleARN, Actions: actions}); err != nil {
			return fmt.Errorf("modifying %s: %w", r.what(), err)
		}
		return nil
	}
	if _, err := r.cfg.API.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: &r.cfg.ListenerARN, DefaultActions: actions}); err != nil {
		return fmt.Errorf("modifying %s: %w", r.what(), err)
	}
	return nil
}

// readBack reads the route until it shows want. A read that still shows
// the weights from before the write is a stale read and is tried again; a
// read showing other weights means someone else changed the route. When
// want sends all traffic to one color the read must also show the
// forward's stickiness disabled: until then clients holding the cookie of
// the other color still reach it.
func (r *Router) readBack(ctx context.Context, before, want router.Weights) error {
	var got router.Weights
	var stuck bool
	for attempt := 1; attempt <= r.attempts; attempt++ {
		if attempt > 1 {
			if err := awsapi.Sleep(ctx, r.poll); err != nil {
				return fmt.Errorf("reading back %s after setting %s: %w", r.what(), want, err)
			}
		}
		w, sticky, err := r.readForward(ctx)
		switch {
		case awsapi.IsThrottle(err):
			continue
		case err != nil:
			return fmt.Errorf("reading back after setting %s: %w", want, err)
		case w.Equal(want) && (want.Split() || !sticky):
			return nil
		case !w.Equal(want) && !w.Equal(before):
			return fmt.Errorf("%s reads %s after it was set to %s: %w", r.what(), w, want, router.ErrConflict)
		}
		got, stuck = w, sticky && w.Equal(want)
	}
	switch {
	case got == nil:
		return fmt.Errorf("%s could not be read back after setting %s (throttled %d times)", r.what(), want, r.attempts)
	case stuck:
		return fmt.Errorf("%s still has target-group stickiness enabled after it was set to %s without (%d reads): clients holding the other color's cookie still reach it", r.what(), want, r.attempts)
	}
	return fmt.Errorf("%s still reads %s after it was set to %s (%d reads)", r.what(), got, want, r.attempts)
}

// readForward reads the route's weights and whether its forward keeps
// clients on a target group.
func (r *Router) readForward(ctx context.Context) (router.Weights, bool, error) {
	actions, err := r.actions(ctx)
	if err != nil {
		return nil, false, err
	}
	i, w, err := r.parse(actions)
	if err != nil {
		return nil, false, err
	}
	sticky, _ := stickiness(actions[i])
	return w, sticky, nil
}
