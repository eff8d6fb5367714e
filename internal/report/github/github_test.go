package github

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/pipeline"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

func TestSteps(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := New(WithWriter(&buf), WithGetenv(env(nil)))
	rep.StepStarted("lock")
	rep.Info("acquiring lock shop")
	rep.StepFinished(pipeline.Result{Name: "lock", Status: pipeline.StatusOK, Duration: 120 * time.Millisecond, Detail: "held by run 42"})
	rep.StepStarted("migrate")
	rep.StepFinished(pipeline.Result{Name: "migrate", Status: pipeline.StatusSkipped, Detail: "no migrations"})
	rep.StepStarted("switch traffic")
	rep.Warning("listener has a rule\nnot managed by bluegreen")
	rep.StepFinished(pipeline.Result{Name: "switch traffic", Status: pipeline.StatusFailed, Duration: 2345 * time.Millisecond, Detail: "AccessDenied"})
	rep.StepStarted("revert lock")
	rep.StepFinished(pipeline.Result{Name: "lock", Status: pipeline.StatusReverted, Duration: 30 * time.Millisecond})
	rep.StepStarted("left open")
	rep.Error("deploy: 100% failed")
	if err := rep.Finish(report.Result{Command: "deploy", App: "shop", Outcome: report.RolledBack, PreviousColor: "blue", ActiveColor: "blue"}); err != nil {
		t.Fatal(err)
	}

	want := strings.Join([]string{
		"::group::lock",
		"acquiring lock shop",
		"ok in 120ms: held by run 42",
		"::endgroup::",
		"::group::migrate",
		"skipped: no migrations",
		"::endgroup::",
		"::group::switch traffic",
		"::warning title=bluegreen::listener has a rule%0Anot managed by bluegreen",
		"failed in 2.3s: AccessDenied",
		"::endgroup::",
		"::group::revert lock",
		"reverted in 30ms",
		"::endgroup::",
		"::group::left open",
		"::error title=bluegreen::deploy: 100%25 failed",
		"::endgroup::",
		"::warning title=bluegreen::GITHUB_OUTPUT is not set, so the action's outputs are not written",
		"::notice title=bluegreen deploy of shop%3A rolled-back::live color: blue (unchanged)",
		"",
	}, "\n")
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		secret string
		want   []string
	}{
		{"single line", "hunter2", []string{"::add-mask::hunter2"}},
		{"empty", "", nil},
		{"blank", "  \n\t", nil},
		{"percent is escaped for the runner", "50%off", []string{"::add-mask::50%25off"}},
		{
			"multi-line masked per line",
			"-----BEGIN KEY-----\r\nMIIEvQIBADANBg\n\nkqhkiG9w0BAQEF\n-----END KEY-----\n",
			[]string{"::add-mask::-----BEGIN KEY-----", "::add-mask::MIIEvQIBADANBg", "::add-mask::kqhkiG9w0BAQEF", "::add-mask::-----END KEY-----"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			rep := New(WithWriter(&buf))
			rep.Mask(tc.secret)
			rep.Info("using the credential")
			want := strings.Join(append(tc.want, "using the credential", ""), "\n")
			if diff := cmp.Diff(want, buf.String()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProgressRateLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		interval time.Duration
		// steps are the clock advances before each Progress call.
		steps []time.Duration
		want  []string
	}{
		{
			name:     "default interval",
			interval: DefaultProgressInterval,
			steps:    []time.Duration{0, time.Second, 3 * time.Second, time.Second, 4999 * time.Millisecond, time.Millisecond, 10 * time.Second},
			want:     []string{"p0", "p3", "p5", "p6"},
		},
		{
			name:     "custom interval",
			interval: 100 * time.Millisecond,
			steps:    []time.Duration{0, 50 * time.Millisecond, 50 * time.Millisecond, 99 * time.Millisecond},
			want:     []string{"p0", "p2"},
		},
		{
			name:     "no limit",
			interval: 0,
			steps:    []time.Duration{0, 0, 0},
			want:     []string{"p0", "p1", "p2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			clock := clock.NewFake(started)
			rep := New(WithWriter(&buf), WithClock(clock.Now), WithProgressInterval(tc.interval))
			for i, d := range tc.steps {
				clock.Advance(d)
				rep.Progress("p" + string(rune('0'+i)))
			}
			got := strings.Fields(buf.String())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("progress lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCommandsInMessages checks that text from deployed systems cannot
// issue workflow commands when it is logged.
func TestCommandsInMessages(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := New(WithWriter(&buf), WithRandom(&counter{}))
	rep.Info("pod event:\n  ::add-mask::hunter2\nend")
	rep.Info("ok line with std::vector")
	rep.StepFinished(pipeline.Result{Status: pipeline.StatusFailed, Detail: "##[set-output name=x]y"})

	token := "000102030405060708090a0b0c0d0e0f"
	token2 := "101112131415161718191a1b1c1d1e1f"
	want := strings.Join([]string{
		"::stop-commands::" + token,
		"pod event:",
		"  ::add-mask::hunter2",
		"end",
		"::" + token + "::",
		"ok line with std::vector",
		"::stop-commands::" + token2,
		"failed: ##[set-output name=x]y",
		"::" + token2 + "::",
		"",
	}, "\n")
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

// TestCarriageReturnIsALineBreak: the runner ends a line at a carriage
// return too, so a command after one is fenced like one after a newline.
func TestCarriageReturnIsALineBreak(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := New(WithWriter(&buf), WithRandom(&counter{}))
	rep.Info("job log: done\r::stop-commands::x\r::error::forged")
	rep.StepFinished(pipeline.Result{Status: pipeline.StatusFailed, Detail: "pod event\r\n::warning::forged"})

	token := "000102030405060708090a0b0c0d0e0f"
	token2 := "101112131415161718191a1b1c1d1e1f"
	want := strings.Join([]string{
		"::stop-commands::" + token,
		"job log: done",
		"::stop-commands::x",
		"::error::forged",
		"::" + token + "::",
		"::stop-commands::" + token2,
		"failed: pod event",
		"::warning::forged",
		"::" + token2 + "::",
		"",
	}, "\n")
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if strings.Contains(strings.ReplaceAll(buf.String(), "\r\n", "\n"), "\r") {
		t.Errorf("log holds a carriage return: %q", buf.String())
	}
}

func TestCommandsInMessagesWithoutRandom(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := New(WithWriter(&buf), WithRandom(&stuck{err: errors.New("no entropy")}))
	rep.Info("::error::forged")
	if got, want := buf.String(), "\"::error::forged\"\n"; got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
}

func TestFinishWritesSummary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "summary")
	if err := os.WriteFile(path, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := sampleResults()["success"]
	rep := New(WithWriter(&bytes.Buffer{}), WithGetenv(env(map[string]string{"GITHUB_STEP_SUMMARY": path})))
	if err := rep.Finish(r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "earlier step\n"+summary(r); got != want {
		t.Errorf("summary file = %q, want %q", got, want)
	}
}

func TestFinishFileErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no", "such", "dir")
	rep := New(WithWriter(&bytes.Buffer{}), WithGetenv(env(map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(missing, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(missing, "summary"),
	})))
	err := rep.Finish(sampleResults()["success"])
	if err == nil {
		t.Fatal("Finish succeeded, want an error")
	}
	for _, want := range []string{"writing outputs", "writing step summary"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Finish error %q does not mention %q", err, want)
		}
	}
}

// failWriter fails every write, as a closed stdout does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestBrokenLogDoesNotPanic(t *testing.T) {
	t.Parallel()
	rep := New(WithWriter(failWriter{}), WithGetenv(env(nil)))
	rep.StepStarted("lock")
	rep.Mask("hunter2")
	rep.Info("info")
	rep.Warning("warning")
	rep.StepFinished(pipeline.Result{Name: "lock", Status: pipeline.StatusOK})
	if err := rep.Finish(report.Result{}); err != nil {
		t.Errorf("Finish: %v", err)
	}
}

func TestConcurrentProgress(t *testing.T) {
	t.Parallel()
	var buf testkit.SyncBuffer
	rep := New(WithWriter(&buf), WithProgressInterval(0))
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 100 {
			rep.Progress("waiting")
		}
	})
	for range 100 {
		rep.StepStarted("step")
		rep.StepFinished(pipeline.Result{Name: "step", Status: pipeline.StatusOK})
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		switch line {
		case "::group::step", "ok", "::endgroup::", "waiting":
		default:
			t.Fatalf("interleaved line %q", line)
		}
	}
}
