// Package report tells the CI what a run did: step groups, progress lines,
// annotations, masked credentials, outputs and a final summary. The github
// package speaks the GitHub Actions runner's file commands; the plain
// package writes readable lines and an optional JSON result file for every
// other CI.
package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
)

// Outcome is the overall result of a run, as written to the `result` output.
type Outcome string

// Outcomes.
const (
	Success    Outcome = "success"
	Failed     Outcome = "failed"
	RolledBack Outcome = "rolled-back"
	// Prepared is a prepare that left the new release warm behind the
	// preview, waiting for command switch (or abort).
	Prepared Outcome = "prepared"
	// RevertFailed: the run failed after moving traffic and could not
	// confirm, by a read, that traffic is back where it was.
	RevertFailed Outcome = "revert-failed"
	// Split is a split that left both colors live at the asked weights.
	Split Outcome = "split"
)

// Reporter receives everything a run has to tell the CI. Implementations
// must be safe for use from the goroutine that runs steps and from one
// progress goroutine at a time.
type Reporter interface {
	pipeline.Observer

	// Mask hides a credential from every later line of the CI log. It must
	// be called before the secret is used.
	Mask(secret string)
	// Redact returns s with every credential given to Mask replaced, for
	// text the reporter does not write itself (errors on stderr).
	Redact(s string) string
	// Info prints a line of the run's log.
	Info(msg string)
	// Progress prints a line about a long wait; implementations drop lines
	// that come faster than one every few seconds.
	Progress(msg string)
	// Warning and Error annotate the run.
	Warning(msg string)
	Error(msg string)
	// Finish writes outputs and the summary (or result file) for r.
	Finish(r Result) error
}

// ColorState is what runs in one color at the end of a run, for the report.
type ColorState struct {
	Color    string `json:"color"`
	Live     bool   `json:"live"`
	Weight   int    `json:"weight"`
	Image    string `json:"image,omitempty"`
	Digest   string `json:"digest,omitempty"`
	Ready    int32  `json:"ready"`
	Desired  int32  `json:"desired"`
	Revision string `json:"revision,omitempty"`
	// State is a short human description: "serving", "warm", "scaled to 0",
	// "not deployed", "deploying (1/3 ready)".
	State string `json:"state"`
}

// Result is every fact a run reports. Outputs, the step summary and the
// JSON result file are all rendered from it, so they cannot disagree.
type Result struct {
	Command       command.Name `json:"command"`
	App           string       `json:"app"`
	Platform      string       `json:"platform"`
	Router        string       `json:"router,omitempty"`
	Target        string       `json:"target,omitempty"` // cluster/namespace, ECS cluster...
	Outcome       Outcome      `json:"result"`
	DryRun        bool         `json:"dry_run"`
	Changed       bool         `json:"changed"`
	Image         string       `json:"image,omitempty"`
	Digest        string       `json:"digest,omitempty"`
	PreviousColor string       `json:"previous_color"`
	ActiveColor   string       `json:"active_color"`
	Error         string       `json:"error,omitempty"`
	// NextStep says what to do about Error, where the cause is known.
	NextStep string            `json:"next_step,omitempty"`
	Colors   []ColorState      `json:"colors,omitempty"`
	Steps    []pipeline.Result `json:"steps"`
	// Extra holds command-specific tables (history entries, dry-run
	// changes), rendered as a list under the summary.
	Notes []string `json:"notes,omitempty"`
	// Traffic is the split found at the start and every split the run
	// set after it, in order.
	Traffic  []TrafficPoint `json:"traffic,omitempty"`
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	AWSCalls int            `json:"aws_calls,omitempty"`
	// Version is bluegreen's own version, so that a report says which
	// release of the tool wrote it.
	Version string `json:"version,omitempty"`
}

// Outputs returns the action outputs of r, in a fixed order.
func (r Result) Outputs() [][2]string {
	changed := "false"
	if r.Changed {
		changed = "true"
	}
	return [][2]string{
		{"result", string(r.Outcome)},
		{"active-color", r.ActiveColor},
		{"previous-color", r.PreviousColor},
		{"image", r.Image},
		{"digest", r.Digest},
		{"changed", changed},
	}
}

// NotRun returns the names of the steps that never ran. A failed run
// lists them in one line rather than a row each: what matters is where
// it stopped.
func (r Result) NotRun() []string {
	var names []string
	for _, s := range r.Steps {
		if s.Status == pipeline.StatusNotRun {
			names = append(names, s.Name)
		}
	}
	return names
}

// InError reports whether a step's detail is already part of the run's
// error, so that a report can say it once, in the error.
func (r Result) InError(s pipeline.Result) bool {
	return r.Error != "" && strings.TrimSpace(s.Detail) != "" && strings.Contains(r.Error, s.Detail)
}

// NotRunLine says which steps never ran: "3 steps not run: a, b, c".
func NotRunLine(names []string) string {
	noun := "steps"
	if len(names) == 1 {
		noun = "step"
	}
	return fmt.Sprintf("%d %s not run: %s", len(names), noun, strings.Join(names, ", "))
}

// Wrap breaks the lines of s longer than width at spaces, so that a long
// error (an ARN, a wrapped API message) reads without scrolling. Words
// longer than width stay whole.
func Wrap(s string, width int) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		// Continuation lines are indented so that a reader can tell a
		// wrapped line from the next one of the message.
		prefix := ""
		for len(prefix)+len(line) > width {
			room := width - len(prefix)
			cut := strings.LastIndexByte(line[:room+1], ' ')
			if cut <= 0 {
				if cut = strings.IndexByte(line, ' '); cut <= 0 {
					break
				}
			}
			out = append(out, prefix+line[:cut])
			line = strings.TrimLeft(line[cut:], " ")
			prefix = "  "
		}
		out = append(out, prefix+line)
	}
	return strings.Join(out, "\n")
}

// FormatDuration rounds d for people reading a report: 340ms, 1.2s, 2m3s,
// 1h5m. Sub-second precision stops mattering once a step takes minutes, so
// each range keeps only its useful digits.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		if r := d.Round(time.Millisecond); r < time.Second {
			return r.String()
		}
		d = time.Second
	}
	if d < time.Minute {
		if r := d.Round(100 * time.Millisecond); r < time.Minute {
			return r.String()
		}
		d = time.Minute
	}
	if d < time.Hour {
		if r := d.Round(time.Second); r < time.Hour {
			return trimZero(r.String(), "m0s")
		}
		d = time.Hour
	}
	return trimZero(trimZero(d.Round(time.Minute).String(), "m0s"), "h0m")
}

// trimZero drops a zero last unit: trimZero("2m0s", "m0s") is "2m".
func trimZero(s, suffix string) string {
	if strings.HasSuffix(s, suffix) {
		return s[:len(s)-len(suffix)+1]
	}
	return s
}
