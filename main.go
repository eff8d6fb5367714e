// Command bluegreen deploys a new release of a service with zero downtime
// by the blue/green method: it deploys the idle color, proves it ready,
// switches traffic in one write, bakes, and keeps the old color warm for
// an instant rollback. It runs as a GitHub Action (inputs as INPUT_*) and
// as a plain container step in any other CI (inputs as BLUEGREEN_*).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/hook"
	"github.com/bluegreen-dev/bluegreen-action/internal/modes"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses, as the modes return them.
const (
	exitOK     = modes.ExitOK
	exitFailed = modes.ExitFailed // the run failed or was rolled back
	exitInput  = modes.ExitInput  // a bad input: nothing was written anywhere
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

// realMain picks the mode the process runs in and returns its exit
// status: a Lambda function when the Lambda runtime API is there, help or
// the version when asked, and otherwise one command of a CI step.
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
	return modes.CI(ctx, args, getenv, stdout, stderr, version)
}
