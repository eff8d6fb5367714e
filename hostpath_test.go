package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// The runner host's folders, as a GitHub-hosted Linux runner names them
// for repository acme/shop.
const (
	hostRunnerWorkspace = "/home/runner/work/shop"
	hostWorkspace       = hostRunnerWorkspace + "/shop"
	hostTemp            = "/home/runner/work/_temp"
)

// containerAction returns the environment the runner gives a Docker action
// (GITHUB_WORKSPACE is the mount, RUNNER_WORKSPACE and RUNNER_TEMP keep the
// host's paths) and the folder that stands for the mount: the runner mounts
// the workspace at /github/workspace and the home at /github/home, here
// two temporary folders. with holds the workflow's `with:` values; extra
// variables (KUBECONFIG exported by a set-up action) follow.
func containerAction(t *testing.T, with map[string]string, extra ...string) (e []string, workspace string) {
	t.Helper()
	workspace, home := t.TempDir(), t.TempDir()
	output, summary := filepath.Join(home, "output"), filepath.Join(home, "summary")
	for _, f := range []string{output, summary} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e = runnerInputs(t, with)
	e = append(e,
		"GITHUB_ACTIONS=true",
		"CI=true",
		"HOME="+home,
		"GITHUB_WORKSPACE="+workspace,
		"GITHUB_REPOSITORY=acme/shop",
		"RUNNER_WORKSPACE="+hostRunnerWorkspace,
		"RUNNER_TEMP="+hostTemp,
		"GITHUB_OUTPUT="+output,
		"GITHUB_STEP_SUMMARY="+summary,
	)
	return append(e, extra...), workspace
}

// pluginKubeconfig is a kubeconfig whose user needs a credential plugin
// that is not installed: reading it fails with a message that names the
// plugin, which shows the file was found and parsed, without a cluster.
const pluginKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: bluegreen-test-no-such-plugin
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`

const pluginRead = `credential plugin "bluegreen-test-no-such-plugin"`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKubeconfigFromRunnerHost runs the binary as the runner runs the
// action's container, with kubeconfig paths as set-up actions leave them.
func TestKubeconfigFromRunnerHost(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cannotSee := []string{
		"the action's container sees only the workspace (" + hostWorkspace + " on the runner",
		"secrets.KUBECONFIG",
		"uses: bluegreen-dev/bluegreen-action/setup@v1",
	}
	cases := []struct {
		name  string
		with  map[string]string
		extra []string
		// file is written under the stand-in workspace.
		file string
		want []string
	}{
		{
			name: "input path in the host workspace is read from the mount",
			with: map[string]string{"kubeconfig": hostWorkspace + "/.kube/ci-config"},
			file: ".kube/ci-config",
			want: []string{pluginRead},
		},
		{
			name:  "KUBECONFIG in the host workspace is read from the mount",
			extra: []string{"KUBECONFIG=" + hostWorkspace + "/kubeconfig"},
			file:  "kubeconfig",
			want:  []string{pluginRead},
		},
		{
			name: "input path under RUNNER_TEMP",
			with: map[string]string{"kubeconfig": hostTemp + "/kubeconfig_1733580000000"},
			want: append([]string{`input "kubeconfig": "` + hostTemp + `/kubeconfig_1733580000000" is a path on the runner host outside the workspace`}, cannotSee...),
		},
		{
			// azure/k8s-set-context and get-gke-credentials export it.
			name:  "KUBECONFIG under RUNNER_TEMP",
			extra: []string{"KUBECONFIG=" + hostTemp + "/kubeconfig_1733580000000"},
			want:  append([]string{`input "kubeconfig": is empty, and KUBECONFIG names "` + hostTemp + `/kubeconfig_1733580000000"`}, cannotSee...),
		},
		{
			name: "input path in the host home",
			with: map[string]string{"kubeconfig": "~/.kube/config"},
			want: append([]string{`"~/.kube/config" is in the home folder of the runner host`}, cannotSee...),
		},
		{
			// aws eks update-kubeconfig writes the host's ~/.kube/config.
			name: "no kubeconfig at all",
			want: append([]string{`input "kubeconfig": is empty, KUBECONFIG too, and a ~/.kube/config written on the runner`}, cannotSee...),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			with := map[string]string{"app": "shop", "command": "status"}
			for k, v := range tc.with {
				with[k] = v
			}
			e, workspace := containerAction(t, with, tc.extra...)
			if tc.file != "" {
				writeFile(t, filepath.Join(workspace, tc.file), pluginKubeconfig)
			}
			code, stdout, stderr := runBinary(t, bin, workspace, e)
			if got, want := code, exitInput; got != want {
				t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout does not say %q:\n%s", w, stdout)
				}
			}
			if tc.file == "" && strings.Contains(stdout, pluginRead) {
				t.Errorf("a file the container cannot see was read:\n%s", stdout)
			}
		})
	}
}

// TestKubeconfigOnRunnerHost: run on the runner itself (the setup action's
// binary), paths are the host's own and are read as they are.
func TestKubeconfigOnRunnerHost(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	root := t.TempDir()
	runnerWorkspace := filepath.Join(root, "work", "shop")
	workspace := filepath.Join(runnerWorkspace, "shop")
	kubeconfig := filepath.Join(root, "work", "_temp", "kubeconfig_1733580000000")
	writeFile(t, kubeconfig, pluginKubeconfig)
	if err := os.MkdirAll(workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	e := []string{
		"CI=true",
		"GITHUB_ACTIONS=true",
		"GITHUB_REPOSITORY=acme/shop",
		"GITHUB_WORKSPACE=" + workspace,
		"RUNNER_WORKSPACE=" + runnerWorkspace,
		"RUNNER_TEMP=" + filepath.Join(root, "work", "_temp"),
		"GITHUB_OUTPUT=" + filepath.Join(root, "output"),
		"GITHUB_STEP_SUMMARY=" + filepath.Join(root, "summary"),
		"HOME=" + root,
		"KUBECONFIG=" + kubeconfig,
		"BLUEGREEN_APP=shop",
		"BLUEGREEN_COMMAND=status",
	}
	code, stdout, stderr := runBinary(t, bin, workspace, e)
	if got, want := code, exitInput; got != want {
		t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
	}
	if !strings.Contains(stdout, pluginRead) {
		t.Errorf("the kubeconfig of KUBECONFIG was not read on the host:\n%s", stdout)
	}
}

// TestHostWorkspacePathsOnPlane: a first deploy from the action's
// container with the kubeconfig and the manifest given as host paths in
// the workspace, as `${{ github.workspace }}/...` spells them, reaches the
// real cluster.
func TestHostWorkspacePathsOnPlane(t *testing.T) {
	t.Parallel()
	content, err := os.ReadFile(kubetest.KubeconfigPath(t))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join("testdata", "demo", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ns := kubetest.Namespace(t, kubetest.Config(t))
	bin := buildBinary(t)
	e, workspace := containerAction(t, map[string]string{
		"app":        "shop",
		"namespace":  ns,
		"image":      "registry.example.com/shop:1.0.0",
		"kubeconfig": hostWorkspace + "/ci/kubeconfig",
		"manifest":   hostWorkspace + "/deploy/shop.yaml",
	})
	writeFile(t, filepath.Join(workspace, "ci", "kubeconfig"), string(content))
	writeFile(t, filepath.Join(workspace, "deploy", "shop.yaml"), string(manifest))
	code, stdout, stderr := runBinary(t, bin, workspace, e)
	if got, want := code, exitOK; got != want {
		t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
	}
}
