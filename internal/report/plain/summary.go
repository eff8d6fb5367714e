package plain

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// summary renders the block written at the end of a run:
//
//	==> bluegreen deploy of shop: success
//	    image   ghcr.io/acme/shop:1.4.2
//	    live    blue -> green
//	    ...
//
// followed by a table of colors, a table of steps and the notes. The
// error is left out, and a failed step's cell points to it: the caller
// reports it once, on stderr, with the next step when one is known.
func summary(r report.Result) string {
	var b strings.Builder
	b.WriteString("\n==> " + headline(r) + "\n")

	facts := table(&b)
	fact := func(k, v string) {
		if v != "" {
			fmt.Fprintf(facts, "%s%s\t%s\n", indent, k, cell(v))
		}
	}
	fact("image", r.Image)
	fact("digest", r.Digest)
	where := r.Platform
	if r.Target != "" {
		where += " " + r.Target
	}
	fact("platform", strings.TrimSpace(where))
	fact("router", r.Router)
	if r.AWSCalls > 0 {
		fact("aws calls", fmt.Sprint(r.AWSCalls))
	}
	fact("live", liveText(r))
	if !r.Started.IsZero() && r.Finished.After(r.Started) {
		fact("took", report.FormatDuration(r.Finished.Sub(r.Started)))
	}
	fact("version", r.Version) // bluegreen's own
	_ = facts.Flush()

	if len(r.Colors) > 0 {
		b.WriteString("\n")
		t := table(&b)
		fmt.Fprintf(t, "%scolor\tlive\tweight\tready\tstate\timage\n", indent)
		for _, c := range r.Colors {
			live := "no"
			if c.Live {
				live = "yes"
			}
			fmt.Fprintf(t, "%s%s\t%s\t%d%%\t%d/%d\t%s\t%s\n",
				indent, cell(c.Color), live, c.Weight, c.Ready, c.Desired, cell(c.State), cell(colorImage(c)))
		}
		_ = t.Flush()
	}

	if len(r.Steps) > 0 {
		b.WriteString("\n")
		t := table(&b)
		fmt.Fprintf(t, "%sstep\tstatus\tduration\tdetail\n", indent)
		for _, s := range r.Steps {
			if s.Status == pipeline.StatusNotRun {
				continue
			}
			d := ""
			if s.Duration > 0 || ran(s.Status) {
				d = report.FormatDuration(s.Duration)
			}
			detail := cell(s.Detail)
			if r.InError(s) {
				detail = "see the error"
			}
			fmt.Fprintf(t, "%s%s\t%s\t%s\t%s\n", indent, cell(s.Name), s.Status, d, detail)
		}
		_ = t.Flush()
		if names := r.NotRun(); len(names) > 0 {
			b.WriteString(indent + report.NotRunLine(names) + "\n")
		}
	}

	if lines := report.TrafficTable(r); len(lines) > 0 {
		b.WriteString("\n")
		for _, l := range lines {
			b.WriteString(indent + l + "\n")
		}
	}

	if len(r.Notes) > 0 {
		b.WriteString("\n" + indent + "notes\n")
		for _, n := range r.Notes {
			b.WriteString(indent + "- " + strings.ReplaceAll(strings.TrimRight(n, "\n"), "\n", "\n"+indent+"  ") + "\n")
		}
	}
	return trimLines(b.String())
}

// colorImage shows a color's image with a short digest, enough to tell two
// builds of one tag apart; the run's own digest is printed in full above.
func colorImage(c report.ColorState) string {
	d := c.Digest
	if algo, hexPart, ok := strings.Cut(d, ":"); ok && len(hexPart) > 12 {
		d = algo + ":" + hexPart[:12]
	}
	switch {
	case c.Image == "":
		return d
	case d == "":
		return c.Image
	}
	return c.Image + " (" + d + ")"
}

// table aligns columns two spaces apart.
func table(b *strings.Builder) *tabwriter.Writer {
	return tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
}

// trimLines drops the padding tabwriter leaves after a row whose last
// cells are empty.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// cell keeps a value on one table row: a newline would start a new row and
// a tab a new column.
func cell(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// headline names the run and its outcome: "bluegreen deploy of shop:
// success".
func headline(r report.Result) string {
	return report.Headline(r, " (dry run: nothing was changed)")
}

// liveText says which color took traffic before and after the run.
func liveText(r report.Result) string { return report.LiveText(r, " -> ") }
