package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestConfigFileList: several files, as KUBECONFIG lists them, are
// merged as kubectl merges them: the cluster from one file, the user and
// the current context from another.
func TestRestConfigFileList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:6443\"}\n")
	write(b, "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: secret-token}\n"+
		"contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n")

	var masked []string
	cfg, err := RestConfig(strings.Join([]string{a, b}, string(filepath.ListSeparator)), func(s string) { masked = append(masked, s) })
	if err != nil {
		t.Fatalf("RestConfig: %v", err)
	}
	if got, want := cfg.Host, "https://127.0.0.1:6443"; got != want {
		t.Errorf("host = %q, want %q", got, want)
	}
	if got, want := cfg.BearerToken, "secret-token"; got != want {
		t.Errorf("token = %q, want %q", got, want)
	}
	if !strings.Contains(strings.Join(masked, " "), "secret-token") {
		t.Errorf("the token was not masked: %q", masked)
	}
}
