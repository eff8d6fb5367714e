package modes

import (
	"context"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
)

// verifyChecks runs command verify: the HTTP checks of verify-url, retried
// until they pass or verify-timeout, so that any CI or hook can gate on
// them. It touches no platform and no router, and reports as one step.
func verifyChecks(ctx context.Context, cfg *config.Config, out sink, res report.Result) int {
	res.PreviousColor, res.ActiveColor, res.Platform, res.Router = "", "", "", ""
	checks, err := setup.VerifyChecks(cfg, out.rep.Mask)
	if err == nil {
		out.rep.StepStarted("verify")
		start := time.Now()
		err = setup.Checker().RunAll(ctx, checks, out.rep.Progress)
		step := pipeline.Result{Name: "verify", Status: pipeline.StatusOK, Duration: time.Since(start), Detail: checks[0].String() + " passed"}
		if err != nil {
			step.Status, step.Detail = pipeline.StatusFailed, err.Error()
		}
		out.rep.StepFinished(step)
		res.Steps = []pipeline.Result{step}
	}
	if err != nil {
		return out.fail(res, err)
	}
	res.Outcome, res.Finished = report.Success, time.Now()
	out.finish(res)
	return ExitOK
}
