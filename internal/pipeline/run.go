package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultGrace bounds the reverts that run after a failure or cancellation.
const DefaultGrace = 30 * time.Second

// Runner runs steps in order.
type Runner[S any] struct {
	// Observer, when set, is told of each step as it starts and ends.
	Observer Observer
	// Grace bounds the time all reverts together may take once the run
	// failed or was cancelled. Zero means DefaultGrace.
	Grace time.Duration
	// Now is the clock; tests replace it. Zero means time.Now.
	Now func() time.Time
}

// StepError is returned when a step fails; it carries the step's name so
// that the error is reported once, with the step it came from.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Run runs steps in order and returns one Result per step, in order, with
// the error of the first step that failed. On failure or cancellation the
// completed steps since the last commit are reverted in reverse order and
// their results say whether the revert worked; steps after the failure are
// reported as not run.
func (r *Runner[S]) Run(ctx context.Context, steps []Step[S], s S) ([]Result, error) {
	results := make([]Result, len(steps))
	for i, st := range steps {
		results[i] = Result{Name: st.String(), Status: StatusNotRun}
	}
	// revertible holds indexes of completed steps that can be undone.
	var revertible []int
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			// Cancelled between two steps: the step that would have run
			// next is the one the cancellation stopped.
			results[i].Status, results[i].Detail = StatusCancelled, "cancelled before it started"
			r.finished(results[i])
			return results, r.fail(ctx, steps, s, results, revertible, &StepError{Step: st.String(), Err: context.Cause(ctx)})
		}
		if sk, ok := st.(Skipper[S]); ok {
			if reason, skip := sk.Skip(s); skip {
				results[i] = Result{Name: st.String(), Status: StatusSkipped, Detail: reason}
				r.started(st.String())
				r.finished(results[i])
				continue
			}
		}
		r.started(st.String())
		start := r.now()
		err := st.Run(ctx, s)
		results[i].Duration = r.now().Sub(start)
		if err != nil {
			results[i].Status = StatusFailed
			if ctx.Err() != nil {
				results[i].Status = StatusCancelled
			}
			results[i].Detail = err.Error()
			r.finished(results[i])
			return results, r.fail(ctx, steps, s, results, revertible, &StepError{Step: st.String(), Err: err})
		}
		results[i].Status = StatusOK
		if d, ok := st.(Detailer[S]); ok {
			results[i].Detail = d.Detail(s)
		}
		r.finished(results[i])
		if c, ok := st.(Committer); ok && c.Commits() {
			revertible = nil
		}
		if _, ok := st.(Reverter[S]); ok {
			revertible = append(revertible, i)
		}
	}
	return results, nil
}

// fail reverts the revertible steps, newest first, under a context that
// outlives the run's cancellation but not the grace period.
func (r *Runner[S]) fail(ctx context.Context, steps []Step[S], s S, results []Result, revertible []int, cause error) error {
	if len(revertible) == 0 {
		return cause
	}
	grace := r.Grace
	if grace == 0 {
		grace = DefaultGrace
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	errs := []error{cause}
	for k := len(revertible) - 1; k >= 0; k-- {
		i := revertible[k]
		name := steps[i].String()
		r.started("revert " + name)
		start := r.now()
		err := steps[i].(Reverter[S]).Revert(rctx, s)
		results[i].Duration += r.now().Sub(start)
		if err != nil {
			results[i].Status = StatusRevertFailed
			results[i].Detail = err.Error()
			errs = append(errs, fmt.Errorf("reverting %s: %w", name, err))
		} else {
			results[i].Status = StatusReverted
		}
		r.finished(results[i])
	}
	return errors.Join(errs...)
}

func (r *Runner[S]) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner[S]) started(name string) {
	if r.Observer != nil {
		r.Observer.StepStarted(name)
	}
}

func (r *Runner[S]) finished(res Result) {
	if r.Observer != nil {
		r.Observer.StepFinished(res)
	}
}
