package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/history"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// Run is one command of bluegreen against one application.
type Run struct {
	command command.Name
	opts    Options
	deps    Deps
	// cancel stops the run with a cause: the loss of its lock.
	cancel context.CancelCauseFunc
}

// New returns a run of command c (deploy, prepare, switch, abort,
// rollback, status, history or promote).
func New(c command.Name, opts Options, deps Deps) *Run {
	return &Run{command: c, opts: opts, deps: deps}
}

// steps lists the steps of the command, in order. The order is the
// safety argument of package deploy; read doc.go before changing it.
func (r *Run) steps() []pipeline.Step[*State] {
	switch r.command {
	case command.Deploy:
		return append(r.readyBehindPreview(),
			switchStep{r},
			confirmStep{r},                // commits: no revert past here
			migrateStep{r, migrate.After}, // contract: only once the old release is out
			scaleDownStep{r},
		)
	case command.Prepare:
		// A deploy that stops before the switch: the new color waits
		// warm behind the preview until a switch (or an abort).
		return append(r.readyBehindPreview(), markPreparedStep{r})
	case command.Switch:
		// The rest of a deploy, from a later run: the prepared color is
		// checked against the live system before anything moves.
		return []pipeline.Step[*State]{
			lockStep{r},
			readStep{r},
			findPreparedStep{r},
			switchStep{r},
			confirmStep{r},
			migrateStep{r, migrate.After},
			scaleDownStep{r},
		}
	case command.Abort:
		return []pipeline.Step[*State]{
			lockStep{r},
			readStep{r},
			findPreparedStep{r},
			previewBackStep{r}, // first: the preview must not point at a color going away
			dropPreparedStep{r},
		}
	case command.Split:
		// A deploy that stops with both colors live: no contract
		// migration and no scale-down, since the old release still serves.
		return append(r.readyBehindPreview(),
			switchStep{r},  // one write: split-weight to the new release
			confirmStep{r}, // bakes, and confirms the route shows the split
		)
	case command.Rollback:
		return []pipeline.Step[*State]{
			lockStep{r},
			readStep{r},
			chooseStep{r},
			scaleUpStep{r},
			rollbackWait{waitStep{r}},
			switchStep{r},
			confirmStep{r},
		}
	case command.Status:
		return []pipeline.Step[*State]{readStep{r}, waitingStep{r}}
	case command.Promote:
		return []pipeline.Step[*State]{promoteStep{r}}
	case command.History:
		return []pipeline.Step[*State]{readStep{r}, historyStep{r}}
	}
	return nil
}

// readyBehindPreview is the first half of deploy, prepare and split: the
// new release deployed to the idle color, ready, checked through the
// preview and its expand migrations run, with no traffic moved yet.
func (r *Run) readyBehindPreview() []pipeline.Step[*State] {
	return []pipeline.Step[*State]{
		promoteStep{r}, // before the lock: copying can take minutes
		lockStep{r},
		readStep{r},
		deployStep{r},
		waitStep{r},
		previewStep{r},
		verifyStep{r},
		migrateStep{r, migrate.Before}, // expand: the old release must still work
	}
}

// deploys reports whether the command starts the new release itself.
func (r *Run) deploys() bool {
	return r.command.Deploys()
}

// wantImage is the image the target color must run once switched.
func (r *Run) wantImage(s *State) string {
	switch {
	case r.deploys():
		return s.Release.Image
	case s.Prepared != nil:
		return s.Prepared.Image
	}
	return s.Colors[s.Target].Release.Image
}

// Execute runs the command and returns what to report. The error is the
// run's failure, if any; the result says so too.
func (r *Run) Execute(ctx context.Context) (report.Result, error) {
	res := report.Result{Command: r.command, App: r.opts.App, DryRun: r.opts.DryRun, Started: time.Now()}
	if r.deploys() {
		res.Image, res.Digest = r.opts.Release.Image, r.opts.Release.Digest
	}
	s := &State{Release: r.opts.Release}
	ctx, r.cancel = context.WithCancelCause(ctx)
	defer r.cancel(nil)
	runner := pipeline.Runner[*State]{Observer: r.deps.Reporter, Grace: r.opts.Grace}
	steps, err := runner.Run(ctx, r.steps(), s)
	res.Steps = steps

	// From here on the run's context may be cancelled; what is left
	// (recording history, releasing the lock, reading the final state)
	// must still happen, briefly.
	after, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	r.record(after, s, err)
	if s.lock != nil {
		// A lock lost to another run is left to it: only a loss from
		// failed renewals, with the record still ours, is worth a word.
		if uerr := s.lock.Release(after); uerr != nil && (s.lockLost() == nil || !errors.Is(uerr, lock.ErrLost)) {
			r.deps.Reporter.Warning(fmt.Sprintf("releasing the deploy lock: %v", uerr))
		}
	}
	lost := s.lockLost()
	if r.deploys() || r.command == command.Promote {
		res.Image, res.Digest = s.Release.Image, s.Release.Digest
	}
	if r.command == command.Promote {
		res.Outcome = report.Success
		if err != nil {
			res.Outcome, res.Error = report.Failed, err.Error()
		}
		res.Finished = time.Now()
		return res, err
	}
	res.PreviousColor = s.Live.String()
	if s.Colors == nil {
		// The live state was never read (the lock was refused, or the
		// read failed): which color served is not known, not "none".
		res.PreviousColor = "unknown"
	}
	res.Changed = s.Switched && !s.RolledBack
	res.Colors, res.ActiveColor = r.finalState(after, s)
	res.Notes = append(res.Notes, s.Notes...)
	res.Traffic = s.Traffic
	switch {
	case lost != nil:
		// Another run may be writing now: this one stopped at the loss
		// and wrote nothing after it, so it neither reverted nor
		// finished, whatever its steps say.
		err = fmt.Errorf("%w; this run stopped and wrote nothing more (no route, revert, scale or history). Now %s",
			lost, colorsNow(res.Colors))
	case s.RevertFailed:
		err = errors.Join(fmt.Errorf("traffic could not be put back to %s: %s. To put it back, run bluegreen with command: rollback",
			s.Previous.Live(), colorsNow(res.Colors)), err)
	}
	switch {
	case err == nil && r.command == command.Split && s.Switched && !r.opts.DryRun:
		// Both colors serve; the new release is the one the run brought.
		res.Outcome, res.ActiveColor = report.Split, s.Target.String()
		res.Notes = append(res.Notes, r.splitNotes(s)...)
	case err == nil && r.command == command.Prepare && !s.UpToDate && !r.opts.DryRun:
		res.Outcome = report.Prepared
		res.Notes = append(res.Notes, r.howToFinish(s)...)
	case err == nil:
		res.Outcome = report.Success
	case lost != nil:
		res.Outcome = report.Failed
	case s.RevertFailed:
		res.Outcome = report.RevertFailed
	case s.RolledBack:
		res.Outcome = report.RolledBack
	default:
		res.Outcome = report.Failed
	}
	if (r.command == command.Rollback || s.Finishing && r.command == command.Switch) && err == nil && s.Target != color.None {
		res.Image = s.Colors[s.Target].Release.Image
		res.Digest = s.Colors[s.Target].Release.Digest
	}
	if s.Prepared != nil && !r.deploys() && r.command != command.Status {
		res.Image, res.Digest = s.Prepared.Image, s.Prepared.Digest
	}
	if err != nil {
		res.Error = err.Error()
	}
	res.Finished = time.Now()
	return res, err
}

// record appends the run to the history when it tried to change what is
// live. A failure to record is a warning: the deploy itself is done.
func (r *Run) record(ctx context.Context, s *State, err error) {
	if r.opts.DryRun || r.deps.History == nil {
		return
	}
	if (s.lock == nil && r.deps.Locker != nil) || s.recorded || s.UpToDate || s.Target == color.None {
		return // never got the lock, recorded already, or nothing was to change
	}
	switch r.command {
	case command.Deploy, command.Rollback, command.Split:
	case command.Prepare:
		if err == nil || !s.Deployed {
			return // recorded by its last step, or nothing replaced
		}
	case command.Switch, command.Abort:
		if s.Prepared == nil && !(s.Finishing && r.command == command.Switch) {
			return // refused before any write
		}
	default:
		return
	}
	e := history.Entry{
		Time: time.Now().UTC(), Command: r.command, Color: s.Target.String(),
		GitSHA: s.Release.GitSHA, RunURL: s.Release.RunURL, Result: r.historyResult(s),
	}
	switch {
	case r.deploys():
		e.Image, e.Digest = s.Release.Image, s.Release.Digest
	case s.Prepared != nil:
		e.Image, e.Digest, e.Revision = s.Prepared.Image, s.Prepared.Digest, s.Prepared.Revision
	default:
		// A rollback names the revision it went back to: it may be one
		// bluegreen never deployed, which only that can find.
		t := s.Colors[s.Target]
		e.Image, e.Digest, e.Revision = t.Release.Image, t.Release.Digest, t.Spec
	}
	if r.command == command.Abort && err == nil {
		e.Result = history.ResultAborted
	}
	switch {
	case err != nil && s.RevertFailed:
		e.Result = string(report.RevertFailed)
	case err != nil && s.RolledBack:
		e.Result = string(report.RolledBack)
	case err != nil:
		e.Result = string(report.Failed)
	}
	if werr := r.mayWrite(ctx, s, "recording history"); werr != nil {
		if !errors.Is(werr, lock.ErrLost) {
			r.deps.Reporter.Warning(fmt.Sprintf("recording history: %v", werr))
		}
		return
	}
	s.recorded = true
	if herr := r.deps.History.Append(ctx, e); herr != nil {
		r.deps.Reporter.Warning(fmt.Sprintf("recording history: %v", herr))
	}
}

// finalState reads, from the live system, what each color holds now, so
// the report says where things stand even after a failure or cancel.
func (r *Run) finalState(ctx context.Context, s *State) ([]report.ColorState, string) {
	w, err := r.deps.Router.Read(ctx)
	if err != nil {
		r.deps.Reporter.Warning(fmt.Sprintf("reading the final routing: %v", err))
		return nil, "unknown"
	}
	live := w.Live()
	var out []report.ColorState
	for _, c := range color.All {
		st, err := r.deps.Platform.Describe(ctx, c)
		if err != nil {
			r.deps.Reporter.Warning(fmt.Sprintf("reading %s: %v", c, err))
			continue
		}
		cs := report.ColorState{
			Color: c.String(), Live: w[c] > 0, Weight: w[c], Image: st.Release.Image, Digest: st.Release.Digest,
			Ready: st.Ready, Desired: st.Desired, State: describe(st.Exists, st.Healthy, w[c], st.Ready, st.Desired),
		}
		if st.OutOfService && w[c] == 0 {
			cs.State = "idle, out of service (not health-checked; a rollback rechecks it first)"
		}
		if s.Colors != nil && s.Colors[c].Release.GitSHA != "" {
			cs.Revision = st.Release.GitSHA
		}
		if p := s.Prepared; p != nil && (r.command == command.Prepare || r.command == command.Status) && p.Color == c.String() && w[c] == 0 && st.Healthy && st.Spec == p.Revision {
			// Not a color kept for rollback: the next release, waiting.
			cs.State = "prepared, waiting for switch"
		}
		out = append(out, cs)
	}
	return out, live.String()
}

func describe(exists, healthy bool, weight int, ready, desired int32) string {
	switch {
	case !exists:
		return "not deployed"
	case weight > 0 && healthy:
		return "serving"
	case weight > 0:
		return fmt.Sprintf("serving, NOT healthy (%d/%d ready)", ready, desired)
	case desired == 0:
		return "scaled to 0"
	case healthy:
		return "warm (idle, ready for rollback)"
	default:
		return fmt.Sprintf("idle, not ready (%d/%d ready)", ready, desired)
	}
}
