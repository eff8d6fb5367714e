//go:build unix

package pipeline_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
)

// helperEnv makes the test binary run TestHelperProcess as a child
// process instead of the tests.
const helperEnv = "BLUEGREEN_PIPELINE_HELPER"

// TestHelperProcess is the child of TestSignalCancelsRun, not a test: it
// runs a pipeline the way main does, under a context cancelled by SIGTERM,
// and prints what happened on stdout.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("run as a child process by TestSignalCancelsRun")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()

	out := os.Stdout
	steps := []pipeline.Step[*trace]{
		revertible{
			step: step{name: "deploy"},
			revert: func(ctx context.Context, tr *trace) error {
				// A revert that got the run's cancelled context could not
				// put traffic back.
				if err := ctx.Err(); err != nil {
					fmt.Fprintln(out, "revert context done:", err)
					return err
				}
				fmt.Fprintln(out, "reverted")
				return nil
			},
		},
		step{name: "wait", run: func(ctx context.Context, tr *trace) error {
			fmt.Fprintln(out, "waiting")
			<-ctx.Done()
			return ctx.Err()
		}},
		step{name: "switch"},
	}
	results, err := (&pipeline.Runner[*trace]{}).Run(ctx, steps, &trace{})
	b, jerr := json.Marshal(helperReport{Results: results, Error: fmt.Sprint(err), Canceled: errors.Is(err, context.Canceled)})
	if jerr != nil {
		fmt.Fprintln(out, "encoding results:", jerr)
		os.Exit(3)
	}
	fmt.Fprintf(out, "result %s\n", b)
	// Exit before the test framework prints anything of its own.
	os.Exit(0)
}

// helperReport is the last line TestHelperProcess prints.
type helperReport struct {
	Results  []pipeline.Result `json:"results"`
	Error    string            `json:"error"`
	Canceled bool              `json:"canceled"`
}

// TestSignalCancelsRun sends a real SIGTERM, as a CI runner does on
// cancel, to a process running a pipeline: the blocked step must return,
// the completed step must be reverted under a live context, and the
// process must exit by itself.
func TestSignalCancelsRun(t *testing.T) {
	t.Parallel()
	// A hang guard, not a measure of speed: the child exits in
	// milliseconds once signalled.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	// Under -race the child would otherwise sleep a second at exit,
	// waiting for late race reports.
	cmd.Env = append(os.Environ(), helperEnv+"=1",
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Stderr = &strings.Builder{}
	cmd.WaitDelay = time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	var got []string
	for line := range lines {
		got = append(got, line)
		if line == "waiting" {
			break
		}
	}
	if len(got) == 0 || got[len(got)-1] != "waiting" {
		_ = cmd.Wait()
		t.Fatalf("child ended without printing \"waiting\"; stdout %q, stderr %q", got, cmd.Stderr)
	}
	// The second step is blocked on its context now; the signal handler
	// was installed before the pipeline started.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("sending SIGTERM: %v", err)
	}
	for line := range lines {
		got = append(got, line)
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("child still running 10s after SIGTERM, killed; stdout %q", got)
	}
	if err != nil {
		t.Fatalf("child: %v; stdout %q, stderr %q", err, got, cmd.Stderr)
	}

	var rep helperReport
	var reverted bool
	for _, line := range got {
		if line == "reverted" {
			reverted = true
		}
		if js, ok := strings.CutPrefix(line, "result "); ok {
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatalf("decoding %q: %v", line, err)
			}
		}
	}
	if !reverted {
		t.Errorf("child did not print \"reverted\"; stdout %q", got)
	}
	if rep.Results == nil {
		t.Fatalf("child printed no result line; stdout %q", got)
	}
	want := map[string]pipeline.Status{
		"deploy": pipeline.StatusReverted,
		"wait":   pipeline.StatusCancelled,
		"switch": pipeline.StatusNotRun,
	}
	for _, r := range rep.Results {
		if got, want := r.Status, want[r.Name]; got != want {
			t.Errorf("step %s status = %q, want %q", r.Name, got, want)
		}
	}
	if got, want := len(rep.Results), len(want); got != want {
		t.Errorf("child reported %d steps, want %d", got, want)
	}
	if !rep.Canceled {
		t.Errorf("Run error = %s, want it to wrap context.Canceled", rep.Error)
	}
}
