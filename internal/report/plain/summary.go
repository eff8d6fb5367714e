package plain

import (
	"fmt"
	"strings"
	"text/tabwriter"

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
// error is left out: the caller reports it once, on stderr.
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
	fact("live", liveText(r))
	if !r.Started.IsZero() && r.Finished.After(r.Started) {
		fact("took", report.FormatDuration(r.Finished.Sub(r.Started)))
	}
	_ = facts.Flush()

	if len(r.Colors) > 0 {
		b.WriteString("\n")
		t := table(&b)
		fmt.Fprintf(t, "%scolor\tlive\tweight\tready\timage\tstate\n", indent)
		for _, c := range r.Colors {
			live := "no"
			if c.Live {
				live = "yes"
			}
			image := c.Image
			if c.Digest != "" {
				image = strings.TrimPrefix(image+"@"+c.Digest, "@")
			}
			fmt.Fprintf(t, "%s%s\t%s\t%d%%\t%d/%d\t%s\t%s\n",
				indent, cell(c.Color), live, c.Weight, c.Ready, c.Desired, cell(image), cell(c.State))
		}
		_ = t.Flush()
	}

	if len(r.Steps) > 0 {
		b.WriteString("\n")
		t := table(&b)
		fmt.Fprintf(t, "%sstep\tstatus\tduration\tdetail\n", indent)
		for _, s := range r.Steps {
			d := ""
			if s.Duration > 0 || ran(s.Status) {
				d = report.FormatDuration(s.Duration)
			}
			// The last column is not padded, so a trailing tab would only
			// leave spaces at the end of the line.
			fmt.Fprintf(t, "%s%s\t%s\t%s\t%s\n", indent, cell(s.Name), s.Status, d, cell(s.Detail))
		}
		_ = t.Flush()
	}

	if len(r.Notes) > 0 {
		b.WriteString("\n" + indent + "notes\n")
		for _, n := range r.Notes {
			b.WriteString(indent + "- " + strings.ReplaceAll(strings.TrimRight(n, "\n"), "\n", "\n"+indent+"  ") + "\n")
		}
	}
	return b.String()
}

// table aligns columns two spaces apart. TrailingSpaces is off, so rows
// end at their last cell.
func table(b *strings.Builder) *tabwriter.Writer {
	return tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
}

// cell keeps a value on one table row: a newline would start a new row and
// a tab a new column.
func cell(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// headline names the run and its outcome: "bluegreen deploy of shop:
// success".
func headline(r report.Result) string {
	s := "bluegreen " + orDefault(r.Command, "run")
	if r.App != "" {
		s += " of " + r.App
	}
	s += ": " + orDefault(string(r.Outcome), "unknown")
	if r.DryRun {
		s += " (dry run: nothing was changed)"
	}
	return s
}

// liveText says which color took traffic before and after the run.
func liveText(r report.Result) string {
	prev, next := orDefault(r.PreviousColor, "none"), orDefault(r.ActiveColor, "none")
	switch {
	case prev == next:
		return next + " (unchanged)"
	case r.DryRun:
		return prev + " -> " + next + " (planned)"
	}
	return prev + " -> " + next
}

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
