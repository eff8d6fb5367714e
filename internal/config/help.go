package config

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

// commandSummaries say in one line what each command does, for help.
var commandSummaries = map[command.Name]string{
	command.Deploy:   "roll `image` out to the idle color, check it, then move traffic to it",
	command.Split:    "roll `image` out to the idle color, check it, then send it `split-weight` percent of traffic",
	command.Prepare:  "deploy `image` to the idle color, check it, and leave it warm behind the preview for approval",
	command.Switch:   "move traffic to the prepared color, after an approval",
	command.Abort:    "drop the prepared color: preview back to the live color, prepared color to 0",
	command.Rollback: "move traffic back to the other color, scaling it up first if needed",
	command.Status:   "show what runs in each color, which one serves traffic, and a release waiting for a switch",
	command.History:  "list past deploys and rollbacks",
	command.Promote:  "copy `source-image` by digest to `ecr-repository` (no Docker daemon); Argo's promote is `switch`",
	command.Verify:   "check `verify-url` until it passes or `verify-timeout`",
}

const helpExit = "Exit status: 0 success, 1 failed or rolled back, 2 bad input (nothing written).\n"

const helpInputs = `Inputs come from the environment, under either name: the action input
(with: wait-timeout), passed by the GitHub runner as INPUT_WAIT-TIMEOUT, or
BLUEGREEN_WAIT_TIMEOUT in any CI. A non-empty action input wins.
`

// WriteHelp writes the help of command c, or of bluegreen as a whole when
// c is empty: what it does and every input it reads, with both
// spellings, its default and its description. It is made from the same
// table as the README's inputs, which a test holds to action.yml.
func WriteHelp(w io.Writer, c command.Name) error {
	var b strings.Builder
	if c == "" {
		writeOverview(&b)
	} else {
		summary, ok := commandSummaries[c]
		if !ok {
			return Errorf("command", "unknown command %q, valid commands are %q", c, command.All())
		}
		fmt.Fprintf(&b, "bluegreen %s: %s\n\n", c, summary)
		fmt.Fprintf(&b, "Usage:\n  bluegreen %s\n\n", c)
		b.WriteString(helpInputs)
		fmt.Fprintf(&b, "\nInputs of %s:\n", c)
		for _, in := range InputsOf(c) {
			writeInput(&b, in, false)
		}
	}
	b.WriteString("\n" + helpExit)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeOverview(b *strings.Builder) {
	b.WriteString("bluegreen: zero-downtime blue/green deploys from any CI\n\n")
	b.WriteString("Usage:\n")
	b.WriteString("  bluegreen [command]          run a command (default: the input command, deploy)\n")
	b.WriteString("  bluegreen <command> --help   the inputs of a command\n")
	b.WriteString("  bluegreen --version\n\n")
	b.WriteString("Commands:\n")
	for _, c := range command.All() {
		fmt.Fprintf(b, "  %-9s %s\n", c, commandSummaries[c])
	}
	b.WriteString("\n" + helpInputs)
	b.WriteString("\nInputs:\n")
	for _, in := range inputs {
		writeInput(b, in, true)
	}
}

// writeInput writes one input: a heading line with both spellings and the
// default, then the description indented and wrapped.
func writeInput(b *strings.Builder, in Input, withCommands bool) {
	fmt.Fprintf(b, "  %s / %s", in.Name, in.Env())
	var notes []string
	if in.Default != "" {
		notes = append(notes, "default "+in.Default)
	}
	if withCommands {
		notes = append(notes, "used by "+commandList(in.Commands))
	}
	if len(notes) > 0 {
		fmt.Fprintf(b, " (%s)", strings.Join(notes, "; "))
	}
	b.WriteString("\n")
	for _, line := range wrap(in.Description, 72) {
		b.WriteString("      " + line + "\n")
	}
}

func commandList(cs []command.Name) string {
	if slices.Equal(cs, command.All()) {
		return "every command"
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// wrap breaks s into lines of at most width characters, at spaces; a word
// longer than width gets a line of its own.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
