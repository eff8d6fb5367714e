package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
)

// trace is the state of a test run: what the steps did, in order. Reverts
// may run on another goroutine than the test's, hence the lock.
type trace struct {
	mu     sync.Mutex
	events []string
}

func (tr *trace) add(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.events = append(tr.events, fmt.Sprintf(format, args...))
}

func (tr *trace) list() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.events...)
}

// step is a step with no optional behaviour. run, when set, replaces the
// default of returning err.
type step struct {
	name string
	err  error
	run  func(ctx context.Context, tr *trace) error
}

func (s step) String() string { return s.name }

func (s step) Run(ctx context.Context, tr *trace) error {
	tr.add("run %s", s.name)
	if s.run != nil {
		return s.run(ctx, tr)
	}
	return s.err
}

// revertible is a step that can be undone.
type revertible struct {
	step
	revertErr error
	revert    func(ctx context.Context, tr *trace) error
}

func (s revertible) Revert(ctx context.Context, tr *trace) error {
	tr.add("revert %s", s.name)
	if s.revert != nil {
		return s.revert(ctx, tr)
	}
	return s.revertErr
}

// skipping is a step that decides whether it applies.
type skipping struct {
	step
	reason string
	skip   bool
}

func (s skipping) Skip(*trace) (string, bool) { return s.reason, s.skip }

// committing is a step after which the run is no longer undone.
type committing struct{ step }

func (committing) Commits() bool { return true }

// committingRevertible commits and can itself be undone.
type committingRevertible struct{ revertible }

func (committingRevertible) Commits() bool { return true }

// detailed reports an outcome once it has run.
type detailed struct {
	step
	detail string
}

func (s detailed) Detail(tr *trace) string { return s.detail }

// observer records what an Observer is told.
type observer struct {
	mu     sync.Mutex
	events []string
}

func (o *observer) StepStarted(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, "started "+name)
}

func (o *observer) StepFinished(r pipeline.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, fmt.Sprintf("finished %s: %s", r.Name, r.Status))
}

var errBoom = errors.New("boom")

// ignoreDuration compares results by what happened, not how long it took;
// TestRunDurations checks the durations.
var ignoreDuration = cmpopts.IgnoreFields(pipeline.Result{}, "Duration")

func run(t *testing.T, r *pipeline.Runner[*trace], steps ...pipeline.Step[*trace]) ([]pipeline.Result, []string, error) {
	t.Helper()
	tr := &trace{}
	results, err := r.Run(t.Context(), steps, tr)
	return results, tr.list(), err
}

func TestRunInOrder(t *testing.T) {
	t.Parallel()
	results, events, err := run(t, &pipeline.Runner[*trace]{},
		step{name: "a"}, step{name: "b"}, step{name: "c"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff([]string{"run a", "run b", "run c"}, events); diff != "" {
		t.Errorf("steps run (-want +got):\n%s", diff)
	}
	want := []pipeline.Result{
		{Name: "a", Status: pipeline.StatusOK},
		{Name: "b", Status: pipeline.StatusOK},
		{Name: "c", Status: pipeline.StatusOK},
	}
	if diff := cmp.Diff(want, results, ignoreDuration); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestRunNoSteps(t *testing.T) {
	t.Parallel()
	results, _, err := run(t, &pipeline.Runner[*trace]{})
	if err != nil {
		t.Errorf("Run: %v", err)
	}
	if got, want := len(results), 0; got != want {
		t.Errorf("len(results) = %d, want %d", got, want)
	}
}

func TestRunSkip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		step   skipping
		events []string
		want   pipeline.Result
	}{
		{
			name:   "skips with its reason",
			step:   skipping{step: step{name: "migrate"}, reason: "no migrations configured", skip: true},
			events: []string{"run a", "run c"},
			want:   pipeline.Result{Name: "migrate", Status: pipeline.StatusSkipped, Detail: "no migrations configured"},
		},
		{
			name:   "runs when it applies",
			step:   skipping{step: step{name: "migrate"}, reason: "", skip: false},
			events: []string{"run a", "run migrate", "run c"},
			want:   pipeline.Result{Name: "migrate", Status: pipeline.StatusOK},
		},
		{
			// The flag decides, not whether there is a reason.
			name:   "a reason without skip runs",
			step:   skipping{step: step{name: "migrate"}, reason: "would skip", skip: false},
			events: []string{"run a", "run migrate", "run c"},
			want:   pipeline.Result{Name: "migrate", Status: pipeline.StatusOK},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			results, events, err := run(t, &pipeline.Runner[*trace]{}, step{name: "a"}, tc.step, step{name: "c"})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(tc.events, events); diff != "" {
				t.Errorf("steps run (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, results[1], ignoreDuration); diff != "" {
				t.Errorf("result of the skipper (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunDetail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		step detailed
		want pipeline.Result
	}{
		{
			name: "after success",
			step: detailed{step: step{name: "switch"}, detail: "traffic moved to green"},
			want: pipeline.Result{Name: "switch", Status: pipeline.StatusOK, Detail: "traffic moved to green"},
		},
		{
			// A failed step's detail is its error, not what it would have
			// reported.
			name: "after failure",
			step: detailed{step: step{name: "switch", err: errBoom}, detail: "traffic moved to green"},
			want: pipeline.Result{Name: "switch", Status: pipeline.StatusFailed, Detail: "boom"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			results, _, _ := run(t, &pipeline.Runner[*trace]{}, tc.step)
			if diff := cmp.Diff([]pipeline.Result{tc.want}, results, ignoreDuration); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunFailureRevertsInReverse(t *testing.T) {
	t.Parallel()
	results, events, err := run(t, &pipeline.Runner[*trace]{},
		revertible{step: step{name: "a"}},
		step{name: "b"},
		revertible{step: step{name: "c"}},
		skipping{step: step{name: "d"}, reason: "not needed", skip: true},
		revertible{step: step{name: "e", err: errBoom}},
		revertible{step: step{name: "f"}},
		step{name: "g"},
	)

	wantEvents := []string{"run a", "run b", "run c", "run e", "revert c", "revert a"}
	if diff := cmp.Diff(wantEvents, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	want := []pipeline.Result{
		{Name: "a", Status: pipeline.StatusReverted},
		{Name: "b", Status: pipeline.StatusOK},
		{Name: "c", Status: pipeline.StatusReverted},
		{Name: "d", Status: pipeline.StatusSkipped, Detail: "not needed"},
		// The failed step did not complete, so it is not reverted.
		{Name: "e", Status: pipeline.StatusFailed, Detail: "boom"},
		{Name: "f", Status: pipeline.StatusNotRun},
		{Name: "g", Status: pipeline.StatusNotRun},
	}
	if diff := cmp.Diff(want, results, ignoreDuration); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	var se *pipeline.StepError
	if !errors.As(err, &se) {
		t.Fatalf("Run error = %v, want a *pipeline.StepError", err)
	}
	if got, want := se.Step, "e"; got != want {
		t.Errorf("StepError.Step = %q, want %q", got, want)
	}
	if !errors.Is(err, errBoom) {
		t.Errorf("Run error = %v, want it to wrap %v", err, errBoom)
	}
	if got, want := err.Error(), "e: boom"; got != want {
		t.Errorf("Run error = %q, want %q", got, want)
	}
}

func TestRunFailureWithNothingToRevert(t *testing.T) {
	t.Parallel()
	results, events, err := run(t, &pipeline.Runner[*trace]{},
		step{name: "a", err: errBoom}, revertible{step: step{name: "b"}})
	if diff := cmp.Diff([]string{"run a"}, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	want := []pipeline.Result{
		{Name: "a", Status: pipeline.StatusFailed, Detail: "boom"},
		{Name: "b", Status: pipeline.StatusNotRun},
	}
	if diff := cmp.Diff(want, results, ignoreDuration); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), "a: boom"; got != want {
		t.Errorf("Run error = %q, want %q", got, want)
	}
}

func TestRunCommitter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		steps   []pipeline.Step[*trace]
		events  []string
		results []pipeline.Result
	}{
		{
			name: "steps before the commit stay",
			steps: []pipeline.Step[*trace]{
				revertible{step: step{name: "deploy"}},
				committing{step{name: "confirm"}},
				revertible{step: step{name: "scale"}},
				step{name: "bake", err: errBoom},
			},
			events: []string{"run deploy", "run confirm", "run scale", "run bake", "revert scale"},
			results: []pipeline.Result{
				{Name: "deploy", Status: pipeline.StatusOK},
				{Name: "confirm", Status: pipeline.StatusOK},
				{Name: "scale", Status: pipeline.StatusReverted},
				{Name: "bake", Status: pipeline.StatusFailed, Detail: "boom"},
			},
		},
		{
			name: "failure right after the commit reverts nothing",
			steps: []pipeline.Step[*trace]{
				revertible{step: step{name: "deploy"}},
				committing{step{name: "confirm"}},
				step{name: "bake", err: errBoom},
			},
			events: []string{"run deploy", "run confirm", "run bake"},
			results: []pipeline.Result{
				{Name: "deploy", Status: pipeline.StatusOK},
				{Name: "confirm", Status: pipeline.StatusOK},
				{Name: "bake", Status: pipeline.StatusFailed, Detail: "boom"},
			},
		},
		{
			// The commit clears only what came before it: a committing
			// step that can be undone is undone by a later failure.
			name: "a revertible commit is itself reverted",
			steps: []pipeline.Step[*trace]{
				revertible{step: step{name: "deploy"}},
				committingRevertible{revertible{step: step{name: "switch"}}},
				step{name: "bake", err: errBoom},
			},
			events: []string{"run deploy", "run switch", "run bake", "revert switch"},
			results: []pipeline.Result{
				{Name: "deploy", Status: pipeline.StatusOK},
				{Name: "switch", Status: pipeline.StatusReverted},
				{Name: "bake", Status: pipeline.StatusFailed, Detail: "boom"},
			},
		},
		{
			name: "a failed commit reverts what came before",
			steps: []pipeline.Step[*trace]{
				revertible{step: step{name: "deploy"}},
				committing{step{name: "confirm", err: errBoom}},
			},
			events: []string{"run deploy", "run confirm", "revert deploy"},
			results: []pipeline.Result{
				{Name: "deploy", Status: pipeline.StatusReverted},
				{Name: "confirm", Status: pipeline.StatusFailed, Detail: "boom"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			results, events, err := run(t, &pipeline.Runner[*trace]{}, tc.steps...)
			if !errors.Is(err, errBoom) {
				t.Errorf("Run error = %v, want %v", err, errBoom)
			}
			if diff := cmp.Diff(tc.events, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.results, results, ignoreDuration); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunRevertFailure(t *testing.T) {
	t.Parallel()
	errUndo := errors.New("undo broke")
	results, events, err := run(t, &pipeline.Runner[*trace]{},
		revertible{step: step{name: "a"}, revertErr: errUndo},
		revertible{step: step{name: "b"}},
		step{name: "c", err: errBoom},
	)
	// A failed revert does not stop the others.
	if diff := cmp.Diff([]string{"run a", "run b", "run c", "revert b", "revert a"}, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	want := []pipeline.Result{
		{Name: "a", Status: pipeline.StatusRevertFailed, Detail: "undo broke"},
		{Name: "b", Status: pipeline.StatusReverted},
		{Name: "c", Status: pipeline.StatusFailed, Detail: "boom"},
	}
	if diff := cmp.Diff(want, results, ignoreDuration); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if !errors.Is(err, errBoom) || !errors.Is(err, errUndo) {
		t.Errorf("Run error = %v, want it to join %v and %v", err, errBoom, errUndo)
	}
	var se *pipeline.StepError
	if !errors.As(err, &se) || se.Step != "c" {
		t.Errorf("Run error = %v, want a *pipeline.StepError for step c", err)
	}
	if got, want := err.Error(), "c: boom\nreverting a: undo broke"; got != want {
		t.Errorf("Run error = %q, want %q", got, want)
	}
}

func TestRunObserver(t *testing.T) {
	t.Parallel()
	obs := &observer{}
	_, _, _ = run(t, &pipeline.Runner[*trace]{Observer: obs},
		revertible{step: step{name: "deploy"}},
		skipping{step: step{name: "migrate"}, reason: "none", skip: true},
		step{name: "switch", err: errBoom},
		step{name: "bake"},
	)
	want := []string{
		"started deploy",
		"finished deploy: ok",
		"started migrate",
		"finished migrate: skipped",
		"started switch",
		"finished switch: failed",
		"started revert deploy",
		"finished deploy: reverted",
	}
	if diff := cmp.Diff(want, obs.events); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

// TestRunDurations uses a clock that moves one second per reading, so that
// each duration says how many readings a step took.
func TestRunDurations(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	results, _, _ := run(t, &pipeline.Runner[*trace]{Now: clock},
		revertible{step: step{name: "a"}},
		skipping{step: step{name: "b"}, skip: true},
		step{name: "c", err: errBoom},
		step{name: "d"},
	)
	got := make(map[string]time.Duration)
	for _, r := range results {
		got[r.Name] = r.Duration
	}
	want := map[string]time.Duration{
		"a": 2 * time.Second, // run and revert
		"b": 0,
		"c": time.Second,
		"d": 0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("durations (-want +got):\n%s", diff)
	}
}

func TestStepError(t *testing.T) {
	t.Parallel()
	err := error(&pipeline.StepError{Step: "switch", Err: fmt.Errorf("modifying listener %q: %w", "l-1", errBoom)})
	if got, want := err.Error(), `switch: modifying listener "l-1": boom`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, errBoom) {
		t.Errorf("errors.Is(%v, %v) = false, want true", err, errBoom)
	}
}
