package haproxytest

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ReleaseHeader carries, on every answer of an App, the release it runs,
// so that a load generator can tell which color served each request.
const ReleaseHeader = "X-Release"

// App is a real HTTP server on a loopback port standing for one server of
// a color: GET /version answers its release, /healthz answers 200 while
// healthy, and every other path answers 200 (or Status when set) with the
// release in ReleaseHeader.
type App struct {
	Addr string

	mu      sync.Mutex
	release string
	healthy bool
	status  int

	served atomic.Int64
	srv    *http.Server
	ln     net.Listener
}

// StartApp starts an App running release, healthy, on a free port.
func StartApp(t testing.TB, release string) *App {
	t.Helper()
	a := &App{release: release, healthy: true, status: http.StatusOK}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	a.Addr = ln.Addr().String()
	a.serve(ln)
	t.Cleanup(a.Stop)
	return a
}

func (a *App) serve(ln net.Listener) {
	a.ln = ln
	a.srv = &http.Server{Handler: http.HandlerFunc(a.handle), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
}

func (a *App) handle(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	release, healthy, status := a.release, a.healthy, a.status
	a.mu.Unlock()
	w.Header().Set(ReleaseHeader, release)
	switch r.URL.Path {
	case "/version":
		_, _ = w.Write([]byte(release + "\n"))
	case "/healthz":
		if !healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	default:
		a.served.Add(1)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(release))
	}
}

// Set makes the app run release, healthy or not, answering status to
// ordinary requests: what a deploy to its machine would do.
func (a *App) Set(release string, healthy bool, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.release, a.healthy, a.status = release, healthy, status
}

// Release returns what the app runs.
func (a *App) Release() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.release
}

// Served counts the ordinary requests the app answered.
func (a *App) Served() int64 { return a.served.Load() }

// Stop closes the listener and every connection at once, as a killed
// process would.
func (a *App) Stop() {
	if a.srv != nil {
		_ = a.srv.Close()
	}
}

// Restart listens again on the same address after Stop.
func (a *App) Restart() error {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", a.Addr); err == nil {
			a.serve(ln)
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.Join(errors.New("listening again on "+a.Addr), err)
}
