package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// runScript runs a script of scripts/ and returns its exit status and
// output.
func runScript(t *testing.T, env []string, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(filepath.Join("scripts", name), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %s: %v", name, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errOut.String()
}

func readYAMLMap(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return m
}

// TestPinImage runs scripts/pin-image on a copy of action.yml: the result
// is the same action but for runs.image, which names the digest.
func TestPinImage(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "action.yml")
	if err := os.WriteFile(copyPath, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)

	for _, bad := range []string{"sha256:abc", "latest", "sha256:" + strings.Repeat("A", 64)} {
		if code, _, _ := runScript(t, nil, "pin-image", bad, copyPath); code == 0 {
			t.Errorf("pin-image %q succeeded, want a refusal", bad)
		}
	}
	if code, _, stderr := runScript(t, nil, "pin-image", digest, copyPath); code != 0 {
		t.Fatalf("pin-image: exit %d: %s", code, stderr)
	}

	want, got := readYAMLMap(t, "action.yml"), readYAMLMap(t, copyPath)
	runs, _ := got["runs"].(map[string]any)
	if gotImage, wantImage := runs["image"], "docker://ghcr.io/bluegreen-dev/bluegreen-action@"+digest; gotImage != wantImage {
		t.Errorf("runs.image = %v, want %q", gotImage, wantImage)
	}
	// Everything else is untouched: inputs, outputs, runs.using.
	runs["image"] = "Dockerfile"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pin-image changed more than runs.image (-want +got):\n%s", diff)
	}
	pinned, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(string(pinned), "\n"), strings.Count(string(orig), "\n"); got != want {
		t.Errorf("pinned action.yml has %d lines, the original %d", got, want)
	}
}

// TestMainBuildsDockerfile: only release commits pin the image; main runs
// the Dockerfile so that any commit works as an action.
func TestMainBuildsDockerfile(t *testing.T) {
	t.Parallel()
	runs, _ := readYAMLMap(t, "action.yml")["runs"].(map[string]any)
	if got, want := runs["image"], "Dockerfile"; got != want {
		t.Errorf("action.yml runs.image = %v, want %q", got, want)
	}
}

var pinnedAction = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)

// TestActionsPinnedBySHA: a tag of a third-party action can be moved to
// other code; a commit SHA cannot.
func TestActionsPinnedBySHA(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows (%v)", err)
	}
	files = append(files, filepath.Join("setup", "action.yml"))
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s*)?uses:\s*["']?([^"'\s#]+)`)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(b), -1) {
			ref := m[1]
			checked++
			if strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "docker://") && strings.Contains(ref, "@sha256:") {
				continue
			}
			if !pinnedAction.MatchString(ref) {
				t.Errorf("%s: %q is not pinned by commit SHA", f, ref)
			}
		}
	}
	if checked == 0 {
		t.Error("found no `uses:` to check")
	}
}

// TestPinSetup: a release's setup action installs that release by default;
// only that default changes.
func TestPinSetup(t *testing.T) {
	t.Parallel()
	orig := readYAMLMap(t, filepath.Join("setup", "action.yml"))
	b, err := os.ReadFile(filepath.Join("setup", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "action.yml")
	if err := os.WriteFile(copyPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runScript(t, nil, "pin-setup", "1.4", copyPath); code == 0 {
		t.Error("pin-setup 1.4 succeeded, want a refusal")
	}
	if code, _, stderr := runScript(t, nil, "pin-setup", "v1.4.2", copyPath); code != 0 {
		t.Fatalf("pin-setup: exit %d: %s", code, stderr)
	}
	got := readYAMLMap(t, copyPath)
	version := got["inputs"].(map[string]any)["version"].(map[string]any)
	if got, want := version["default"], "v1.4.2"; got != want {
		t.Errorf("inputs.version.default = %v, want %q", got, want)
	}
	version["default"] = "latest"
	if diff := cmp.Diff(orig, got); diff != "" {
		t.Errorf("pin-setup changed more than the default version (-want +got):\n%s", diff)
	}
}

func TestChangelogNotes(t *testing.T) {
	t.Parallel()
	changelog := filepath.Join(t.TempDir(), "CHANGELOG.md")
	content := "# Changelog\n\n## Unreleased\n\n- next\n\n## v1.2.0 - 2026-12-01\n\n- one\n- two\n\n## v1.1.0\n\n## v1.0.0\n\n- first\n"
	if err := os.WriteFile(changelog, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runScript(t, nil, "changelog-notes", "v1.2.0", changelog)
	if code != 0 {
		t.Fatalf("changelog-notes v1.2.0: exit %d: %s", code, stderr)
	}
	if got, want := stdout, "- one\n- two\n"; got != want {
		t.Errorf("notes = %q, want %q", got, want)
	}
	for _, v := range []string{"v1.1.0", "v1.3.0", "v1.2"} {
		if code, _, _ := runScript(t, nil, "changelog-notes", v, changelog); code == 0 {
			t.Errorf("changelog-notes %s succeeded, want a refusal (no notes)", v)
		}
	}
	if code, _, stderr := runScript(t, nil, "changelog-notes", "Unreleased"); code != 0 {
		t.Errorf("CHANGELOG.md has no notes under Unreleased: %s", stderr)
	}
}
