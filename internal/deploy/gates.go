package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/gate"
)

// gateErrorLimit is how many reads of a gate in a row may fail before the
// watch fails: one lost answer from a metrics source is not a verdict, a
// source that stays silent is (a gate that cannot be read does not pass).
const gateErrorLimit = 3

// checkGates reads every metric gate once, records each reading for the
// report, and fails when a gate fails or could not be read gateErrorLimit
// times in a row. errs counts the failed reads of each gate.
func (r *Run) checkGates(ctx context.Context, s *State, what string, errs map[string]int) error {
	when := what
	if n := len(s.Traffic); n > 0 {
		p := s.Traffic[n-1]
		when = fmt.Sprintf("%s (blue %d%% / green %d%%)", what, p.Blue, p.Green)
	}
	for _, g := range r.deps.Gates {
		reading, err := g.Check(ctx)
		c := gate.Check{Time: time.Now(), When: when, Gate: g.String(), Reading: reading}
		if err != nil {
			c.Err = err.Error()
		}
		s.GateChecks = append(s.GateChecks, c)
		s.note(gateLine(c))
		switch {
		case err != nil:
			errs[g.String()]++
			if errs[g.String()] >= gateErrorLimit {
				return fmt.Errorf("%s: gate %s could not be read %d times in a row: %w", what, g, gateErrorLimit, err)
			}
		case reading.Failing:
			return fmt.Errorf("%s: gate %s failed: %s", what, g, reading.Value)
		default:
			errs[g.String()] = 0
		}
	}
	return nil
}

// gateLine is one reading as the report shows it.
func gateLine(c gate.Check) string {
	verdict, value := "pass", c.Reading.Value
	switch {
	case c.Err != "":
		verdict, value = "unread", c.Err
	case c.Reading.Failing:
		verdict = "FAIL"
	}
	return fmt.Sprintf("gate %s at %s %s: %s (%s)", c.Gate, c.When, c.Time.UTC().Format("15:04:05"), value, verdict)
}
