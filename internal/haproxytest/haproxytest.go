// Package haproxytest starts a real HAProxy (Debian's package, installed
// by scripts/haproxy-local) for a test, with a generated configuration on
// free loopback ports: one frontend per backend, a Runtime API at admin
// level over TCP and at operator level on a unix socket, and HAProxy's
// built-in Prometheus exporter. It stops when the test ends.
package haproxytest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	envIntegration = "BLUEGREEN_INTEGRATION" // "1": a missing haproxy fails the test
	notInstalled   = "haproxy not installed; scripts/haproxy-local install"
)

// Server is one server line of a backend.
type Server struct {
	Name string
	Addr string // host:port
	// Weight is the configured (initial) weight; HAProxy's default is 1.
	Weight int
	// NoCheck leaves the server without health checks.
	NoCheck bool
	// Cookie is the server's persistence cookie value, with
	// Backend.Cookie.
	Cookie string
}

// Backend is a backend and the frontend that sends to it.
type Backend struct {
	Name    string
	Servers []Server
	// CheckPath is the path of HTTP health checks; "/healthz" when empty.
	CheckPath string
	// Cookie, when set, names the cookie of HAProxy's cookie persistence:
	// "cookie <Cookie> insert indirect nocache", as most guides write it.
	Cookie string
}

// Options tune the configuration.
type Options struct {
	// CheckInterval is the time between health checks of a server
	// (100ms when zero); a server goes down after two failures and up
	// after one success.
	CheckInterval time.Duration
	// HistoryMap declares a map file in the first frontend, so that the
	// Runtime API can hold entries in it (HAProxy.HistoryMap names it).
	HistoryMap bool
}

// HAProxy is a running HAProxy.
type HAProxy struct {
	// AdminAddr is the Runtime API at admin level (host:port);
	// OperatorSocket the same API at operator level ("unix:/path").
	AdminAddr, OperatorSocket string
	// URLs maps each backend to its frontend's base URL.
	URLs map[string]string
	// MetricsURL is HAProxy's Prometheus exporter.
	MetricsURL string
	// Dir holds the configuration, the log and any map file.
	Dir string
	// HistoryMap is the path of the map file, with Options.HistoryMap.
	HistoryMap string

	cmd  *exec.Cmd
	done chan struct{}
}

// Binary returns the path of haproxy, skipping the test (or failing it
// when BLUEGREEN_INTEGRATION=1) when it is not installed.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("haproxy")
	if err != nil {
		for _, p := range []string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"} {
			if _, serr := os.Stat(p); serr == nil {
				return p
			}
		}
		if os.Getenv(envIntegration) == "1" {
			t.Fatalf("%s (%s=1 requires it)", notInstalled, envIntegration)
		}
		t.Skip(notInstalled)
	}
	return path
}

// FreePort returns a loopback address with a port nothing listens on now.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start writes a configuration for backends and starts HAProxy on it. It
// returns once the Runtime API answers.
func Start(t testing.TB, opts Options, backends ...Backend) *HAProxy {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	h := &HAProxy{
		AdminAddr:      FreePort(t),
		OperatorSocket: "unix:" + filepath.Join(dir, "operator.sock"),
		URLs:           map[string]string{},
		Dir:            dir,
		done:           make(chan struct{}),
	}
	metrics := FreePort(t)
	h.MetricsURL = "http://" + metrics + "/metrics"
	inter := opts.CheckInterval
	if inter <= 0 {
		inter = 100 * time.Millisecond
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "global\n  stats socket ipv4@%s level admin\n  stats socket %s level operator\n", h.AdminAddr, strings.TrimPrefix(h.OperatorSocket, "unix:"))
	// timeout check: without it a check must be answered within inter,
	// and a server slowed by a loaded machine (or the race detector)
	// would be taken down by checks alone.
	b.WriteString("defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n  timeout http-keep-alive 30s\n  timeout check 2s\n  option redispatch\n  retries 0\n")
	fmt.Fprintf(&b, "frontend metrics\n  bind %s\n  http-request use-service prometheus-exporter if { path /metrics }\n", metrics)
	for i, be := range backends {
		addr := FreePort(t)
		h.URLs[be.Name] = "http://" + addr
		fmt.Fprintf(&b, "frontend fe_%s\n  bind %s\n  default_backend %s\n", be.Name, addr, be.Name)
		if i == 0 && opts.HistoryMap {
			// HAProxy 2.6 knows only maps loaded from a file named in the
			// configuration; an empty file will do.
			h.HistoryMap = filepath.Join(dir, "bluegreen-history.map")
			if err := os.WriteFile(h.HistoryMap, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "  http-request set-var(txn.bluegreen) str(x),map(%s)\n", h.HistoryMap)
		}
		path := be.CheckPath
		if path == "" {
			path = "/healthz"
		}
		fmt.Fprintf(&b, "backend %s\n  balance roundrobin\n  option httpchk GET %s\n", be.Name, path)
		if be.Cookie != "" {
			fmt.Fprintf(&b, "  cookie %s insert indirect nocache\n", be.Cookie)
		}
		for _, s := range be.Servers {
			w := s.Weight
			if w < 0 {
				w = 0
			}
			line := fmt.Sprintf("  server %s %s weight %d", s.Name, s.Addr, w)
			if s.Cookie != "" {
				line += " cookie " + s.Cookie
			}
			if !s.NoCheck {
				line += fmt.Sprintf(" check inter %dms fall 2 rise 1", inter.Milliseconds())
			}
			b.WriteString(line + "\n")
		}
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	// -db: stay in the foreground, so that the test owns the process.
	h.cmd = exec.Command(bin, "-db", "-f", cfg)
	h.cmd.Stdout, h.cmd.Stderr = log, log
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("starting haproxy: %v", err)
	}
	go func() { _ = h.cmd.Wait(); log.Close(); close(h.done) }()
	t.Cleanup(h.Stop)

	deadline := time.Now().Add(10 * time.Second)
	for {
		// Both sockets: the kernel queues a TCP connection as soon as
		// HAProxy binds it, which can be before the unix socket exists.
		if err := dialBoth(h); err == nil {
			return h
		}
		select {
		case <-h.done:
			out, _ := os.ReadFile(filepath.Join(dir, "haproxy.log"))
			t.Fatalf("haproxy exited: %s\nconfig:\n%s", out, b.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy's Runtime API did not answer at %s in 10s", h.AdminAddr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dialBoth connects to the admin and the operator socket once each.
func dialBoth(h *HAProxy) error {
	for _, a := range [][2]string{{"tcp", h.AdminAddr}, {"unix", strings.TrimPrefix(h.OperatorSocket, "unix:")}} {
		c, err := net.DialTimeout(a[0], a[1], time.Second)
		if err != nil {
			return err
		}
		c.Close()
	}
	return nil
}

// Stop kills HAProxy and waits for it to exit; it may be called again.
func (h *HAProxy) Stop() {
	select {
	case <-h.done:
		return
	default:
	}
	_ = h.cmd.Process.Kill()
	<-h.done
}

// Log returns what HAProxy printed so far.
func (h *HAProxy) Log() string {
	out, _ := os.ReadFile(filepath.Join(h.Dir, "haproxy.log"))
	return string(out)
}
