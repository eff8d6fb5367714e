package haproxytest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Prometheus is a running Prometheus server (Debian's package).
type Prometheus struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	dir  string
}

// StartPrometheus starts Prometheus scraping each metrics URL (such as
// HAProxy.MetricsURL) every interval, and returns once it is ready.
func StartPrometheus(t testing.TB, interval time.Duration, metricsURLs ...string) *Prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv(envIntegration) == "1" {
			t.Fatalf("prometheus not installed; scripts/haproxy-local install (%s=1 requires it)", envIntegration)
		}
		t.Skip("prometheus not installed; scripts/haproxy-local install")
	}
	dir := t.TempDir()
	var targets []string
	path := "/metrics"
	for _, u := range metricsURLs {
		hostPath := strings.TrimPrefix(u, "http://")
		host, p, _ := strings.Cut(hostPath, "/")
		targets = append(targets, fmt.Sprintf("%q", host))
		path = "/" + p
	}
	ms := interval.Milliseconds()
	cfg := fmt.Sprintf("global:\n  scrape_interval: %dms\n  evaluation_interval: %dms\nscrape_configs:\n  - job_name: haproxy\n    metrics_path: %s\n    static_configs:\n      - targets: [%s]\n",
		ms, ms, path, strings.Join(targets, ", "))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := FreePort(t)
	p := &Prometheus{URL: "http://" + addr, done: make(chan struct{}), dir: dir}
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		// Short windows: a test's rate() needs few scrapes.
		"--query.lookback-delta=30s")
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	go func() { _ = p.cmd.Wait(); log.Close(); close(p.done) }()
	t.Cleanup(p.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			out, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready at %s in 30s", p.URL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills Prometheus and waits for it to exit.
func (p *Prometheus) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}
