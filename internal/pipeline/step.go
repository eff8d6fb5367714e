package pipeline

import (
	"context"
	"time"
)

// Step is one stage of a run. S is the state shared by all steps of a run.
type Step[S any] interface {
	// String names the step in logs and reports.
	String() string
	// Run does the step's work. It must return promptly when ctx is done.
	Run(ctx context.Context, s S) error
}

// Skipper is implemented by steps that may not apply to a run. A skip is
// not an error: the reason is reported and the run goes on.
type Skipper[S any] interface {
	Skip(s S) (reason string, skip bool)
}

// Reverter is implemented by steps whose effect must be undone when a later
// step fails before the run commits. Revert gets a context that is not
// cancelled by the run's cancellation, only bounded by a grace period.
type Reverter[S any] interface {
	Revert(ctx context.Context, s S) error
}

// Committer is implemented by steps after whose success the run must no
// longer be undone: for a deploy, the step that confirms the new release
// is serving. Steps completed before it are never reverted.
type Committer interface {
	Commits() bool
}

// Detailer is implemented by steps that report a one-line outcome (what
// they changed or found) once they have run.
type Detailer[S any] interface {
	Detail(s S) string
}

// Status is what happened to a step.
type Status string

// Step statuses, as shown in reports.
const (
	StatusOK           Status = "ok"
	StatusSkipped      Status = "skipped"
	StatusFailed       Status = "failed"
	StatusCancelled    Status = "cancelled"
	StatusReverted     Status = "reverted"
	StatusRevertFailed Status = "revert failed"
	StatusNotRun       Status = "not run"
)

// Result is the record of one step in a run.
type Result struct {
	Name     string        `json:"name"`
	Status   Status        `json:"status"`
	Duration time.Duration `json:"-"`
	Detail   string        `json:"detail,omitempty"`
}

// Observer is told when steps start and finish, so that a reporter can
// group their output.
type Observer interface {
	StepStarted(name string)
	StepFinished(r Result)
}
