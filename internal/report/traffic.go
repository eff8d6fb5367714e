package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
)

// TrafficPoint is the share of traffic each color had from At on, as the
// run found it (the first point) or set it (every later one). Step names
// what set it: the read at the start, a traffic step, a revert.
type TrafficPoint struct {
	At    time.Time `json:"at"`
	Blue  int       `json:"blue"`
	Green int       `json:"green"`
	Step  string    `json:"step,omitempty"`
}

// Moved reports whether the run changed the traffic at all: only then is
// there something to draw.
func (r Result) Moved() bool { return len(r.Traffic) > 1 }

// TrafficChart renders, in GitHub-flavoured Markdown, the weight of each
// color over the run as a mermaid line chart (blue line blue, green line
// green) and the steps as a mermaid timeline. It is empty when the traffic
// never moved.
func TrafficChart(r Result) string {
	if !r.Moved() {
		return ""
	}
	var b strings.Builder
	b.WriteString("#### Traffic\n\n```mermaid\n")
	// xychart has no legend: the palette makes the first line blue and the
	// second green, and the title says so.
	b.WriteString(`%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#1f6feb, #2da44e"}}}}%%` + "\n")
	b.WriteString("xychart-beta\n")
	b.WriteString("    title \"Percent of traffic: blue line blue, green line green\"\n")
	labels := make([]string, len(r.Traffic))
	blue := make([]string, len(r.Traffic))
	green := make([]string, len(r.Traffic))
	start := r.Traffic[0].At
	for i, p := range r.Traffic {
		labels[i] = fmt.Sprintf("%q", "+"+FormatDuration(p.At.Sub(start)))
		if i == 0 {
			labels[i] = `"start"`
		}
		blue[i], green[i] = fmt.Sprint(p.Blue), fmt.Sprint(p.Green)
	}
	fmt.Fprintf(&b, "    x-axis [%s]\n", strings.Join(labels, ", "))
	b.WriteString("    y-axis \"% of traffic\" 0 --> 100\n")
	fmt.Fprintf(&b, "    line [%s]\n", strings.Join(blue, ", "))
	fmt.Fprintf(&b, "    line [%s]\n", strings.Join(green, ", "))
	b.WriteString("```\n\n")
	if t := stepTimeline(r); t != "" {
		b.WriteString("```mermaid\n" + t + "```\n\n")
	}
	return b.String()
}

// stepTimeline is a mermaid gantt chart of the steps that ran. Steps run
// one after the other, so each starts when the one before it ended.
func stepTimeline(r Result) string {
	if r.Started.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteString("gantt\n    title Steps\n    dateFormat x\n    axisFormat %M:%S\n")
	at := r.Started
	n := 0
	for _, s := range r.Steps {
		if s.Status != pipeline.StatusOK && s.Status != pipeline.StatusFailed && s.Status != pipeline.StatusReverted {
			continue
		}
		d := max(s.Duration, time.Millisecond) // a zero-length bar is not drawn
		tag := ""
		switch s.Status {
		case pipeline.StatusFailed:
			tag = "crit, "
		case pipeline.StatusReverted:
			tag = "active, "
		}
		// A task name ends at the colon that starts its data.
		name := strings.NewReplacer(":", " ", "#", " ", ";", " ").Replace(s.Name)
		fmt.Fprintf(&b, "    %s :%s%d, %d\n", name, tag, at.UnixMilli(), at.Add(d).UnixMilli())
		at = at.Add(s.Duration)
		n++
	}
	if n == 0 {
		return ""
	}
	return b.String()
}

// TrafficTable is the same history as TrafficChart as plain text lines, one
// per change, for CIs that render no Markdown. Empty when nothing moved.
func TrafficTable(r Result) []string {
	if !r.Moved() {
		return nil
	}
	start := r.Traffic[0].At
	out := []string{"traffic   at      blue   green  step"}
	for i, p := range r.Traffic {
		at := "start"
		if i > 0 {
			at = "+" + FormatDuration(p.At.Sub(start))
		}
		line := fmt.Sprintf("          %-7s %3d%%   %3d%%   %s", at, p.Blue, p.Green, strings.Join(strings.Fields(p.Step), " "))
		out = append(out, strings.TrimRight(line, " "))
	}
	return out
}
