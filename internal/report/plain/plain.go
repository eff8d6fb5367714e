package plain

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// DefaultProgressInterval is the least time between two progress lines.
const DefaultProgressInterval = 5 * time.Second

// indent sets lines written during a step apart from the step headers.
const indent = "    "

// statusWidth fits the longest step status, "revert failed", so that the
// step names after it line up.
const statusWidth = len(pipeline.StatusRevertFailed)

var _ report.Reporter = (*Reporter)(nil)

// Reporter writes a run as plain text. Create it with New.
type Reporter struct {
	w          io.Writer
	resultFile string
	now        func() time.Time
	interval   time.Duration

	mu           sync.Mutex
	inStep       bool      // a step has started and not finished
	lastProgress time.Time // when the last progress line was written
	progressed   bool      // whether lastProgress is set
	secrets      report.Masker
}

// Option configures a Reporter.
type Option func(*Reporter)

// WithResultFile makes Finish write the result as JSON to path, replacing
// the file in one step so a reader never sees half of it.
func WithResultFile(path string) Option {
	return func(r *Reporter) { r.resultFile = path }
}

// WithClock sets the clock that paces progress lines. The default is
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(r *Reporter) {
		if now != nil {
			r.now = now
		}
	}
}

// WithProgressInterval sets the least time between two progress lines;
// lines that come sooner are dropped. Zero or less writes every line. The
// default is DefaultProgressInterval.
func WithProgressInterval(d time.Duration) Option {
	return func(r *Reporter) { r.interval = d }
}

// New returns a Reporter that writes to w, or to os.Stdout if w is nil.
func New(w io.Writer, opts ...Option) *Reporter {
	if w == nil {
		w = os.Stdout
	}
	r := &Reporter{w: w, now: time.Now, interval: DefaultProgressInterval}
	for _, opt := range opts {
		if opt != nil {
			opt(r)
		}
	}
	return r
}

// StepStarted writes "==> name".
func (r *Reporter) StepStarted(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines("==> ", name)
	r.inStep = true
}

// StepFinished writes the step's status, name, duration and detail, with
// statuses padded so the names line up:
//
//	ok             lock  (120ms)  held by run 42
//	skipped        migrate  no migrations configured
func (r *Reporter) StepFinished(res pipeline.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := fmt.Sprintf("%-*s  %s", statusWidth, res.Status, res.Name)
	if res.Duration > 0 || ran(res.Status) {
		line += "  (" + report.FormatDuration(res.Duration) + ")"
	}
	if res.Detail != "" {
		// Further lines of a detail (a wrapped API error) start under the
		// step name rather than under the status.
		cont := "\n" + strings.Repeat(" ", statusWidth+2)
		line += "  " + strings.ReplaceAll(strings.TrimRight(lineBreaks.Replace(res.Detail), "\n"), "\n", cont)
	}
	r.lines(indent, line)
	r.inStep = false
}

// ran reports whether a step with status s did any work, so that a zero
// duration is a measurement rather than a placeholder.
func ran(s pipeline.Status) bool {
	return s != pipeline.StatusSkipped && s != pipeline.StatusNotRun
}

// Mask remembers secret so that it is written as *** from now on. Each
// line of a multi-line secret is also masked alone, as a CI runner would,
// in case a line of it is printed by itself.
func (r *Reporter) Mask(secret string) {
	r.secrets.Add(secret)
}

// Redact returns s with every credential given to Mask replaced by ***,
// for text written elsewhere than the log, such as errors on stderr.
func (r *Reporter) Redact(s string) string { return r.secrets.Text(s) }

// Info writes a line of the run's log, indented while a step runs.
func (r *Reporter) Info(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines(r.indent(), msg)
}

// Progress writes a line like Info unless another progress line was
// written less than the progress interval ago.
func (r *Reporter) Progress(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.progressed && r.interval > 0 && now.Sub(r.lastProgress) < r.interval {
		return
	}
	r.progressed, r.lastProgress = true, now
	r.lines(r.indent(), msg)
}

// Warning writes msg with each line prefixed "warning: ", flush left so
// that grep '^warning:' finds every one.
func (r *Reporter) Warning(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines("warning: ", msg)
}

// Error writes msg with each line prefixed "error: ".
func (r *Reporter) Error(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines("error: ", msg)
}

// Finish writes the summary block and, if a result file was set, the JSON
// result.
func (r *Reporter) Finish(res report.Result) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inStep = false
	r.write(r.secrets.Text(summary(res)))
	if r.resultFile == "" {
		return nil
	}
	b, err := encodeResult(res)
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	if err := writeFileAtomic(r.resultFile, r.secrets.JSON(b)); err != nil {
		return fmt.Errorf("writing result file %q: %w", r.resultFile, err)
	}
	return nil
}

func (r *Reporter) indent() string {
	if r.inStep {
		return indent
	}
	return ""
}

// lines masks msg, then writes each of its lines after prefix. Masking
// comes first so that a multi-line secret is still matched whole.
func (r *Reporter) lines(prefix, msg string) {
	// A carriage return ends a line for a terminal and for CI runners
	// alike: each piece gets the prefix, so that none can pass for a
	// workflow command.
	msg = strings.TrimSuffix(lineBreaks.Replace(r.secrets.Text(msg)), "\n")
	var b strings.Builder
	for line := range strings.SplitSeq(msg, "\n") {
		if isCommand(prefix + line) {
			// This output may be read by a GitHub runner (the image
			// run as a plain container in a workflow step): a line
			// it would obey is shown quoted instead.
			line = strconv.Quote(line)
		}
		b.WriteString(prefix + line + "\n")
	}
	r.write(b.String())
}

// isCommand reports whether a GitHub runner would parse line as a
// workflow command: "::" after leading blanks, or the older "##[" anywhere.
func isCommand(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") ||
		strings.Contains(line, "##[")
}

// lineBreaks turns every line break into "\n".
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// write ignores errors: the log is best effort, and a closed terminal must
// not abort a deploy half way through a switch.
func (r *Reporter) write(s string) {
	_, _ = io.WriteString(r.w, s)
}
