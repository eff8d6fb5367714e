// Package examples_test keeps the CI examples honest: every input they give
// bluegreen, as `with:` in a workflow or as a BLUEGREEN_* variable anywhere
// else, and every output a workflow reads, must exist in action.yml.
package examples_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

const actionRef = "bluegreen-dev/bluegreen-action@"

// action reads the inputs and outputs of ../action.yml.
func action(t *testing.T) (inputs, outputs map[string]any) {
	t.Helper()
	var a struct {
		Inputs  map[string]any `json:"inputs"`
		Outputs map[string]any `json:"outputs"`
	}
	readYAML(t, filepath.Join("..", "action.yml"), &a)
	if len(a.Inputs) == 0 || len(a.Outputs) == 0 {
		t.Fatal("action.yml declares no inputs or no outputs")
	}
	return a.Inputs, a.Outputs
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	if err := json.Unmarshal(j, v); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
}

type workflow struct {
	Jobs map[string]struct {
		Steps []struct {
			ID   string         `json:"id"`
			Uses string         `json:"uses"`
			With map[string]any `json:"with"`
		} `json:"steps"`
	} `json:"jobs"`
}

var stepOutput = regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`)

func TestWorkflowsUseDeclaredInputsAndOutputs(t *testing.T) {
	t.Parallel()
	inputs, outputs := action(t)
	files, err := filepath.Glob(filepath.Join("github", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflow examples found (%v)", err)
	}
	for _, file := range files {
		var wf workflow
		readYAML(t, file, &wf)
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		uses := 0
		ours := map[string]bool{} // ids of bluegreen steps
		for job, j := range wf.Jobs {
			for i, s := range j.Steps {
				if !strings.HasPrefix(s.Uses, actionRef) {
					continue
				}
				uses++
				if s.ID != "" {
					ours[s.ID] = true
				}
				for name := range s.With {
					if _, ok := inputs[name]; !ok {
						t.Errorf("%s: job %s, step %d: input %q is not in action.yml", file, job, i+1, name)
					}
				}
			}
		}
		if uses == 0 {
			t.Errorf("%s: no step uses %s", file, actionRef)
		}
		for _, m := range stepOutput.FindAllStringSubmatch(string(raw), -1) {
			if _, ok := outputs[m[2]]; ours[m[1]] && !ok {
				t.Errorf("%s: output %q of step %q is not in action.yml", file, m[2], m[1])
			}
		}
	}
}

var variable = regexp.MustCompile(`\bBLUEGREEN_([A-Z0-9_]+)`)

func TestOtherCIsUseDeclaredInputs(t *testing.T) {
	t.Parallel()
	inputs, _ := action(t)
	var checked []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".yml", ".yaml", ".sh":
		default:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked = append(checked, path)
		for _, m := range variable.FindAllStringSubmatch(string(data), -1) {
			name := strings.ReplaceAll(strings.ToLower(m[1]), "_", "-")
			if _, ok := inputs[name]; !ok {
				t.Errorf("%s: %s is no input: action.yml has no %q", path, m[0], name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		filepath.Join("travis", ".travis.yml"),
		filepath.Join("circleci", "config.yml"),
		filepath.Join("gitlab", ".gitlab-ci.yml"),
		filepath.Join("gitlab", "approval.gitlab-ci.yml"),
		filepath.Join("circleci", "approval.yml"),
		filepath.Join("codedeploy", "scripts", "validate-service.sh"),
	} {
		if !slices.Contains(checked, want) {
			t.Errorf("%s was not checked", want)
		}
	}
}

// commandUse finds a command given to bluegreen: `command: x` in a
// workflow's with:, or BLUEGREEN_COMMAND=x anywhere.
var commandUse = regexp.MustCompile(`(?m)(?:^[ \t]+command:[ \t]*|BLUEGREEN_COMMAND=)([a-z]+)\b`)

// TestApprovalExamples checks that every command an example runs exists,
// and that the approval examples of each CI prepare, switch and abort.
func TestApprovalExamples(t *testing.T) {
	t.Parallel()
	used := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yml" && filepath.Ext(path) != ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range commandUse.FindAllStringSubmatch(string(data), -1) {
			if !command.Name(m[1]).Known() {
				t.Errorf("%s: command %q is not one of %q", path, m[1], command.All())
			}
			used[path] = append(used[path], m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := used[filepath.Join("github", "red-black.yml")], []string{"split", "switch", "rollback"}; !slices.Equal(got, want) {
		t.Errorf("github/red-black.yml runs %q, want %q: red/black is a split, then a switch (or a rollback)", got, want)
	}
	for _, file := range []string{
		filepath.Join("github", "approval.yml"),
		filepath.Join("gitlab", "approval.gitlab-ci.yml"),
		filepath.Join("circleci", "approval.yml"),
	} {
		for _, want := range []string{"prepare", "switch", "abort"} {
			if !slices.Contains(used[file], want) {
				t.Errorf("%s does not run command %s (runs %q)", file, want, used[file])
			}
		}
	}
}

const debugImage = "ghcr.io/bluegreen-dev/bluegreen-action:v1-debug"

// TestDebugImageAsJobImage: GitLab and CircleCI run a job's script with a
// shell inside the job's image, so their examples use the debug image (the
// binary plus busybox in /busybox) as the job image and call bluegreen
// directly; the image has no git, so such a job has no checkout.
func TestDebugImageAsJobImage(t *testing.T) {
	t.Parallel()

	var gitlab map[string]json.RawMessage
	readYAML(t, filepath.Join("gitlab", ".gitlab-ci.yml"), &gitlab)
	var deploy struct {
		Image struct {
			Name       string   `json:"name"`
			Entrypoint []string `json:"entrypoint"`
		} `json:"image"`
		Script []string `json:"script"`
	}
	if err := json.Unmarshal(gitlab["deploy"], &deploy); err != nil {
		t.Fatalf("gitlab: reading the deploy job: %v", err)
	}
	if got := deploy.Image.Name; got != debugImage {
		t.Errorf("gitlab: deploy image = %q, want %q", got, debugImage)
	}
	// GitLab starts the job's shell through the image's entrypoint unless
	// it is cleared; bluegreen's entrypoint is bluegreen.
	if got := deploy.Image.Entrypoint; len(got) != 1 || got[0] != "" {
		t.Errorf("gitlab: deploy image entrypoint = %q, want [\"\"]", got)
	}
	if !slices.ContainsFunc(deploy.Script, func(s string) bool { return strings.HasPrefix(s, "bluegreen deploy") }) {
		t.Errorf("gitlab: deploy script %q does not run bluegreen deploy", deploy.Script)
	}

	var circle struct {
		Jobs map[string]struct {
			Docker []struct {
				Image string `json:"image"`
			} `json:"docker"`
			Shell string            `json:"shell"`
			Steps []json.RawMessage `json:"steps"`
		} `json:"jobs"`
	}
	readYAML(t, filepath.Join("circleci", "config.yml"), &circle)
	job, ok := circle.Jobs["deploy"]
	if !ok {
		t.Fatal("circleci: no deploy job")
	}
	if len(job.Docker) == 0 || job.Docker[0].Image != debugImage {
		t.Errorf("circleci: deploy job's primary image = %+v, want %q", job.Docker, debugImage)
	}
	if !strings.HasPrefix(job.Shell, "/busybox/sh") {
		t.Errorf("circleci: deploy job's shell = %q, want /busybox/sh (there is no /bin/sh)", job.Shell)
	}
	var runsBluegreen bool
	for _, raw := range job.Steps {
		s := string(raw)
		if s == `"checkout"` {
			t.Error("circleci: the deploy job checks out, but the debug image has no git")
		}
		if strings.Contains(s, "bluegreen deploy") && !strings.Contains(s, "docker run") {
			runsBluegreen = true
		}
	}
	if !runsBluegreen {
		t.Error("circleci: no step of the deploy job runs bluegreen deploy directly")
	}
}
