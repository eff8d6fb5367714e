package modes

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/github"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/nextstep"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
)

// sink is where a CI run reports: its reporter, and stderr for what an
// error says outside GitHub Actions and for a report that cannot be
// written.
type sink struct {
	rep    report.Reporter
	github bool
	stderr io.Writer
}

func newReporter(onGitHub bool, getenv func(string) string, stdout io.Writer, resultFile string) report.Reporter {
	if onGitHub {
		return github.New(github.WithWriter(stdout), github.WithGetenv(getenv))
	}
	return plain.New(stdout, plain.WithResultFile(resultFile))
}

// finish writes the report of a run. A report that cannot be written is
// said on stderr, but it does not change the exit status: the deploy
// happened (or failed) whatever the report says, and a CI that saw exit 1
// after a successful deploy would retry or roll back for nothing.
func (s sink) finish(res report.Result) {
	if ferr := s.rep.Finish(res); ferr != nil {
		fmt.Fprintln(s.stderr, s.rep.Redact("bluegreen: warning: writing the report: "+ferr.Error()))
	}
}

// fail reports err once (an annotation on GitHub, stderr elsewhere) and
// returns the exit status: 2 for a bad input, 1 otherwise.
func (s sink) fail(res report.Result, err error) int {
	code := ExitFailed
	if config.IsInputError(err) {
		code = ExitInput
	}
	res.Error = err.Error()
	res.NextStep = nextstep.For(err, time.Now())
	res.Finished = time.Now()
	if res.Outcome == "" || res.Outcome == report.Success {
		res.Outcome = report.Failed
	}
	for _, line := range errorLines(err) {
		if s.github {
			s.rep.Error(line)
		} else {
			// Errors quote what the deployed systems answered: they go
			// through the same masker as the log, and each of their
			// lines is prefixed, a carriage return counting as a line
			// break, so none can pass for a workflow command of a
			// runner that reads this output.
			for _, l := range strings.Split(lineBreaks.Replace(s.rep.Redact(line)), "\n") {
				fmt.Fprintln(s.stderr, "bluegreen: "+l)
			}
		}
	}
	if !s.github && res.NextStep != "" {
		// On GitHub the closing notice and the summary carry it.
		for line := range strings.SplitSeq(report.Wrap("next step: "+res.NextStep, 100), "\n") {
			fmt.Fprintln(s.stderr, s.rep.Redact("bluegreen: "+line))
		}
	}
	s.finish(res)
	return code
}

// lineBreaks turns every line break a CI runner knows into "\n".
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// errorLines splits a joined error into one line per problem, so each
// becomes its own annotation.
func errorLines(err error) []string {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) && config.IsInputError(err) {
		var lines []string
		for _, e := range joined.Unwrap() {
			lines = append(lines, e.Error())
		}
		return lines
	}
	return []string{err.Error()}
}
