package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// TestBinaryDeploysInOtherCI runs the built binary the way Travis CI,
// CircleCI or a shell does: only BLUEGREEN_* variables, no GitHub ones,
// against the local control plane. It checks the plain output, the JSON
// result file and the exit statuses 0 (deployed), 1 (failed) and 2 (bad
// input).
func TestBinaryDeploysInOtherCI(t *testing.T) {
	t.Parallel()
	kubeconfig := kubetest.KubeconfigPath(t)
	ns := kubetest.Namespace(t, kubetest.Config(t))
	bin := buildBinary(t)
	dir := t.TempDir()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	resultFile := filepath.Join(dir, "result.json")
	base := []string{
		"CI=true",
		"BLUEGREEN_APP=shop",
		"BLUEGREEN_NAMESPACE=" + ns,
		"BLUEGREEN_KUBECONFIG=" + kubeconfig,
		"BLUEGREEN_RESULT_FILE=" + resultFile,
	}
	type result struct {
		Result  string            `json:"result"`
		Error   string            `json:"error"`
		Outputs map[string]string `json:"outputs"`
		Steps   []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"steps"`
	}
	read := func() result {
		t.Helper()
		b, err := os.ReadFile(resultFile)
		if err != nil {
			t.Fatalf("reading the result file: %v", err)
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("decoding the result file: %v\n%s", err, b)
		}
		return r
	}

	cases := []struct {
		name       string
		env        []string
		code       int
		result     string
		active     string
		stdout     string // a line the plain output must hold
		stderrPart string
	}{
		{
			name: "first deploy",
			env: []string{"BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0",
				"BLUEGREEN_MANIFEST=" + filepath.Join(root, "testdata/demo/shop.yaml")},
			code: exitOK, result: "success", active: "blue", stdout: "==> bluegreen deploy of shop: success",
		},
		{
			name: "a color that never gets ready",
			env: []string{"BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0", "BLUEGREEN_WAIT_TIMEOUT=2s",
				"BLUEGREEN_MANIFEST=" + filepath.Join(root, "internal/deploy/testdata/unschedulable.yaml")},
			code: exitFailed, result: "failed", active: "blue", stdout: "==> bluegreen deploy of shop: failed",
			stderrPart: "Unschedulable",
		},
		{
			name: "second deploy",
			env:  []string{"BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0"},
			code: exitOK, result: "success", active: "green", stdout: "live      blue -> green",
		},
		{
			name: "bad input",
			env:  []string{"BLUEGREEN_IMAGE=registry.example.com/shop:3.0.0", "BLUEGREEN_BAKE_TIME=a while"},
			code: exitInput, result: "failed", active: "unknown", stderrPart: `input "bake-time": "a while" is not a duration`,
		},
		{
			name: "rollback",
			env:  []string{"BLUEGREEN_COMMAND=rollback"},
			code: exitOK, result: "success", active: "blue", stdout: "==> bluegreen rollback of shop: success",
		},
	}
	// The cases run in order: each starts from what the previous left.
	for _, tc := range cases {
		code, stdout, stderr := runBinary(t, bin, dir, append(append([]string{}, base...), tc.env...))
		if code != tc.code {
			t.Fatalf("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.name, code, tc.code, stdout, stderr)
		}
		if strings.Contains(stdout, "::") {
			t.Errorf("%s: workflow commands outside GitHub Actions:\n%s", tc.name, stdout)
		}
		if tc.stdout != "" && !strings.Contains(stdout, tc.stdout) {
			t.Errorf("%s: stdout lacks %q:\n%s", tc.name, tc.stdout, stdout)
		}
		if tc.stderrPart != "" && !strings.Contains(stderr, tc.stderrPart) {
			t.Errorf("%s: stderr lacks %q:\n%s", tc.name, tc.stderrPart, stderr)
		}
		r := read()
		if r.Result != tc.result || r.Outputs["result"] != tc.result {
			t.Errorf("%s: result file says %q (outputs %q), want %q", tc.name, r.Result, r.Outputs["result"], tc.result)
		}
		if got := r.Outputs["active-color"]; got != tc.active {
			t.Errorf("%s: active-color %q, want %q", tc.name, got, tc.active)
		}
		if tc.code == exitOK && len(r.Steps) == 0 {
			t.Errorf("%s: result file has no steps", tc.name)
		}
		if err := os.Remove(resultFile); err != nil {
			t.Fatal(err)
		}
	}
}
