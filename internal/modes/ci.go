package modes

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
)

// CI runs one command as a step of a CI job: the inputs come from the
// environment (INPUT_* on GitHub Actions, BLUEGREEN_* anywhere), args may
// name the command, and the run is reported on stdout (the step summary
// and outputs on GitHub) and in the result file. It returns the process's
// exit status: 0 success, 1 a failed or rolled-back run, 2 a bad input.
// version is the binary's, for the report.
func CI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, version string) int {
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
	out := sink{rep: newReporter(github, getenv, stdout, resultFile), github: github, stderr: stderr}

	// Until the live system is read, which color serves is unknown.
	res := report.Result{Started: time.Now(), Outcome: report.Failed, PreviousColor: "unknown", ActiveColor: "unknown", Version: version}
	if resultErr != nil {
		return out.fail(res, resultErr)
	}
	cfg, err := config.Load(ctx, lookup)
	if err == nil {
		// Masked before anything can quote them, validation included.
		for _, s := range cfg.Secrets() {
			out.rep.Mask(s)
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
		return verifyChecks(ctx, cfg, out, res)
	}
	var built *setup.Built
	if err == nil {
		built, err = setup.Build(ctx, cfg, out.rep, getenv)
		if err != nil && ctx.Err() != nil {
			// A signal cut set-up short: whatever the call that was
			// cut says, no input was wrong (exit 1, not 2).
			err = errors.New("cancelled by a signal during set-up, before anything was written: " + err.Error())
		}
	}
	if err != nil {
		return out.fail(res, err)
	}

	ran, err := deploy.New(cfg.Command, built.Options, built.Deps).Execute(ctx)
	if cfg.Command != command.Promote {
		ran.Platform, ran.Router, ran.Target = cfg.Platform, cfg.Router, target(cfg)
	}
	ran.AWSCalls, ran.Version = built.AWS.Count(), version
	if err != nil {
		return out.fail(ran, err)
	}
	out.finish(ran)
	return ExitOK
}

// target names where the run deployed, for the report.
func target(cfg *config.Config) string {
	if cfg.Platform == "kubernetes" {
		return "namespace " + cfg.Kubernetes.Namespace
	}
	return ""
}
