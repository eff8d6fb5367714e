// Command bluegreen deploys a new release of a service with zero downtime
// by the blue/green method: it deploys the idle color, proves it ready,
// switches traffic in one write, bakes, and keeps the old color warm for
// an instant rollback. It runs as a GitHub Action (inputs as INPUT_*) and
// as a plain container step in any other CI (inputs as BLUEGREEN_*).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/hook"
	"github.com/bluegreen-dev/bluegreen-action/internal/modes"
	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/github"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/nextstep"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // the run failed or was rolled back
	exitInput  = 2 // a bad input: nothing was written anywhere
)

func main() {
	// client-go logs through klog to stderr: a watch ended by our own
	// cancellation would show up as a warning in the CI log. What matters
	// reaches the report through returned errors instead.
	klog.SetLogger(logr.Discard())
	// SIGTERM is what CI runners send on cancel: the run stops its steps,
	// puts traffic back if it had moved, and reports each color's state.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(realMain(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// help answers `bluegreen help [command]`, `bluegreen [command] --help` and
// `-h`: exit 0 with the help on stdout, or 2 for an unknown command.
func help(args []string, stdout, stderr io.Writer) int {
	var c command.Name
	for _, a := range args {
		if !isHelp(a) {
			c = command.Name(strings.ToLower(a))
			break
		}
	}
	if err := config.WriteHelp(stdout, c); err != nil {
		fmt.Fprintf(stderr, "bluegreen: %v\n", err)
		return exitInput
	}
	return exitOK
}

func realMain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	// As a Lambda container image (a lifecycle hook of CodeDeploy or ECS),
	// the runtime API hands us events instead of a CI running a command.
	if hook.Detect(getenv) {
		return modes.Lambda(ctx, getenv, stdout, stderr)
	}
	if slices.ContainsFunc(args, isHelp) {
		return help(args, stdout, stderr)
	}
	if len(args) > 0 {
		switch args[0] {
		case "-v", "-version", "--version", "version":
			fmt.Fprintln(stdout, "bluegreen", version)
			return exitOK
		}
	}
	lookup := config.Lookuper(getenv)
	resultFile, _ := lookup.Lookup("RESULT_FILE")
	// Where the result goes is checked before anything else: a run that
	// cannot report must not start, and a report that fails after a
	// deploy must not be what the CI learns of it.
	resultErr := config.CheckResultFile(resultFile)
	if resultErr != nil {
		resultFile = ""
	}
	github := getenv("GITHUB_ACTIONS") == "true"
	rep := newReporter(github, getenv, stdout, resultFile)

	// Until the live system is read, which color serves is unknown.
	res := report.Result{Started: time.Now(), Outcome: report.Failed, PreviousColor: "unknown", ActiveColor: "unknown", Version: version}
	if resultErr != nil {
		return fail(rep, github, stderr, res, resultErr)
	}
	cfg, err := config.Load(ctx, config.Lookuper(getenv))
	if err == nil {
		// Masked before anything can quote them, validation included.
		for _, s := range cfg.Secrets() {
			rep.Mask(s)
		}
		if len(args) > 0 {
			cfg.Command = command.Name(strings.ToLower(args[0]))
		}
		if len(args) > 1 {
			err = config.Errorf("command", "unexpected arguments %q; inputs come from the environment, see --help", args[1:])
		} else if err = cfg.FromHost(getenv); err == nil {
			err = cfg.Validate()
		}
	}
	if cfg != nil {
		res.Command, res.App, res.Platform, res.Router, res.DryRun = cfg.Command, cfg.App, cfg.Platform, cfg.Router, bool(cfg.DryRun)
		res.Image = cfg.Image
	}
	if err == nil && cfg.Command == command.Verify {
		return verifyMain(ctx, cfg, rep, github, stderr, res)
	}
	var built *setup.Built
	if err == nil {
		built, err = setup.Build(ctx, cfg, rep, getenv)
		if err != nil && ctx.Err() != nil {
			// A signal cut set-up short: whatever the call that was
			// cut says, no input was wrong (exit 1, not 2).
			err = errors.New("cancelled by a signal during set-up, before anything was written: " + err.Error())
		}
	}
	if err != nil {
		return fail(rep, github, stderr, res, err)
	}

	out, err := deploy.New(cfg.Command, built.Options, built.Deps).Execute(ctx)
	if cfg.Command != command.Promote {
		out.Platform, out.Router, out.Target = cfg.Platform, cfg.Router, target(cfg)
	}
	out.AWSCalls, out.Version = built.AWS.Count(), version
	if err != nil {
		return fail(rep, github, stderr, out, err)
	}
	finish(rep, stderr, out)
	return exitOK
}

// finish writes the report of a run. A report that cannot be written is
// said on stderr, but it does not change the exit status: the deploy
// happened (or failed) whatever the report says, and a CI that saw exit 1
// after a successful deploy would retry or roll back for nothing.
func finish(rep report.Reporter, stderr io.Writer, res report.Result) {
	if ferr := rep.Finish(res); ferr != nil {
		fmt.Fprintln(stderr, rep.Redact("bluegreen: warning: writing the report: "+ferr.Error()))
	}
}

// fail reports err once (an annotation on GitHub, stderr elsewhere) and
// returns the exit status: 2 for a bad input, 1 otherwise.
func fail(rep report.Reporter, github bool, stderr io.Writer, res report.Result, err error) int {
	code := exitFailed
	if config.IsInputError(err) {
		code = exitInput
	}
	res.Error = err.Error()
	res.NextStep = nextstep.For(err, time.Now())
	res.Finished = time.Now()
	if res.Outcome == "" || res.Outcome == report.Success {
		res.Outcome = report.Failed
	}
	for _, line := range errorLines(err) {
		if github {
			rep.Error(line)
		} else {
			// Errors quote what the deployed systems answered: they go
			// through the same masker as the log, and each of their
			// lines is prefixed, a carriage return counting as a line
			// break, so none can pass for a workflow command of a
			// runner that reads this output.
			for _, l := range strings.Split(lineBreaks.Replace(rep.Redact(line)), "\n") {
				fmt.Fprintln(stderr, "bluegreen: "+l)
			}
		}
	}
	if !github && res.NextStep != "" {
		// On GitHub the closing notice and the summary carry it.
		for line := range strings.SplitSeq(report.Wrap("next step: "+res.NextStep, 100), "\n") {
			fmt.Fprintln(stderr, rep.Redact("bluegreen: "+line))
		}
	}
	finish(rep, stderr, res)
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

func newReporter(onGitHub bool, getenv func(string) string, stdout io.Writer, resultFile string) report.Reporter {
	if onGitHub {
		return github.New(github.WithWriter(stdout), github.WithGetenv(getenv))
	}
	return plain.New(stdout, plain.WithResultFile(resultFile))
}

// target names where the run deployed, for the report.
func target(cfg *config.Config) string {
	if cfg.Platform == "kubernetes" {
		return "namespace " + cfg.Kubernetes.Namespace
	}
	return ""
}

// verifyMain runs command verify: the HTTP checks of verify-url, retried
// until they pass or verify-timeout, so that any CI or hook can gate on
// them.
func verifyMain(ctx context.Context, cfg *config.Config, rep report.Reporter, github bool, stderr io.Writer, res report.Result) int {
	res.PreviousColor, res.ActiveColor, res.Platform, res.Router = "", "", "", ""
	checks, err := setup.VerifyChecks(cfg, rep.Mask)
	if err == nil {
		rep.StepStarted("verify")
		start := time.Now()
		err = setup.Checker().RunAll(ctx, checks, rep.Progress)
		step := pipeline.Result{Name: "verify", Status: pipeline.StatusOK, Duration: time.Since(start), Detail: checks[0].String() + " passed"}
		if err != nil {
			step.Status, step.Detail = pipeline.StatusFailed, err.Error()
		}
		rep.StepFinished(step)
		res.Steps = []pipeline.Result{step}
	}
	if err != nil {
		return fail(rep, github, stderr, res, err)
	}
	res.Outcome, res.Finished = report.Success, time.Now()
	finish(rep, stderr, res)
	return exitOK
}
