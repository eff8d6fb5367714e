package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

// waitTimeoutError is the message of the bad input every test here gives.
const waitTimeoutError = `input "wait-timeout": "ten minutes" is not a duration, e.g. 90s or 10m`

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

type env map[string]string

func (e env) getenv(name string) string { return e[name] }

// with returns a copy of e with the variables of kv (name, value, ...)
// set.
func (e env) with(kv ...string) env {
	out := maps.Clone(e)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// runMain calls realMain as main does, with the environment e.
func runMain(t *testing.T, args []string, e env) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = realMain(t.Context(), args, e.getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	help := func(c command.Name) string {
		var b strings.Builder
		if err := config.WriteHelp(&b, c); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	cases := []struct {
		args   []string
		stdout string
	}{
		{args: []string{"--help"}, stdout: help("")},
		{args: []string{"-h"}, stdout: help("")},
		{args: []string{"help"}, stdout: help("")},
		{args: []string{"status", "--help"}, stdout: help("status")},
		{args: []string{"deploy", "-h"}, stdout: help("deploy")},
		{args: []string{"help", "promote"}, stdout: help("promote")},
		{args: []string{"VERIFY", "--help"}, stdout: help("verify")},
		{args: []string{"--version"}, stdout: "bluegreen " + version + "\n"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			// Help needs no inputs, even bad ones.
			code, stdout, stderr := runMain(t, tc.args, env{"BLUEGREEN_WAIT_TIMEOUT": "ten minutes"})
			if got, want := code, exitOK; got != want {
				t.Errorf("exit status = %d, want %d", got, want)
			}
			if diff := cmp.Diff(tc.stdout, stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
		})
	}
}

// TestVersionStamped: the version given at build time (-X main.version) is
// what --version prints.
func TestVersionStamped(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(buildBinary(t), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "bluegreen "+testVersion+"\n"; got != want {
		t.Errorf("--version = %q, want %q", got, want)
	}
}

// TestHelpOfEachCommand: a command's help lists each of its inputs under
// both spellings with its default, through the built binary.
func TestHelpOfEachCommand(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	for _, c := range command.All() {
		out, err := exec.Command(bin, string(c), "--help").Output()
		if err != nil {
			t.Fatalf("%s --help: %v", c, err)
		}
		for _, in := range config.InputsOf(c) {
			head := "  " + in.Name + " / " + in.Env()
			if in.Default != "" {
				head += " (default " + in.Default + ")"
			}
			if !strings.Contains(string(out), head+"\n") {
				t.Errorf("%s --help has no line %q", c, head)
			}
		}
	}
	cmd := exec.Command(bin, "destroy", "--help")
	out, err := cmd.CombinedOutput()
	if got, want := cmd.ProcessState.ExitCode(), exitInput; got != want {
		t.Errorf("destroy --help: exit status %d (%v), want %d:\n%s", got, err, want, out)
	}
	if !strings.Contains(string(out), `unknown command "destroy"`) {
		t.Errorf("destroy --help says %q, want it to name the unknown command", out)
	}
}

// TestBadInputPlain: outside GitHub Actions the message goes to stderr,
// once, and the process exits 2.
func TestBadInputPlain(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runMain(t, nil, env{
		"BLUEGREEN_APP":          "shop",
		"BLUEGREEN_IMAGE":        "ghcr.io/acme/shop:1.4.2",
		"BLUEGREEN_WAIT_TIMEOUT": "ten minutes",
	})
	if got, want := code, exitInput; got != want {
		t.Errorf("exit status = %d, want %d", got, want)
	}
	if got, want := stderr, "bluegreen: "+waitTimeoutError+"\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if strings.Contains(stdout, "::error title=bluegreen::") {
		t.Errorf("stdout has a GitHub annotation outside GitHub Actions:\n%s", stdout)
	}
}

// TestBadInputGitHub: on GitHub Actions each problem is an ::error::
// annotation on stdout, where the runner reads workflow commands.
func TestBadInputGitHub(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		env    env
		errors []string
	}{
		{
			name: "not a duration",
			env: env{
				"INPUT_APP":          "shop",
				"INPUT_IMAGE":        "ghcr.io/acme/shop:1.4.2",
				"INPUT_WAIT-TIMEOUT": "ten minutes",
			},
			errors: []string{"::error title=bluegreen::" + waitTimeoutError},
		},
		{
			// One annotation per problem, so each shows on its own.
			name: "several problems",
			env: env{
				"INPUT_APP":          "",
				"INPUT_COMMAND":      "destroy",
				"INPUT_WAIT-TIMEOUT": "",
			},
			errors: []string{
				`::error title=bluegreen::input "app": is required: the application's name, e.g. shop`,
				`::error title=bluegreen::input "command": unknown command "destroy", valid commands are ["deploy" "prepare" "switch" "split" "abort" "status" "rollback" "history" "promote" "verify"]`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := env{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "output")}
			for k, v := range tc.env {
				e[k] = v
			}
			code, stdout, stderr := runMain(t, nil, e)
			if got, want := code, exitInput; got != want {
				t.Errorf("exit status = %d, want %d", got, want)
			}
			if diff := cmp.Diff(tc.errors, annotations(stdout, "::error title=bluegreen::")); diff != "" {
				t.Errorf("error annotations (-want +got):\n%s\nstdout:\n%s", diff, stdout)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing: the annotation is the report", stderr)
			}
			outputs := readOutputs(t, e["GITHUB_OUTPUT"])
			if got, want := outputs["result"], "failed"; got != want {
				t.Errorf("output result = %q, want %q", got, want)
			}
		})
	}
}

// TestBadArguments: the command line holds at most the command.
func TestBadArguments(t *testing.T) {
	t.Parallel()
	valid := env{"BLUEGREEN_APP": "shop", "BLUEGREEN_IMAGE": "ghcr.io/acme/shop:1.4.2"}
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{
			name:   "unknown command",
			args:   []string{"destroy"},
			stderr: `bluegreen: input "command": unknown command "destroy", valid commands are ["deploy" "prepare" "switch" "split" "abort" "status" "rollback" "history" "promote" "verify"]` + "\n",
		},
		{
			name:   "flag for an input",
			args:   []string{"--app=shop"},
			stderr: `bluegreen: input "command": unknown command "--app=shop", valid commands are ["deploy" "prepare" "switch" "split" "abort" "status" "rollback" "history" "promote" "verify"]` + "\n",
		},
		{
			name:   "extra arguments",
			args:   []string{"deploy", "now", "please"},
			stderr: `unexpected arguments ["now" "please"]; inputs come from the environment, see --help` + "\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runMain(t, tc.args, valid)
			if got, want := code, exitInput; got != want {
				t.Errorf("realMain(%q) exit status = %d, want %d", tc.args, got, want)
			}
			if !strings.HasSuffix(stderr, tc.stderr) {
				t.Errorf("stderr = %q, want it to end with %q", stderr, tc.stderr)
			}
		})
	}
}

// TestBinaryAsGitHubAction runs the built binary as the runner runs a
// Docker action: every input declared in action.yml set as INPUT_<NAME>,
// hyphen kept, with its default or empty, and the workflow's `with:`
// values over them. No shell is in between: a shell would drop the
// hyphenated names.
func TestBinaryAsGitHubAction(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	output := filepath.Join(dir, "output")
	summary := filepath.Join(dir, "step_summary")
	for _, f := range []string{output, summary} {
		// The runner creates the file command files before the step runs.
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	e := runnerInputs(t, map[string]string{
		"app":          "shop",
		"wait-timeout": "ten minutes",
	})
	e = append(e,
		"GITHUB_ACTIONS=true",
		"CI=true",
		"GITHUB_OUTPUT="+output,
		"GITHUB_STEP_SUMMARY="+summary,
	)
	if !slices.Contains(e, "INPUT_WAIT-TIMEOUT=ten minutes") {
		t.Fatalf("environment lacks INPUT_WAIT-TIMEOUT: %q", e)
	}

	code, stdout, stderr := runBinary(t, bin, dir, e)
	if got, want := code, exitInput; got != want {
		t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
	}
	if diff := cmp.Diff([]string{"::error title=bluegreen::" + waitTimeoutError}, annotations(stdout, "::error title=bluegreen::")); diff != "" {
		t.Errorf("error annotations (-want +got):\n%s\nstdout:\n%s", diff, stdout)
	}
	outputs := readOutputs(t, output)
	if got, want := outputs["result"], "failed"; got != want {
		t.Errorf("output result = %q, want %q (all outputs: %q)", got, want, outputs)
	}
	if got, want := outputs["changed"], "false"; got != want {
		t.Errorf("output changed = %q, want %q", got, want)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), waitTimeoutError) {
		t.Errorf("step summary does not hold the error %q:\n%s", waitTimeoutError, b)
	}
	if footer := "bluegreen " + testVersion; !strings.Contains(string(b), footer) {
		t.Errorf("step summary does not show the version %q:\n%s", footer, b)
	}
}

// TestBinaryInOtherCI runs the built binary as any other CI does: inputs
// as BLUEGREEN_ variables, the result as a JSON file.
func TestBinaryInOtherCI(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	resultFile := filepath.Join(dir, "result.json")
	e := []string{
		"CI=true",
		"BLUEGREEN_APP=shop",
		"BLUEGREEN_WAIT_TIMEOUT=ten minutes",
		"BLUEGREEN_RESULT_FILE=" + resultFile,
	}

	code, stdout, stderr := runBinary(t, bin, dir, e)
	if got, want := code, exitInput; got != want {
		t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
	}
	if got, want := stderr, "bluegreen: "+waitTimeoutError+"\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if strings.Contains(stdout, "::") {
		t.Errorf("stdout has workflow commands outside GitHub Actions:\n%s", stdout)
	}

	b, err := os.ReadFile(resultFile)
	if err != nil {
		t.Fatalf("reading the result file: %v", err)
	}
	var res struct {
		Result  string            `json:"result"`
		Error   string            `json:"error"`
		Outputs map[string]string `json:"outputs"`
		Version string            `json:"version"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("decoding the result file: %v\n%s", err, b)
	}
	if got, want := res.Version, testVersion; got != want {
		t.Errorf("version = %q, want %q", got, want)
	}
	if got, want := res.Result, "failed"; got != want {
		t.Errorf("result = %q, want %q", got, want)
	}
	if got, want := res.Outputs["result"], "failed"; got != want {
		t.Errorf("outputs.result = %q, want %q", got, want)
	}
	if got, want := res.Error, waitTimeoutError; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

// runnerInputs returns INPUT_ variables as the runner sets them for the
// action in ../action.yml given with: the declared inputs all set, to the
// given value, else the default, else empty.
func runnerInputs(t *testing.T, with map[string]string) []string {
	t.Helper()
	b, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Default *string `json:"default"`
		} `json:"inputs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatalf("parsing action.yml: %v", err)
	}
	for name := range with {
		if _, ok := action.Inputs[name]; !ok {
			t.Fatalf("action.yml declares no input %q", name)
		}
	}
	var e []string
	for name, in := range action.Inputs {
		v, ok := with[name]
		if !ok && in.Default != nil {
			v = *in.Default
		}
		key := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
		e = append(e, key+"="+v)
	}
	slices.Sort(e)
	return e
}

// runBinary runs bin in dir with exactly the environment e: nothing of the
// test's own environment leaks in (it may itself run on GitHub Actions).
func runBinary(t *testing.T, bin, dir string, e []string) (code int, stdout, stderr string) {
	t.Helper()
	// A hang guard: a bad input fails before any network call.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errOut strings.Builder
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = dir
	cmd.Env = e
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%s did not exit within 30s", bin)
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("running %s: %v", bin, err)
	}
	return code, out.String(), errOut.String()
}

// testVersion is the version buildBinary stamps into the binary.
const testVersion = "v0.0.0-test"

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// buildBinary builds the command once for all tests that need it.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "bluegreen-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bluegreen")
		// Stamped as a release is, so tests see the version flow through.
		cmd := exec.Command("go", "build", "-ldflags=-X main.version="+testVersion, "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// annotations returns the lines of stdout that start with prefix.
func annotations(stdout, prefix string) []string {
	var lines []string
	for line := range strings.Lines(stdout) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, prefix) {
			lines = append(lines, line)
		}
	}
	return lines
}

// readOutputs parses a $GITHUB_OUTPUT file as the runner does: name=value
// lines and name<<DELIMITER heredocs.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading $GITHUB_OUTPUT: %v", err)
	}
	defer f.Close()
	outputs := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var value []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				value = append(value, sc.Text())
			}
			if !closed {
				t.Fatalf("$GITHUB_OUTPUT: output %q has no closing delimiter %q", name, delim)
			}
			outputs[name] = strings.Join(value, "\n")
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("$GITHUB_OUTPUT: line %q is neither name=value nor name<<DELIMITER", line)
		}
		outputs[name] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return outputs
}
