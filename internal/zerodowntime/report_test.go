package zerodowntime_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/loadgen"
)

// envReport names a folder where each scenario writes its figures as
// JSON, for scripts/bench.
const envReport = "BLUEGREEN_TRAFFIC_REPORT"

// figures are one scenario's numbers.
type figures struct {
	Scenario string  `json:"scenario"`
	Sent     int     `json:"sent"`
	Lost     int     `json:"lost"`
	Rate     float64 `json:"rate"`
	// P99 during the switch (from the first weight write to the end of
	// the run) and in the steady state before the run, in milliseconds.
	P99SwitchMS float64 `json:"p99_switch_ms"`
	P99SteadyMS float64 `json:"p99_steady_ms"`
	// HealthyToMovedMS is the time from the new color seen healthy (the
	// platform's wait returned) to the answer of the write that gave it
	// all traffic.
	HealthyToMovedMS float64 `json:"healthy_to_moved_ms"`
}

func writeReport(t *testing.T, m measured) {
	dir := os.Getenv(envReport)
	if dir == "" || len(m.records) == 0 {
		return
	}
	f := figures{Scenario: t.Name(), Sent: m.stats.Sent, Lost: m.stats.Lost, Rate: m.stats.Rate}
	start := m.records[0].Start
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if len(m.run.sets) > 0 {
		first := m.run.sets[0].at
		f.P99SteadyMS = ms(loadgen.Percentile(m.records, 99, start, start.Add(settle)))
		// The switch window: from the first weight write until the run
		// ended, and at least switchWindow, so that a switch of a few
		// milliseconds still has a sample worth a percentile.
		f.P99SwitchMS = ms(loadgen.Percentile(m.records, 99, first, maxTime(m.run.end, first.Add(switchWindow))))
		if !m.run.ready.IsZero() {
			f.HealthyToMovedMS = ms(m.run.movedAt().Sub(m.run.ready))
		}
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	_ = os.WriteFile(filepath.Join(dir, filepath.Base(t.Name())+".json"), b, 0o644)
}

// movedAt is when the write that gave one color all traffic was answered.
func (r run) movedAt() time.Time {
	var at time.Time
	for _, s := range r.sets {
		if s.w[color.Blue] == 0 || s.w[color.Green] == 0 {
			at = s.done
		}
	}
	return at
}

// switchWindow is the shortest span after the first weight write counted
// as "during the switch": as long as the steady state measured before it.
var switchWindow = settle

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
