package deploy_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// The bluegreen binary, built once for the tests that run it and removed
// when the last of them is done.
var (
	binMu    sync.Mutex
	binPath  string
	binUsers int
)

// bluegreenBinary builds the command as users get it (go build, no race
// detector) and returns its path.
func bluegreenBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	binMu.Lock()
	defer binMu.Unlock()
	if binPath == "" {
		dir, err := os.MkdirTemp("", "bluegreen-kill-")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "bluegreen")
		out, err := exec.Command("go", "build", "-o", path, "github.com/bluegreen-dev/bluegreen-action").CombinedOutput()
		if err != nil {
			_ = os.RemoveAll(dir)
			t.Fatalf("go build: %v\n%s", err, out)
		}
		binPath = path
	}
	binUsers++
	t.Cleanup(func() {
		binMu.Lock()
		defer binMu.Unlock()
		if binUsers--; binUsers == 0 {
			_ = os.RemoveAll(filepath.Dir(binPath))
			binPath = ""
		}
	})
	return binPath
}

// writeKubeconfig writes rc as a kubeconfig file for the binary.
func writeKubeconfig(t *testing.T, rc *rest.Config) string {
	t.Helper()
	cluster := &clientcmdapi.Cluster{
		Server: rc.Host, CertificateAuthority: rc.CAFile, CertificateAuthorityData: rc.CAData,
		InsecureSkipTLSVerify: rc.Insecure, TLSServerName: rc.ServerName,
	}
	user := &clientcmdapi.AuthInfo{
		Token: rc.BearerToken, TokenFile: rc.BearerTokenFile,
		ClientCertificate: rc.CertFile, ClientCertificateData: rc.CertData,
		ClientKey: rc.KeyFile, ClientKeyData: rc.KeyData,
		Username: rc.Username, Password: rc.Password,
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = cluster
	cfg.AuthInfos["test"] = user
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test"}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// proc is one bluegreen process: its output as it comes, and how it ended.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	result string // path of its JSON result file
	done   chan struct{}
	err    error // from Wait, once done is closed
}

// startBluegreen starts the binary with inputs (BLUEGREEN_* without the
// prefix) and nothing else in its environment.
func startBluegreen(bin, dir string, inputs map[string]string) (*proc, error) {
	p := &proc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, result: filepath.Join(dir, "result.json"), done: make(chan struct{})}
	env := []string{"BLUEGREEN_RESULT_FILE=" + p.result}
	for k, v := range inputs {
		env = append(env, "BLUEGREEN_"+k+"="+v)
	}
	p.cmd = exec.Command(bin)
	p.cmd.Dir, p.cmd.Env = dir, env
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_, _ = io.Copy(p.stdout, bufio.NewReader(out))
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitLine waits until the process printed a line containing s. It
// reports false when the process ended first, or after limit (a hang
// guard).
func (p *proc) waitLine(s string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if strings.Contains(p.stdout.String(), s) {
			return true
		}
		select {
		case <-p.done:
			return strings.Contains(p.stdout.String(), s)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return false
}

// signal sends sig, unless the process has already ended.
func (p *proc) signal(sig syscall.Signal) error {
	err := p.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// wait waits for the process to end and returns its exit status; false
// when it did not end within limit (a hang guard, no speed assertion), in
// which case it is killed.
func (p *proc) wait(limit time.Duration) (int, bool) {
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		return -1, false
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), true
		}
		return exit.ExitCode(), true
	}
	return 0, true
}

// owner is the name the process holds the deploy lock under (lock.Owner
// outside CI: host and pid).
func (p *proc) owner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d", host, p.cmd.Process.Pid)
}

// resultFile reads the JSON result the process wrote at its end.
func (p *proc) resultFile() (report.Result, error) {
	var r report.Result
	b, err := os.ReadFile(p.result)
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(b, &r)
}

func (p *proc) String() string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
}

// colorLines returns the rows of the summary's color table, by color.
func colorLines(stdout string) map[string]string {
	rows := map[string]string{}
	inTable := false
	for line := range strings.Lines(stdout) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && f[0] == "color" && f[1] == "live" && f[4] == "state":
			inTable = true
		case len(f) == 0:
			inTable = false
		case inTable && (f[0] == "blue" || f[0] == "green"):
			rows[f[0]] = strings.TrimSpace(line)
		}
	}
	return rows
}
