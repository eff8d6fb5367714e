package httptimeout_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/httptimeout"
)

// silent accepts connections and never writes.
func silent(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

func get(t *testing.T, rt http.RoundTripper, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return (&http.Client{Transport: rt}).Do(req)
}

func TestSilentServer(t *testing.T) {
	t.Parallel()
	for _, mode := range []httptimeout.Mode{httptimeout.Whole, httptimeout.Headers} {
		rt := httptimeout.Transport(http.DefaultTransport, 50*time.Millisecond, func(*http.Request) httptimeout.Mode { return mode })
		_, err := get(t, rt, silent(t))
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer from") {
			t.Errorf("mode %d: error = %v, want one that says no answer came, wrapping DeadlineExceeded", mode, err)
		}
	}
}

// stalling answers headers and a first part of the body, then waits
// until release is closed.
func stalling(t *testing.T) (url string, release chan struct{}) {
	t.Helper()
	release = make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, release
}

// TestStreamBodyNotBounded: in Headers mode a body may outlast the
// timeout; in Whole mode it may not.
func TestStreamBodyNotBounded(t *testing.T) {
	t.Parallel()
	url, release := stalling(t)
	// The headers must arrive within the timeout for the test to say
	// anything, so it is long enough for a machine under load; the test
	// then waits it out once.
	const d = time.Second
	headers := httptimeout.Transport(http.DefaultTransport, d, func(*http.Request) httptimeout.Mode { return httptimeout.Headers })
	resp, err := get(t, headers, url)
	if err != nil {
		t.Fatal(err)
	}
	// Let the timeout pass for sure by waiting for a Whole request with the
	// same timeout to run out, then release the stream.
	whole := httptimeout.Transport(http.DefaultTransport, d, nil)
	wresp, err := get(t, whole, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(wresp.Body); err == nil {
		t.Error("Whole: the body outlasted the timeout")
	}
	wresp.Body.Close()
	close(release)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "first" {
		t.Errorf("Headers: body = %q, %v; want all of it", b, err)
	}
}

func TestNoneAndZero(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	for _, rt := range []http.RoundTripper{
		httptimeout.Transport(http.DefaultTransport, time.Nanosecond, func(*http.Request) httptimeout.Mode { return httptimeout.None }),
		httptimeout.Transport(http.DefaultTransport, 0, nil),
	} {
		resp, err := get(t, rt, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Errorf("body = %q, want ok", b)
		}
	}
}
