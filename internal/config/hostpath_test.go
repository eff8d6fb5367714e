package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFromHost(t *testing.T) {
	t.Parallel()
	ws := t.TempDir() // stands for /github/workspace
	inImage := filepath.Join(t.TempDir(), "in-image.json")
	if err := os.WriteFile(inImage, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	container := map[string]string{
		"GITHUB_ACTIONS":    "true",
		"GITHUB_WORKSPACE":  ws,
		"GITHUB_REPOSITORY": "acme/shop",
		"RUNNER_WORKSPACE":  "/home/runner/work/shop",
		"RUNNER_TEMP":       "/home/runner/work/_temp",
		"HOME":              t.TempDir(),
	}
	cases := []struct {
		name    string
		env     map[string]string
		set     func(*Config)
		check   func(*Config) string // what the input became
		want    string
		wantErr string
	}{
		{
			name:  "manifest in the host workspace",
			env:   container,
			set:   func(c *Config) { c.Kubernetes.Manifest = "/home/runner/work/shop/shop/deploy/shop.yaml" },
			check: func(c *Config) string { return c.Kubernetes.Manifest },
			want:  ws + "/deploy/shop.yaml",
		},
		{
			name:  "relative paths stay relative to the workspace",
			env:   container,
			set:   func(c *Config) { c.AWS.TaskDefinition = "deploy/td.json" },
			check: func(c *Config) string { return c.AWS.TaskDefinition },
			want:  "deploy/td.json",
		},
		{
			name:  "a file the container has",
			env:   container,
			set:   func(c *Config) { c.AWS.TaskDefinition = inImage },
			check: func(c *Config) string { return c.AWS.TaskDefinition },
			want:  inImage,
		},
		{
			name:  "a neighbour of the workspace is not in it",
			env:   container,
			set:   func(c *Config) { c.Platform, c.ResultFile = "ecs", "/home/runner/work/shop/shopping/result.json" },
			check: func(c *Config) string { return c.ResultFile },
			wantErr: `input "result-file": "/home/runner/work/shop/shopping/result.json" is a path on the runner host outside the workspace; ` +
				"the action's container sees only the workspace (/home/runner/work/shop/shop on the runner, mounted at " + ws + "). Either put the file in the workspace",
		},
		{
			name:  "source-image reference is no path",
			env:   container,
			set:   func(c *Config) { c.Promote.SourceImage = "ghcr.io/acme/shop:1.0" },
			check: func(c *Config) string { return c.Promote.SourceImage },
			want:  "ghcr.io/acme/shop:1.0",
		},
		{
			name:  "kubeconfig content is no path",
			env:   container,
			set:   func(c *Config) { c.Kubernetes.Kubeconfig = "apiVersion: v1\nkind: Config\n" },
			check: func(c *Config) string { return c.Kubernetes.Kubeconfig },
			want:  "apiVersion: v1\nkind: Config\n",
		},
		{
			name:  "several KUBECONFIG files in the workspace",
			env:   with(container, "KUBECONFIG", "/home/runner/work/shop/shop/a:/home/runner/work/shop/shop/b"),
			check: func(c *Config) string { return c.Kubernetes.Kubeconfig },
			want:  ws + "/a:" + ws + "/b",
		},
		{
			name:  "KUBECONFIG is not needed by promote",
			env:   with(container, "KUBECONFIG", "/home/runner/work/_temp/kubeconfig"),
			set:   func(c *Config) { c.Command = "promote" },
			check: func(c *Config) string { return c.Kubernetes.Kubeconfig },
			want:  "",
		},
		{
			name:  "nor by ECS",
			env:   container,
			set:   func(c *Config) { c.Platform = "ecs" },
			check: func(c *Config) string { return c.Kubernetes.Kubeconfig },
			want:  "",
		},
		{
			name:  "on the runner host paths are the host's",
			env:   with(container, "GITHUB_WORKSPACE", "/home/runner/work/shop/shop"),
			set:   func(c *Config) { c.Kubernetes.Kubeconfig = "/home/runner/work/_temp/kubeconfig" },
			check: func(c *Config) string { return c.Kubernetes.Kubeconfig },
			want:  "/home/runner/work/_temp/kubeconfig",
		},
		{
			name:  "in another CI paths are as given",
			env:   map[string]string{"CI": "true"},
			set:   func(c *Config) { c.Kubernetes.Manifest = "/home/runner/work/shop/shop/deploy/shop.yaml" },
			check: func(c *Config) string { return c.Kubernetes.Manifest },
			want:  "/home/runner/work/shop/shop/deploy/shop.yaml",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Config{Command: "deploy", Platform: "kubernetes"}
			if tc.set != nil {
				tc.set(c)
			}
			err := c.FromHost(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) || !IsInputError(err) {
					t.Fatalf("FromHost error = %v, want an input error starting %q", err, tc.wantErr)
				}
				return
			}
			// Runs without a kubeconfig anywhere fail for that alone.
			if err != nil && !strings.Contains(err.Error(), "KUBECONFIG too") {
				t.Fatalf("FromHost: %v", err)
			}
			if got := tc.check(c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func with(env map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range env {
		if key != k {
			out[key] = val
		}
	}
	return out
}
