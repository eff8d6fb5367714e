package main

import (
	"strings"
	"testing"
)

// TestNextStepRefusedCluster: a kubeconfig naming an address nothing
// listens on fails with the error once and a next step that names the
// address and how a kubeconfig reaches the container.
func TestNextStepRefusedCluster(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: ci
  cluster:
    server: https://` + addr + `
    insecure-skip-tls-verify: true
users:
- name: ci
  user:
    token: not-a-real-token
contexts:
- name: ci
  context: {cluster: ci, user: ci}
current-context: ci
`
	code, _, stderr := runMain(t, nil, env{
		"BLUEGREEN_APP":        "shop",
		"BLUEGREEN_IMAGE":      "ghcr.io/acme/shop:1.4.2",
		"BLUEGREEN_NAMESPACE":  "shop",
		"BLUEGREEN_KUBECONFIG": kubeconfig,
	})
	if code == exitOK {
		t.Fatalf("exit status = %d, want a failure\nstderr:\n%s", code, stderr)
	}
	if got, want := strings.Count(stderr, "connection refused"), 1; got != want {
		t.Errorf("the error is said %d times on stderr, want %d:\n%s", got, want, stderr)
	}
	for _, want := range []string{"bluegreen: next step: Nothing accepted a connection at " + addr, "container itself", "`kubeconfig`"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
