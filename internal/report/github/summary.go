package github

import (
	"fmt"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// maxSummary is below the runner's 1 MiB limit on a step summary; a larger
// summary is dropped whole, so the long parts are cut instead.
const maxSummary = 1000 * 1024

// maxErrorText bounds the error block of a summary that is too long.
const maxErrorText = 16 * 1024

// summary renders r as the markdown of the job summary page.
func summary(r report.Result) string {
	s := renderSummary(r)
	if len(s) <= maxSummary {
		return s
	}
	if n := len(r.Notes); n > 0 {
		r.Notes = []string{fmt.Sprintf("%d notes left out: the step summary is limited to 1 MiB", n)}
	}
	if len(r.Error) > maxErrorText {
		r.Error = strings.ToValidUTF8(r.Error[:maxErrorText], "") + "\n[cut: the step summary is limited to 1 MiB]"
	}
	return renderSummary(r)
}

func renderSummary(r report.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s %s\n\n", outcomeIcon(r.Outcome), inline(headline(r)))
	if r.DryRun {
		b.WriteString("> **Dry run:** nothing was changed. The steps show what a real run would do.\n\n")
	}
	if s := where(r); s != "" {
		b.WriteString(s + "\n\n")
	}
	b.WriteString("**Live color:** " + inline(liveText(r)))
	if !r.Started.IsZero() && r.Finished.After(r.Started) {
		b.WriteString(" · **Took:** " + report.FormatDuration(r.Finished.Sub(r.Started)))
	}
	if r.Outcome == report.Success && !r.DryRun && !r.Changed {
		b.WriteString(" · nothing needed changing")
	}
	b.WriteString("\n\n")

	if len(r.Steps) > 0 {
		b.WriteString("| Step | Status | Duration | Detail |\n| --- | --- | ---: | --- |\n")
		for _, s := range r.Steps {
			if s.Status == pipeline.StatusNotRun {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n",
				inline(s.Name), statusText(s.Status), stepDuration(s), stepDetail(r, s))
		}
		if names := r.NotRun(); len(names) > 0 {
			b.WriteString("\n" + statusIcons[pipeline.StatusNotRun] + inline(report.NotRunLine(names)) + "\n")
		}
		b.WriteString("\n")
	}

	if len(r.Colors) > 0 {
		b.WriteString("| Color | Live | Weight | Image | Ready | State |\n| --- | --- | ---: | --- | ---: | --- |\n")
		for _, c := range r.Colors {
			live := "no"
			if c.Live {
				live = "**yes**"
			}
			fmt.Fprintf(&b, "| %s | %s | %d%% | %s | %d/%d | %s |\n",
				inline(c.Color), live, c.Weight, colorImage(c), c.Ready, c.Desired, inline(c.State))
		}
		b.WriteString("\n")
	}

	// The weights over the run, drawn by the runner's mermaid renderer;
	// empty when the run left traffic where it found it.
	b.WriteString(report.TrafficChart(r))

	if len(r.Notes) > 0 {
		b.WriteString("#### Notes\n\n")
		for _, n := range r.Notes {
			b.WriteString("- " + inline(n) + "\n")
		}
		b.WriteString("\n")
	}

	if r.Error != "" {
		text := report.Wrap(strings.TrimRight(r.Error, "\n"), wrapWidth)
		fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
		fmt.Fprintf(&b, "#### Error\n\n%s\n%s\n%s\n\n", fence, text, fence)
	}
	if r.NextStep != "" {
		b.WriteString("**Next step:** " + inline(r.NextStep) + "\n\n")
	}
	if r.Version != "" {
		b.WriteString("<sub>bluegreen " + inline(r.Version) + "</sub>\n")
	}
	return b.String()
}

// wrapWidth is where the error block breaks its lines: a code block does
// not wrap on the summary page, and an ARN-laden error would scroll.
const wrapWidth = 100

// stepDetail is a step's detail for its cell, unless the error below says
// it already: the error is said once.
func stepDetail(r report.Result, s pipeline.Result) string {
	if r.InError(s) {
		return "see the error below"
	}
	return inline(s.Detail)
}

// headline names the run and its outcome: "bluegreen deploy of shop:
// success".
func headline(r report.Result) string { return report.Headline(r, " (dry run)") }

// liveText says which color took traffic before and after the run.
func liveText(r report.Result) string { return report.LiveText(r, " → ") }

// where says what ran where: image, digest, platform, target and router.
func where(r report.Result) string {
	var parts []string
	if r.Image != "" {
		parts = append(parts, "**Image:** "+code(r.Image))
	}
	if r.Digest != "" {
		parts = append(parts, "**Digest:** "+code(r.Digest))
	}
	if r.Platform != "" {
		p := "**Platform:** " + inline(r.Platform)
		if r.Target != "" {
			p += " " + code(r.Target)
		}
		parts = append(parts, p)
	}
	if r.Router != "" {
		parts = append(parts, "**Router:** "+inline(r.Router))
	}
	if r.AWSCalls > 0 {
		parts = append(parts, fmt.Sprintf("**AWS API calls:** %d", r.AWSCalls))
	}
	return strings.Join(parts, " · ")
}

func outcomeIcon(o report.Outcome) string {
	switch o {
	case report.Success:
		return "✅"
	case report.Failed:
		return "❌"
	case report.RolledBack:
		return "↩️"
	case report.RevertFailed:
		return "⚠️"
	case report.Split:
		return "🔀"
	case report.Prepared:
		return "⏸️"
	}
	return "❔"
}

var statusIcons = map[pipeline.Status]string{
	pipeline.StatusOK:           "✅ ",
	pipeline.StatusSkipped:      "⏭️ ",
	pipeline.StatusFailed:       "❌ ",
	pipeline.StatusCancelled:    "⛔ ",
	pipeline.StatusReverted:     "↩️ ",
	pipeline.StatusRevertFailed: "⚠️ ",
	pipeline.StatusNotRun:       "➖ ",
}

func statusText(s pipeline.Status) string {
	return statusIcons[s] + inline(string(s))
}

// stepDuration leaves the cell empty for steps that never ran, where 0s
// would read as a measurement.
func stepDuration(s pipeline.Result) string {
	if s.Duration == 0 && (s.Status == pipeline.StatusSkipped || s.Status == pipeline.StatusNotRun) {
		return ""
	}
	return report.FormatDuration(s.Duration)
}

// colorImage shows a color's image with a short digest, enough to tell two
// builds of one tag apart in a table.
func colorImage(c report.ColorState) string {
	var parts []string
	if c.Image != "" {
		parts = append(parts, code(c.Image))
	}
	if d := c.Digest; d != "" {
		if algo, hexPart, ok := strings.Cut(d, ":"); ok && len(hexPart) > 12 {
			d = algo + ":" + hexPart[:12]
		}
		parts = append(parts, code(d))
	}
	return strings.Join(parts, " ")
}

// inlineEscaper makes text from anywhere (step details, API errors) safe
// in a heading, list item or table cell: it cannot split a cell, end a
// line or open an HTML tag, and markdown in it (a link, an image that
// the reader's browser would fetch, emphasis, code) shows as the text it
// is. Escaped brackets are enough to break a link or an image.
var inlineEscaper = strings.NewReplacer(
	`\`, `\\`,
	"|", `\|`,
	"[", `\[`,
	"]", `\]`,
	"!", `\!`,
	"*", `\*`,
	"_", `\_`,
	"`", "\\`",
	"~", `\~`,
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	"\r\n", "<br>",
	"\n", "<br>",
	"\r", "<br>",
)

func inline(s string) string { return inlineEscaper.Replace(s) }

// code shows an identifier (image, digest, target) as code. Identifiers
// hold none of the characters that would break a code span in a table; if
// one does, it is shown as escaped text instead.
func code(s string) string {
	if strings.ContainsAny(s, "`|\r\n") {
		return inline(s)
	}
	return "`" + s + "`"
}

// longestRun returns the length of the longest run of c in s, so that a
// code fence can be made longer than any fence inside the text.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := range len(s) {
		if s[i] != c {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}
