package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// serve starts a backend answering with h.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func answer(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

func mustStatus(t *testing.T, s string) verify.Status {
	t.Helper()
	st, err := verify.ParseStatus(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustBody(t *testing.T, s string) verify.Body {
	t.Helper()
	b, err := verify.ParseBody(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAttempt(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("stack frame\n", 100)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		status  string
		body    string
		wantErr string // "" for a pass
	}{
		{name: "2xx", handler: answer(204, "")},
		{name: "5xx", handler: answer(503, "upstream\n  not ready"),
			wantErr: `answered 503 Service Unavailable, want 2xx; body: "upstream not ready"`},
		{name: "empty body", handler: answer(500, ""), wantErr: "answered 500 Internal Server Error, want 2xx; empty body"},
		{name: "long body cut", handler: answer(500, long), wantErr: `; body: "stack frame stack frame`},
		{name: "listed status", handler: answer(204, ""), status: "200,204"},
		{name: "not listed", handler: answer(201, "made"), status: "200,204", wantErr: "answered 201 Created, want 200,204"},
		{name: "expected 401", handler: answer(401, ""), status: "401"},
		{name: "substring", handler: answer(200, `{"status":"ok"}`), body: `"ok"`},
		{name: "substring missing", handler: answer(200, `{"status":"starting"}`), body: `"ok"`,
			wantErr: `answered 200 OK, want a body containing "\"ok\""; body: "{\"status\":\"starting\"}"`},
		{name: "regexp", handler: answer(200, "version: 1.4.2"), body: `/version: 1\.4\.\d+/`},
		{name: "regexp mismatch", handler: answer(200, "version: 1.3.9"), body: `/version: 1\.4\.\d+/`,
			wantErr: `want a body matching /version: 1\.4\.\d+/; body: "version: 1.3.9"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, tc.handler)
			chk := verify.Check{URL: srv.URL, Status: mustStatus(t, tc.status), Body: mustBody(t, tc.body)}
			err := (&verify.Checker{}).Attempt(t.Context(), chk)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Attempt: %v", err)
				}
				return
			}
			if !errors.Is(err, verify.ErrFailed) {
				t.Fatalf("Attempt = %v, want an error wrapping ErrFailed", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Attempt = %q, want it to contain %q", err, tc.wantErr)
			}
			if len(err.Error()) > 400 {
				t.Errorf("Attempt error is %d characters long, want a short excerpt of the body", len(err.Error()))
			}
		})
	}
}

func TestAttemptSendsHeadersAndNeverPrintsThem(t *testing.T) {
	t.Parallel()
	var gotAuth, gotHost atomic.Value
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		gotHost.Store(r.Host)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	u := strings.Replace(srv.URL, "http://", "http://probe:hunter2@", 1)
	chk := verify.Check{URL: u, Header: http.Header{"Authorization": {"Bearer s3cret"}, "Host": {"shop.example.com"}}}
	err := (&verify.Checker{}).Attempt(t.Context(), chk)
	if err == nil {
		t.Fatal("Attempt passed a 503")
	}
	if got, want := gotAuth.Load(), "Bearer s3cret"; got != want {
		t.Errorf("Authorization sent = %q, want %q", got, want)
	}
	if got, want := gotHost.Load(), "shop.example.com"; got != want {
		t.Errorf("Host sent = %q, want %q", got, want)
	}
	for _, secret := range []string{"s3cret", "hunter2"} {
		if strings.Contains(err.Error(), secret) || strings.Contains(chk.String(), secret) {
			t.Errorf("message %q / %q holds the secret %q", err, chk.String(), secret)
		}
	}
}

func TestAttemptRedirects(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
			return
		}
		fmt.Fprint(w, "new")
	})
	c := &verify.Checker{}
	// A redirect is followed when only 2xx passes...
	if err := c.Attempt(t.Context(), verify.Check{URL: srv.URL + "/old", Body: mustBody(t, "new")}); err != nil {
		t.Errorf("following a redirect: %v", err)
	}
	// ...and judged when a 3xx is what passes.
	if err := c.Attempt(t.Context(), verify.Check{URL: srv.URL + "/old", Status: mustStatus(t, "301")}); err != nil {
		t.Errorf("expecting a redirect: %v", err)
	}
}

func TestAttemptUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://probe:hunter2@", 1)
	err := (&verify.Checker{}).Attempt(t.Context(), verify.Check{URL: u})
	if !errors.Is(err, verify.ErrFailed) {
		t.Fatalf("Attempt = %v, want ErrFailed", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Attempt = %q, shows the URL's password", err)
	}
	if strings.Contains(err.Error(), `Get "`) {
		t.Errorf("Attempt = %q repeats the request, want it said once", err)
	}
}

func TestRunRetriesUntilPass(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, "ready")
	})
	var progress []string
	chk := verify.Check{URL: srv.URL, Body: mustBody(t, "ready"), Timeout: 5 * time.Second, Interval: time.Millisecond}
	if err := (&verify.Checker{}).Run(t.Context(), chk, func(s string) { progress = append(progress, s) }); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := len(progress), 2; got != want {
		t.Errorf("progress lines = %d (%q), want %d", got, progress, want)
	}
	if len(progress) > 0 && !strings.HasPrefix(progress[0], "attempt 1: ") {
		t.Errorf("progress[0] = %q, want it to start with the attempt", progress[0])
	}
}

func TestRunTimeoutNamesLastAnswer(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "warming up")
			return
		}
		// Later attempts hang until the deadline cuts them.
		<-r.Context().Done()
	})
	chk := verify.Check{URL: srv.URL, Body: mustBody(t, "ok"), Timeout: 50 * time.Millisecond, Interval: time.Millisecond}
	err := (&verify.Checker{}).Run(t.Context(), chk, nil)
	if err == nil {
		t.Fatal("Run passed")
	}
	for _, want := range []string{
		`no 2xx answer containing "ok" from ` + srv.URL + " within 50ms (",
		`last: verification failed: GET ` + srv.URL + ` answered 503 Service Unavailable, want 2xx; body: "warming up"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Run = %q, want it to contain %q", err, want)
		}
	}
	if !errors.Is(err, verify.ErrFailed) {
		t.Errorf("Run = %v, want it to wrap ErrFailed", err)
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	srv := serve(t, answer(503, ""))
	ctx, cancel := context.WithCancel(t.Context())
	err := (&verify.Checker{Interval: time.Millisecond}).Run(ctx, verify.Check{URL: srv.URL, Timeout: time.Minute},
		func(string) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestRunWithoutTimeoutTriesOnce(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	if err := (&verify.Checker{Interval: time.Millisecond}).Run(t.Context(), verify.Check{URL: srv.URL}, nil); err == nil {
		t.Fatal("Run passed")
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

func TestOnceAndUntil(t *testing.T) {
	t.Parallel()
	ok := serve(t, answer(200, ""))
	down := serve(t, answer(500, ""))
	c := &verify.Checker{Interval: time.Millisecond}
	if err := c.Once(t.Context(), ok.URL); err != nil {
		t.Errorf("Once(ok): %v", err)
	}
	if err := c.Until(t.Context(), ok.URL, time.Second, nil); err != nil {
		t.Errorf("Until(ok): %v", err)
	}
	err := c.Until(t.Context(), down.URL, 20*time.Millisecond, nil)
	if want := "no 2xx answer from " + down.URL + " within 20ms"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Until(down) = %v, want it to contain %q", err, want)
	}
}

func TestRunAllStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	var second atomic.Int32
	bad := serve(t, answer(500, ""))
	good := serve(t, func(w http.ResponseWriter, _ *http.Request) { second.Add(1) })
	err := (&verify.Checker{}).RunAll(t.Context(), []verify.Check{{URL: bad.URL}, {URL: good.URL}}, nil)
	if !errors.Is(err, verify.ErrFailed) {
		t.Fatalf("RunAll = %v, want ErrFailed", err)
	}
	if got := second.Load(); got != 0 {
		t.Errorf("second check ran %d times after the first failed", got)
	}
	if err := (&verify.Checker{}).RunAll(t.Context(), []verify.Check{{URL: good.URL}, {URL: good.URL}}, nil); err != nil {
		t.Errorf("RunAll(good, good): %v", err)
	}
}
