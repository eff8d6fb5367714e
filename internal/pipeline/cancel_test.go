package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
)

// blockUntilDone is a step body that waits for the run's cancellation,
// closing started first so the test knows when to cancel.
func blockUntilDone(started chan<- struct{}) func(context.Context, *trace) error {
	return func(ctx context.Context, tr *trace) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
}

// checkRevertContext is a revert body that records whether the context it
// got was cancelled and whether it has a deadline.
func checkRevertContext(ctx context.Context, tr *trace) error {
	_, hasDeadline := ctx.Deadline()
	tr.add("revert context: err=%v, deadline=%v", ctx.Err(), hasDeadline)
	return nil
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()

	tr := &trace{}
	results, err := runGuarded(t, ctx, &pipeline.Runner[*trace]{}, tr,
		revertible{step: step{name: "deploy"}, revert: checkRevertContext},
		step{name: "wait", run: blockUntilDone(started)},
		step{name: "switch"},
	)

	wantEvents := []string{
		"run deploy", "run wait", "revert deploy",
		// The revert outlives the cancellation, bounded by the grace.
		"revert context: err=<nil>, deadline=true",
	}
	if diff := cmp.Diff(wantEvents, tr.list()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	want := []pipeline.Result{
		{Name: "deploy", Status: pipeline.StatusReverted},
		{Name: "wait", Status: pipeline.StatusCancelled, Detail: context.Canceled.Error()},
		{Name: "switch", Status: pipeline.StatusNotRun},
	}
	if diff := cmp.Diff(want, results, ignoreDuration); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v, want %v", err, context.Canceled)
	}
	var se *pipeline.StepError
	if !errors.As(err, &se) || se.Step != "wait" {
		t.Errorf("Run error = %v, want a *pipeline.StepError for step wait", err)
	}
}

// TestRunCancelledBetweenSteps cancels while no step runs: the next step
// does not start, is reported cancelled, and the error names it.
func TestRunCancelledBetweenSteps(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	errStop := errors.New("stopped by the runner")

	tr := &trace{}
	results, err := runGuarded(t, ctx, &pipeline.Runner[*trace]{}, tr,
		revertible{step: step{name: "deploy", run: func(context.Context, *trace) error {
			cancel(errStop)
			return nil
		}}, revert: checkRevertContext},
		step{name: "switch"},
	)

	wantEvents := []string{"run deploy", "revert deploy", "revert context: err=<nil>, deadline=true"}
	if diff := cmp.Diff(wantEvents, tr.list()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	want := []pipeline.Result{
		{Name: "deploy", Status: pipeline.StatusReverted},
		{Name: "switch", Status: pipeline.StatusCancelled, Detail: "cancelled before it started"},
	}
	if diff := cmp.Diff(want, results, ignoreDuration); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	// The cause says why the run stopped, better than "context canceled".
	if !errors.Is(err, errStop) {
		t.Errorf("Run error = %v, want the cause %v", err, errStop)
	}
	var se *pipeline.StepError
	if !errors.As(err, &se) || se.Step != "switch" {
		t.Errorf("Run error = %v, want a *pipeline.StepError for step switch", err)
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tr := &trace{}
	results, err := runGuarded(t, ctx, &pipeline.Runner[*trace]{}, tr,
		revertible{step: step{name: "a"}}, step{name: "b"})
	if got := tr.list(); len(got) != 0 {
		t.Errorf("events = %q, want none", got)
	}
	want := []pipeline.Result{
		{Name: "a", Status: pipeline.StatusCancelled, Detail: "cancelled before it started"},
		{Name: "b", Status: pipeline.StatusNotRun},
	}
	if diff := cmp.Diff(want, results, ignoreDuration); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v, want %v", err, context.Canceled)
	}
}

// TestRunGraceBoundsReverts: a revert that waits for its context returns
// once the grace is over, and the run reports it as failed.
func TestRunGraceBoundsReverts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()

	tr := &trace{}
	r := &pipeline.Runner[*trace]{Grace: 20 * time.Millisecond}
	results, err := runGuarded(t, ctx, r, tr,
		revertible{step: step{name: "a"}, revert: checkRevertContext},
		revertible{step: step{name: "b"}, revert: func(ctx context.Context, tr *trace) error {
			<-ctx.Done() // a revert stuck on an API that never answers
			return ctx.Err()
		}},
		step{name: "wait", run: blockUntilDone(started)},
	)

	// The grace covers all reverts together: once it is over, the
	// remaining reverts get a context that is already done.
	wantEvents := []string{
		"run a", "run b", "run wait", "revert b", "revert a",
		"revert context: err=context deadline exceeded, deadline=true",
	}
	if diff := cmp.Diff(wantEvents, tr.list()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	want := []pipeline.Result{
		{Name: "a", Status: pipeline.StatusReverted},
		{Name: "b", Status: pipeline.StatusRevertFailed, Detail: context.DeadlineExceeded.Error()},
		{Name: "wait", Status: pipeline.StatusCancelled, Detail: context.Canceled.Error()},
	}
	if diff := cmp.Diff(want, results, ignoreDuration); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run error = %v, want it to join %v and %v", err, context.Canceled, context.DeadlineExceeded)
	}
}

// TestRunDefaultGrace: a zero Grace means DefaultGrace, not a context that
// is done before the first revert.
func TestRunDefaultGrace(t *testing.T) {
	t.Parallel()
	var deadline time.Time
	var hasDeadline bool
	var revertErr error
	before := time.Now()
	results, _, _ := run(t, &pipeline.Runner[*trace]{},
		revertible{step: step{name: "a"}, revert: func(ctx context.Context, tr *trace) error {
			deadline, hasDeadline = ctx.Deadline()
			revertErr = ctx.Err()
			return nil
		}},
		step{name: "b", err: errBoom},
	)
	if got, want := results[0].Status, pipeline.StatusReverted; got != want {
		t.Errorf("status of a = %q, want %q", got, want)
	}
	if revertErr != nil {
		t.Errorf("revert context error = %v, want nil", revertErr)
	}
	if !hasDeadline {
		t.Fatal("revert context has no deadline, want one DefaultGrace away")
	}
	// The deadline is set after before, so it is at least DefaultGrace
	// after it; nothing here depends on how fast the run was.
	if got, want := deadline.Sub(before), pipeline.DefaultGrace; got < want {
		t.Errorf("revert deadline is %v after the run started, want at least %v", got, want)
	}
}

// runGuarded runs steps under ctx and fails the test, rather than hanging
// it, if Run does not return. The bound is a hang guard, not a measure of
// speed: every path here returns in milliseconds.
func runGuarded(t *testing.T, ctx context.Context, r *pipeline.Runner[*trace], tr *trace, steps ...pipeline.Step[*trace]) ([]pipeline.Result, error) {
	t.Helper()
	type out struct {
		results []pipeline.Result
		err     error
	}
	done := make(chan out, 1)
	go func() {
		results, err := r.Run(ctx, steps, tr)
		done <- out{results, err}
	}()
	select {
	case o := <-done:
		return o.results, o.err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return 10s after the run was cancelled")
		return nil, nil
	}
}
