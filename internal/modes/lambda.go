package modes

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/hook"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
)

// Lambda serves lifecycle hook events from the Lambda runtime API until
// the function is shut down, and returns the process's exit status: 2 when
// the inputs are bad, 1 when serving failed.
func Lambda(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	api := getenv(hook.RuntimeAPIEnv)
	h, err := newHooks(ctx, getenv, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "bluegreen: %v\n", err)
		if ierr := hook.InitError(ctx, api, err); ierr != nil {
			fmt.Fprintf(stderr, "bluegreen: %v\n", ierr)
		}
		return ExitInput
	}
	if err := hook.Serve(ctx, api, h); err != nil {
		fmt.Fprintf(stderr, "bluegreen: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

// newHooks builds the hook handler from the same inputs as a CI run: the
// checks of verify-url, and CodeDeploy to report to.
func newHooks(ctx context.Context, getenv func(string) string, log io.Writer) (*hook.Hooks, error) {
	cfg, err := config.Load(ctx, config.Lookuper(getenv))
	if err != nil {
		return nil, err
	}
	if cfg.VerifyURL == "" {
		return nil, config.Errorf("verify-url", "is required when running as a Lambda lifecycle hook")
	}
	// A hook runs the checks of command verify: its inputs are validated
	// as that command's are in any CI.
	cfg.Command = command.Verify
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The function's output goes to CloudWatch Logs, which masks nothing.
	masker := &report.Masker{}
	for _, s := range cfg.Secrets() {
		masker.Add(s)
	}
	log = maskedWriter{w: log, m: masker}
	checks, err := setup.VerifyChecks(cfg, masker.Add)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsapi.LoadConfig(ctx, cfg.AWS.Region, awsapi.WithHTTPTimeout(cfg.RequestTimeout.D()))
	if err != nil {
		return nil, config.Errorf("region", "loading the AWS configuration: %v", err)
	}
	return hook.New(hook.Config{
		Checks:     hook.VerifyAll(setup.Checker(), checks),
		CodeDeploy: codedeploy.NewFromConfig(awsCfg),
		Budget:     cfg.VerifyTimeout.D(),
	}, hook.WithLog(log))
}

// maskedWriter masks credentials in what is written through it; each
// write is one line of log.
type maskedWriter struct {
	w io.Writer
	m *report.Masker
}

func (mw maskedWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(mw.w, mw.m.Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
