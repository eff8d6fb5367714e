package github

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// DefaultProgressInterval is the least time between two progress lines.
const DefaultProgressInterval = 5 * time.Second

var _ report.Reporter = (*Reporter)(nil)

// Reporter reports a run to the GitHub Actions runner. Create it with New.
type Reporter struct {
	gha      *githubactions.Action
	w        io.Writer
	getenv   func(string) string
	now      func() time.Time
	interval time.Duration
	random   io.Reader

	mu           sync.Mutex
	grouped      bool      // a ::group:: is open
	lastProgress time.Time // when the last progress line was written
	progressed   bool      // whether lastProgress is set
	warnedOutput bool      // the missing $GITHUB_OUTPUT was reported
	// secrets masks what Mask was given in everything written here too:
	// the runner masks the log, but a value written before the runner
	// read its ::add-mask::, or one in a file command, is ours to hide.
	secrets report.Masker
}

// Option configures a Reporter.
type Option func(*Reporter)

// WithWriter sets where workflow commands and log lines go. The default is
// os.Stdout, which the runner reads.
func WithWriter(w io.Writer) Option {
	return func(r *Reporter) {
		if w != nil {
			r.w = w
		}
	}
}

// WithGetenv sets how $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY are looked
// up. The default is os.Getenv.
func WithGetenv(getenv func(string) string) Option {
	return func(r *Reporter) {
		if getenv != nil {
			r.getenv = getenv
		}
	}
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

// WithRandom sets the source of the random heredoc delimiters in
// $GITHUB_OUTPUT and of stop-commands tokens. The default is crypto/rand;
// a guessable source would let a value forge other outputs.
func WithRandom(random io.Reader) Option {
	return func(r *Reporter) {
		if random != nil {
			r.random = random
		}
	}
}

// New returns a Reporter that writes workflow commands to os.Stdout unless
// told otherwise.
func New(opts ...Option) *Reporter {
	r := &Reporter{
		w:        os.Stdout,
		getenv:   os.Getenv,
		now:      time.Now,
		interval: DefaultProgressInterval,
		random:   rand.Reader,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(r)
		}
	}
	r.gha = githubactions.New(
		githubactions.WithWriter(bestEffort{r.w}),
		githubactions.WithGetenv(r.getenv),
	)
	return r
}

// bestEffort hides write errors from go-githubactions, which panics on
// them: a closed log must not abort a deploy half way through a switch.
type bestEffort struct{ w io.Writer }

func (b bestEffort) Write(p []byte) (int, error) {
	_, _ = b.w.Write(p)
	return len(p), nil
}

// StepStarted opens a collapsible group for the step. The runner does not
// nest groups, so a group still open is closed first.
func (r *Reporter) StepStarted(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endGroup()
	r.gha.Group(r.secrets.Text(name))
	r.grouped = true
}

// StepFinished writes the step's status, duration and detail, and closes
// its group.
func (r *Reporter) StepFinished(res pipeline.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := string(res.Status)
	if res.Duration > 0 {
		line += " in " + report.FormatDuration(res.Duration)
	}
	if res.Detail != "" {
		line += ": " + res.Detail
	}
	r.print(line)
	r.endGroup()
}

// Mask asks the runner to hide secret from the log. The runner matches a
// mask within one line only, so each line of a multi-line secret is masked
// on its own; blank lines are skipped because masking them would hide
// every blank in the log and the runner refuses empty masks.
func (r *Reporter) Mask(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets.Add(secret)
	for line := range strings.SplitSeq(lineBreaks.Replace(secret), "\n") {
		if strings.TrimSpace(line) != "" {
			r.gha.AddMask(line)
		}
	}
}

// Info writes a plain log line.
func (r *Reporter) Info(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.print(msg)
}

// Progress writes a plain log line unless another one was written less
// than the progress interval ago.
func (r *Reporter) Progress(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.progressed && r.interval > 0 && now.Sub(r.lastProgress) < r.interval {
		return
	}
	r.progressed, r.lastProgress = true, now
	r.print(msg)
}

// annotationTitle heads every annotation, so that a run's page tells
// bluegreen's annotations from those of other steps.
const annotationTitle = "bluegreen"

// titled returns the runner's writer of annotations with a title.
func (r *Reporter) titled(title string) *githubactions.Action {
	return r.gha.WithFieldsMap(map[string]string{"title": title})
}

// Warning writes a warning annotation.
func (r *Reporter) Warning(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.titled(annotationTitle).Warningf("%s", r.secrets.Text(msg))
}

// Error writes an error annotation.
func (r *Reporter) Error(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.titled(annotationTitle).Errorf("%s", r.secrets.Text(msg))
}

// Redact returns s with every credential given to Mask replaced by ***,
// for text written elsewhere than the log, such as errors on stderr.
func (r *Reporter) Redact(s string) string { return r.secrets.Text(s) }

// Finish closes any open group, appends res's outputs to $GITHUB_OUTPUT
// and its summary to $GITHUB_STEP_SUMMARY, and notes the outcome as an
// annotation. Without $GITHUB_OUTPUT (a run outside Actions, or a runner
// too old for file commands) it warns once and writes no outputs; without
// $GITHUB_STEP_SUMMARY it writes no summary.
func (r *Reporter) Finish(res report.Result) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endGroup()
	var errs []error
	if path := r.getenv("GITHUB_OUTPUT"); path != "" {
		if err := r.writeOutputs(path, res.Outputs()); err != nil {
			errs = append(errs, err)
		}
	} else if !r.warnedOutput {
		r.warnedOutput = true
		r.titled(annotationTitle).Warningf("GITHUB_OUTPUT is not set, so the action's outputs are not written")
	}
	if path := r.getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendFile(path, []byte(r.secrets.Text(summary(res)))); err != nil {
			errs = append(errs, fmt.Errorf("writing step summary: %w", err))
		}
	}
	// The error itself was annotated when it happened; this notice says
	// where things stand and, when known, what to do next.
	msg := "live color: " + liveText(res)
	if res.NextStep != "" {
		msg += "\nNext step: " + res.NextStep
	}
	r.titled(r.secrets.Text(headline(res))).Noticef("%s", r.secrets.Text(msg))
	return errors.Join(errs...)
}

func (r *Reporter) writeOutputs(path string, outputs [][2]string) error {
	for i := range outputs {
		outputs[i][1] = r.secrets.Text(outputs[i][1])
	}
	b, err := encodeOutputs(outputs, r.random)
	if err != nil {
		return fmt.Errorf("encoding outputs: %w", err)
	}
	if err := appendFile(path, b); err != nil {
		return fmt.Errorf("writing outputs: %w", err)
	}
	return nil
}

func (r *Reporter) endGroup() {
	if r.grouped {
		r.gha.EndGroup()
		r.grouped = false
	}
}

// print writes msg as plain log lines. Messages carry text from the systems
// being deployed (API errors, pod events); a line of it that the runner
// would read as a workflow command is fenced with ::stop-commands:: so it
// is shown, not obeyed.
//
// The runner ends a line at a carriage return as well as at a newline, so
// "\r::error::" inside a line is a command too: every line break is made a
// newline before lines are looked at.
func (r *Reporter) print(msg string) {
	lines := strings.Split(lineBreaks.Replace(r.secrets.Text(msg)), "\n")
	if !anyCommand(lines) {
		for _, l := range lines {
			r.gha.Infof("%s", l)
		}
		return
	}
	token, err := r.token()
	if err != nil {
		// Without an unguessable token, quoting is the only safe way.
		for _, l := range lines {
			if isCommand(l) {
				l = strconv.Quote(l)
			}
			r.gha.Infof("%s", l)
		}
		return
	}
	r.gha.IssueCommand(&githubactions.Command{Name: "stop-commands", Message: token})
	for _, l := range lines {
		r.gha.Infof("%s", l)
	}
	r.gha.IssueCommand(&githubactions.Command{Name: token})
}

// lineBreaks turns every line break the runner knows into "\n".
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

func (r *Reporter) token() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r.random, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func anyCommand(lines []string) bool {
	for _, l := range lines {
		if isCommand(l) {
			return true
		}
	}
	return false
}

// isCommand reports whether the runner would parse line as a workflow
// command: "::" after leading blanks, or the older "##[" anywhere.
func isCommand(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") ||
		strings.Contains(line, "##[")
}

// appendFile appends b to the file at path, as the runner expects of file
// commands: earlier writers in the same step must not be overwritten.
func appendFile(path string, b []byte) (err error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = f.Write(b)
	return err
}
