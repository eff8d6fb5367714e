// Package gate holds metric gates: checks of the live system's metrics
// made between traffic steps and during the bake. A failing gate makes
// the run put traffic back. Each gate is also checked once before any
// write, so that a query or alarm name that cannot work is a bad input.
package gate

import (
	"context"
	"errors"
	"time"
)

// Errors of Validate, so that set-up can name the input at fault.
var (
	// ErrBadQuery: the metrics source refuses the expression.
	ErrBadQuery = errors.New("invalid query")
	// ErrUnknownAlarm: an alarm name matches no alarm.
	ErrUnknownAlarm = errors.New("unknown alarm")
	// ErrUnreachable: the metrics source does not answer.
	ErrUnreachable = errors.New("metrics source unreachable")
)

// Reading is what one check of a gate found.
type Reading struct {
	// Value is what the metric said, for the report: a sample value, a
	// list of alarm states, "no samples".
	Value string
	// Failing is the gate's verdict: the deploy must not go on.
	Failing bool
}

// Gate is one metric gate.
type Gate interface {
	// String names the gate in reports.
	String() string
	// Validate checks, before any write, that the gate can be read.
	Validate(ctx context.Context) error
	// Check reads the metric now.
	Check(ctx context.Context) (Reading, error)
}

// Check is one reading of one gate at one moment of the run, for the
// summary.
type Check struct {
	Time time.Time
	// When names the moment: "step 10%", "bake".
	When    string
	Gate    string
	Reading Reading
	Err     string
}
