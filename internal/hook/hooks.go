package hook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// ErrUnknownEvent is returned for an event that is neither a CodeDeploy
// nor an Amazon ECS lifecycle hook event.
var ErrUnknownEvent = errors.New("unknown event")

// Source is the service that invoked a hook.
type Source string

// Sources.
const (
	CodeDeploy Source = "codedeploy"
	ECS        Source = "ecs"
)

// Event is what a lifecycle hook event says, for the checks.
type Event struct {
	Source Source
	// DeploymentID is CodeDeploy's deployment ID, or the ARN of the ECS
	// service deployment.
	DeploymentID string
	// ExecutionID identifies this hook's execution within the deployment.
	ExecutionID string
	// Stage is the ECS lifecycle stage (POST_TEST_TRAFFIC_SHIFT, ...).
	// CodeDeploy's event does not say which AppSpec hook it is for.
	Stage string
	// ServiceARN and TargetRevisionARN are ECS's: the service and the
	// service revision being deployed.
	ServiceARN        string
	TargetRevisionARN string
}

// Checks makes one attempt at everything a lifecycle event must prove, and
// returns nil when all of it passes. Hooks calls it again, after a pause,
// until it passes or the time allowed runs out; ctx ends with the time
// allowed.
type Checks func(ctx context.Context, ev Event) error

// VerifyAll returns Checks that attempt each HTTP check once, in turn, with
// c. Their Timeout and Interval are not used: the hook's budget and
// interval are.
func VerifyAll(c *verify.Checker, checks []verify.Check) Checks {
	return func(ctx context.Context, _ Event) error {
		for _, chk := range checks {
			if err := c.Attempt(ctx, chk); err != nil {
				return err
			}
		}
		return nil
	}
}

// Config is what Hooks needs.
type Config struct {
	// Checks decide whether the lifecycle event passes. Required.
	Checks Checks
	// CodeDeploy reports the result of a CodeDeploy lifecycle hook; nil
	// refuses CodeDeploy events (an ECS native deployment needs none).
	CodeDeploy CodeDeployAPI
	// Budget is how long the checks of one lifecycle event may take to
	// pass, counted from its first invocation. Required.
	Budget time.Duration
}

// Defaults of the options.
const (
	DefaultInterval         = 2 * time.Second
	DefaultInvocationBudget = 10 * time.Second
	DefaultCallBackDelay    = 15 * time.Second
	DefaultDeadlineReserve  = 3 * time.Second
)

const (
	// maxCallBackDelaySeconds keeps a call-back within the 15 minutes a
	// Lambda function can run, which is plenty between two checks.
	maxCallBackDelaySeconds = 900
	// hookDetailsKey is the hookDetails entry holding a hook's own state.
	hookDetailsKey        = "bluegreen"
	hookDetailsTimeLayout = time.RFC3339Nano
	// defaultStateCapacity bounds the lifecycle events remembered in memory.
	defaultStateCapacity = 1000
	// unknownEventKeys is how many keys of an unknown event an error names.
	unknownEventKeys = 10
)

// Option tunes Hooks.
type Option func(*Hooks)

// WithInterval sets the pause between two attempts of the checks.
func WithInterval(d time.Duration) Option { return func(h *Hooks) { h.interval = d } }

// WithInvocationBudget sets how long one invocation by ECS runs the checks
// before it answers IN_PROGRESS.
func WithInvocationBudget(d time.Duration) Option { return func(h *Hooks) { h.invocation = d } }

// WithCallBackDelay sets how long ECS waits before it invokes the function
// again after IN_PROGRESS; whole seconds, at least 1.
func WithCallBackDelay(d time.Duration) Option { return func(h *Hooks) { h.callBack = d } }

// WithDeadlineReserve sets how much of an invocation's time is kept for
// reporting the result once the checks have run.
func WithDeadlineReserve(d time.Duration) Option { return func(h *Hooks) { h.reserve = d } }

// WithLog sets where progress and results are written; Lambda sends a
// function's output to CloudWatch Logs. Default: nowhere.
func WithLog(w io.Writer) Option { return func(h *Hooks) { h.log = w } }

// Hooks answers lifecycle hook events. It is safe for concurrent use.
type Hooks struct {
	cfg        Config
	interval   time.Duration
	invocation time.Duration
	callBack   time.Duration
	reserve    time.Duration
	now        func() time.Time

	logMu sync.Mutex
	log   io.Writer

	// firstSeen remembers when each ECS hook execution was first invoked,
	// for a warm function whose hookDetails did not come back.
	mu        sync.Mutex
	firstSeen map[string]time.Time
}

var _ Handler = (*Hooks)(nil)

// New returns Hooks for cfg.
func New(cfg Config, opts ...Option) (*Hooks, error) {
	if cfg.Checks == nil {
		return nil, errors.New("creating the lifecycle hooks: no checks")
	}
	if cfg.Budget <= 0 {
		return nil, fmt.Errorf("creating the lifecycle hooks: budget %s is not more than 0", cfg.Budget)
	}
	h := &Hooks{
		cfg:        cfg,
		interval:   DefaultInterval,
		invocation: DefaultInvocationBudget,
		callBack:   DefaultCallBackDelay,
		reserve:    DefaultDeadlineReserve,
		now:        time.Now,
		log:        io.Discard,
		firstSeen:  map[string]time.Time{},
	}
	for _, opt := range opts {
		opt(h)
	}
	switch {
	case h.interval <= 0:
		return nil, fmt.Errorf("creating the lifecycle hooks: interval %s is not more than 0", h.interval)
	case h.invocation <= 0:
		return nil, fmt.Errorf("creating the lifecycle hooks: invocation budget %s is not more than 0", h.invocation)
	case h.callBack < time.Second || h.callBack > maxCallBackDelaySeconds*time.Second:
		return nil, fmt.Errorf("creating the lifecycle hooks: call-back delay %s is not from 1s to 15m", h.callBack)
	case h.reserve < 0:
		return nil, fmt.Errorf("creating the lifecycle hooks: deadline reserve %s is negative", h.reserve)
	}
	return h, nil
}

// Invoke answers one event, telling CodeDeploy's from ECS's by its keys.
func (h *Hooks) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(payload, &keys); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %w", ErrUnknownEvent, err)
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := keys[n]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("DeploymentId", "LifecycleEventHookExecutionId"):
		return h.codeDeploy(ctx, payload)
	case has("executionDetails"), has("lifecycleStage"), has("serviceArn", "targetServiceRevisionArn"):
		return h.ecs(ctx, payload)
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) > unknownEventKeys {
		names = append(names[:unknownEventKeys], "...")
	}
	// Only the keys: values may be anyone's data.
	return nil, fmt.Errorf("%w with keys [%s]: want a CodeDeploy lifecycle hook event (DeploymentId, LifecycleEventHookExecutionId) "+
		"or an Amazon ECS lifecycle hook event (executionDetails, lifecycleStage)", ErrUnknownEvent, strings.Join(names, ", "))
}

// attempt runs the checks until they pass or end passes, at least once;
// every attempt is bounded by ctx. It returns nil on a pass, else the last
// failure and how many attempts were made.
func (h *Hooks) attempt(ctx context.Context, ev Event, end time.Time) (int, error) {
	var last error
	for n := 1; ; n++ {
		err := h.cfg.Checks(ctx, ev)
		if err == nil {
			return n, nil
		}
		if last == nil || ctx.Err() == nil {
			last = err
		}
		if ctx.Err() != nil || !h.now().Add(h.interval).Before(end) {
			return n, last
		}
		t := time.NewTimer(h.interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, last
		case <-t.C:
		}
	}
}

func (h *Hooks) logf(format string, args ...any) {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	fmt.Fprintf(h.log, "bluegreen hook: "+format+"\n", args...)
}

// usable returns the time an invocation may spend before it must answer:
// the earlier of want and ctx's deadline less the reserve.
func (h *Hooks) usable(ctx context.Context, want time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		if d = d.Add(-h.reserve); d.Before(want) {
			return d
		}
	}
	return want
}
