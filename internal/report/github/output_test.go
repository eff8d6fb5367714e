package github

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

// parseOutputs reads a $GITHUB_OUTPUT file the way the runner does
// (actions/runner, FileCommandManager on Linux): lines split on "\n";
// empty lines skipped; a line is "name=value" when "=" comes before any
// "<<", else "name<<DELIMITER", whose value is every line up to the first
// line exactly equal to DELIMITER, joined by the newlines between them.
func parseOutputs(text string) (map[string]string, error) {
	out := map[string]string{}
	index := 0
	// readLine returns the next line and whether a newline ended it.
	readLine := func() (line string, newline, ok bool) {
		if index >= len(text) {
			return "", false, false
		}
		start := index
		lf := strings.IndexByte(text[index:], '\n')
		if lf < 0 {
			index = len(text)
			return text[start:], false, true
		}
		index += lf + 1
		return text[start : start+lf], true, true
	}
	for line, _, ok := readLine(); ok; line, _, ok = readLine() {
		if line == "" {
			continue
		}
		eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (heredoc < 0 || eq < heredoc):
			name, value, _ := strings.Cut(line, "=")
			if name == "" {
				return nil, fmt.Errorf("invalid format %q: name must not be empty", line)
			}
			out[name] = value
		case heredoc >= 0:
			name, delim, _ := strings.Cut(line, "<<")
			if name == "" || delim == "" {
				return nil, fmt.Errorf("invalid format %q: name and delimiter must not be empty", line)
			}
			start, end := index, index
			for {
				l, newline, ok := readLine()
				if !ok {
					return nil, fmt.Errorf("matching delimiter %q not found", delim)
				}
				if l == delim {
					break
				}
				if !newline {
					return nil, errors.New("EOF marker missing new line")
				}
				end = index - 1
			}
			out[name] = text[start:end]
		default:
			return nil, fmt.Errorf("invalid format %q", line)
		}
	}
	return out, nil
}

func TestParseOutputsFollowsRunner(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		text string
		want map[string]string
	}{
		{"plain", "a=1\nb=x=y\n", map[string]string{"a": "1", "b": "x=y"}},
		{"heredoc", "a<<EOF\nline 1\nline 2\nEOF\n", map[string]string{"a": "line 1\nline 2"}},
		{"empty heredoc", "a<<EOF\nEOF\n", map[string]string{"a": ""}},
		{"empty line value", "a<<EOF\n\nEOF\n", map[string]string{"a": ""}},
		{"trailing newline", "a<<EOF\nv\n\nEOF\n", map[string]string{"a": "v\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseOutputs(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseOutputs (-want +got):\n%s", diff)
			}
		})
	}
}

// finish runs Finish with the runner's files in a temporary directory and
// returns the log and the $GITHUB_OUTPUT file.
func finish(t *testing.T, r report.Result, opts ...Option) (log, outputs string) {
	t.Helper()
	dir := t.TempDir()
	outPath := filepath.Join(dir, "output")
	var buf bytes.Buffer
	opts = append([]Option{
		WithWriter(&buf),
		WithGetenv(env(map[string]string{"GITHUB_OUTPUT": outPath})),
		WithRandom(&counter{}),
	}, opts...)
	if err := New(opts...).Finish(r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), string(b)
}

func TestOutputsGolden(t *testing.T) {
	t.Parallel()
	_, outputs := finish(t, sampleResults()["success"])
	testkit.Golden(t, "outputs.golden", []byte(outputs))
}

func TestOutputsAppend(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "output")
	if err := os.WriteFile(path, []byte("earlier=kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := New(WithWriter(&bytes.Buffer{}), WithGetenv(env(map[string]string{"GITHUB_OUTPUT": path})))
	if err := rep.Finish(report.Result{Outcome: report.Success, ActiveColor: "blue"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseOutputs(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := got["earlier"], "kept"; got != want {
		t.Errorf("earlier output = %q, want %q", got, want)
	}
	if got, want := got["active-color"], "blue"; got != want {
		t.Errorf("active-color = %q, want %q", got, want)
	}
}

// TestOutputsInjection writes values made to end a heredoc early and forge
// outputs; the runner must still read exactly the six real outputs.
func TestOutputsInjection(t *testing.T) {
	t.Parallel()
	// With the counter source the image's delimiter is the fourth draw:
	// bytes 48..63. The value holds it, so a new one must be drawn.
	fourth := make([]byte, 16)
	for i := range fourth {
		fourth[i] = byte(48 + i)
	}
	predicted := delimiterPrefix + hex.EncodeToString(fourth)

	r := report.Result{
		Outcome:       report.Success,
		ActiveColor:   "green",
		PreviousColor: "blue\nresult=forged",
		Image:         "shop:1\n" + predicted + "\nresult<<EOF\nforged\nEOF\n" + predicted,
		Digest:        "sha256:abc\nghadelimiter_\nchanged=true\n\n",
	}
	_, outputs := finish(t, r)
	got, err := parseOutputs(outputs)
	if err != nil {
		t.Fatalf("runner cannot parse the outputs: %v\n%s", err, outputs)
	}
	want := map[string]string{
		"result":         "success",
		"active-color":   "green",
		"previous-color": r.PreviousColor,
		"image":          r.Image,
		"digest":         r.Digest,
		"changed":        "false",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs as the runner reads them (-want +got):\n%s\nfile:\n%s", diff, outputs)
	}
}

func TestOutputsRandomFailure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		random *stuck
	}{
		{"source fails", &stuck{err: errors.New("entropy gone")}},
		{"source repeats a delimiter the value holds", &stuck{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "output")
			rep := New(WithWriter(&bytes.Buffer{}), WithRandom(tc.random),
				WithGetenv(env(map[string]string{"GITHUB_OUTPUT": path})))
			zero := delimiterPrefix + strings.Repeat("00", 16)
			err := rep.Finish(report.Result{Outcome: report.Success, Image: zero})
			if err == nil {
				t.Fatal("Finish succeeded, want an error")
			}
			if tc.random.err != nil && !errors.Is(err, tc.random.err) {
				t.Errorf("Finish error = %v, want it to wrap %v", err, tc.random.err)
			}
			// Nothing half-written: the runner would reject the whole file.
			if b, _ := os.ReadFile(path); len(b) != 0 {
				t.Errorf("outputs file holds %q, want nothing", b)
			}
		})
	}
}

// stuck is a random source that fails, or yields only zeros.
type stuck struct{ err error }

func (s *stuck) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	clear(p)
	return len(p), nil
}

func TestOutputsUnset(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := New(WithWriter(&buf), WithGetenv(env(nil)))
	for range 2 {
		if err := rep.Finish(sampleResults()["success"]); err != nil {
			t.Fatalf("Finish: %v", err)
		}
	}
	const warning = "::warning title=bluegreen::GITHUB_OUTPUT is not set, so the action's outputs are not written\n"
	if got, want := strings.Count(buf.String(), warning), 1; got != want {
		t.Errorf("warning written %d times, want %d; log:\n%s", got, want, buf.String())
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		want bool
	}{
		{"active-color", true},
		{"_x1", true},
		{"", false},
		{"1x", false},
		{"-x", false},
		{"a=b", false},
		{"a<<b", false},
		{"a\nb", false},
	}
	for _, tc := range cases {
		if got, want := validName(tc.name), tc.want; got != want {
			t.Errorf("validName(%q) = %t, want %t", tc.name, got, want)
		}
	}
}
