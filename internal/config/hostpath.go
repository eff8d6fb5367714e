package config

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

// As a Docker action, bluegreen runs in a container that sees one folder of
// the runner host: the workspace, $RUNNER_WORKSPACE/<repo> on the host,
// mounted at $GITHUB_WORKSPACE (/github/workspace). Set-up actions write
// their kubeconfig elsewhere on the host (azure/k8s-set-context and
// google-github-actions/get-gke-credentials under $RUNNER_TEMP, `aws eks
// update-kubeconfig` in ~/.kube) and export KUBECONFIG with the host's
// path, which the runner passes on unchanged. So a host path in the
// workspace is read from the mount, and any other host path is a bad input
// that says why and what works instead, rather than a file not found.

// cannotSee says that the action's container cannot see a file of input,
// and the ways that work.
func cannotSee(input, hostWS, ws, format string, args ...any) error {
	ways := "put the file in the workspace"
	if input == "kubeconfig" {
		ways = "give the kubeconfig's content from a secret instead of a path (kubeconfig: ${{ secrets.KUBECONFIG }})"
	}
	return Errorf(input, format+"; the action's container sees only the workspace (%s on the runner, mounted at %s). "+
		"Either %s, or install bluegreen on the runner with `uses: bluegreen-dev/bluegreen-action/setup@v1` and "+
		"`run: bluegreen %s`, which reads the runner's files and runs its credential plugins",
		append(args, hostWS, ws, ways, command.Deploy)...)
}

// runnerContainer says where the host's workspace is seen, when bluegreen
// runs as a Docker action; ok is false anywhere else (on the runner host
// itself, in another CI).
func runnerContainer(getenv func(string) string) (hostWorkspace, workspace string, ok bool) {
	if getenv("GITHUB_ACTIONS") != "true" {
		return "", "", false
	}
	workspace, runnerWorkspace := getenv("GITHUB_WORKSPACE"), getenv("RUNNER_WORKSPACE")
	if workspace == "" || runnerWorkspace == "" {
		return "", "", false
	}
	// The runner checks the repository out to $RUNNER_WORKSPACE/<name>.
	name := path.Base(getenv("GITHUB_REPOSITORY"))
	if name == "." || name == "/" {
		name = path.Base(runnerWorkspace)
	}
	hostWorkspace = path.Join(runnerWorkspace, name)
	// On the host GITHUB_WORKSPACE is that very folder; in the container
	// it is the mount.
	if path.Clean(workspace) == hostWorkspace {
		return "", "", false
	}
	return hostWorkspace, path.Clean(workspace), true
}

// FromHost rewrites the file inputs given as paths on the runner host
// (kubeconfig, KUBECONFIG, manifest, task-definition, migrations-dir,
// source-image, result-file) to where the action's container sees them,
// and fails naming the input when it cannot see them at all. Outside a
// Docker action it changes nothing. getenv is os.Getenv in production.
func (c *Config) FromHost(getenv func(string) string) error {
	hostWS, ws, ok := runnerContainer(getenv)
	if !ok {
		return nil
	}
	see := func(input, p string) (string, error) {
		if p == "" || !isPath(p) {
			return p, nil
		}
		if strings.HasPrefix(p, "~") {
			return "", cannotSee(input, hostWS, ws, "%q is in the home folder of the runner host", p)
		}
		if !filepath.IsAbs(p) {
			return p, nil // relative to the working directory, the workspace
		}
		clean := path.Clean(p)
		if rel, ok := strings.CutPrefix(clean, hostWS); ok && (rel == "" || strings.HasPrefix(rel, "/")) {
			return path.Join(ws, rel), nil
		}
		if _, err := os.Stat(clean); err == nil || clean == ws || strings.HasPrefix(clean, ws+"/") {
			return p, nil // in the container already: the mount itself, or the image
		}
		return "", cannotSee(input, hostWS, ws, "%q is a path on the runner host outside the workspace", p)
	}

	var errs []error
	for _, f := range []struct {
		input string
		value *string
	}{
		{"kubeconfig", &c.Kubernetes.Kubeconfig},
		{"manifest", &c.Kubernetes.Manifest},
		{"task-definition", &c.AWS.TaskDefinition},
		{"migrations-dir", &c.MigrationsDir},
		{"source-image", &c.Promote.SourceImage},
		{"result-file", &c.ResultFile},
	} {
		if f.input == "source-image" && !filepath.IsAbs(*f.value) {
			continue // a registry reference, or a relative path
		}
		v, err := see(f.input, *f.value)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*f.value = v
	}

	// KUBECONFIG, exported by set-up actions, stands in for an empty
	// kubeconfig input; it may list several files.
	if env := getenv("KUBECONFIG"); c.Kubernetes.Kubeconfig == "" && env != "" && c.usesKubeconfig() {
		var seen []string
		for _, p := range filepath.SplitList(env) {
			v, err := see("kubeconfig", p)
			if err != nil {
				errs = append(errs, cannotSee("kubeconfig", hostWS, ws, "is empty, and KUBECONFIG names %q, a path on the runner host outside the workspace", p))
				break
			}
			seen = append(seen, v)
		}
		if len(errs) == 0 {
			c.Kubernetes.Kubeconfig = strings.Join(seen, string(filepath.ListSeparator))
		}
	} else if c.Kubernetes.Kubeconfig == "" && c.usesKubeconfig() && getenv("KUBERNETES_SERVICE_HOST") == "" {
		// client-go would look for ~/.kube/config in the container's home,
		// where no set-up step wrote one.
		if _, err := os.Stat(filepath.Join(getenv("HOME"), ".kube", "config")); err != nil {
			errs = append(errs, cannotSee("kubeconfig", hostWS, ws,
				"is empty, KUBECONFIG too, and a ~/.kube/config written on the runner (as `aws eks update-kubeconfig` writes it) is not in the container"))
		}
	}
	sortErrors(errs)
	return errors.Join(errs...)
}

// usesKubeconfig reports whether the run reaches a cluster through a
// kubeconfig.
func (c *Config) usesKubeconfig() bool {
	return c.Platform == "kubernetes" && c.AWS.EKSCluster == "" && !c.Command.Standalone()
}

// isPath tells a path from kubeconfig content (YAML or JSON, many lines).
func isPath(v string) bool {
	return !strings.ContainsAny(v, "\n{") && !strings.Contains(v, ": ")
}
