package faults_test

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/faults"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// backend is a stand-in API server: it counts the requests it got and
// streams watch events for two seconds.
type backend struct {
	srv  *httptest.Server
	got  atomic.Int32
	conf *rest.Config
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{}
	b.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.got.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") != "true" {
			fmt.Fprint(w, `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}`)
			return
		}
		rc := http.NewResponseController(w)
		for i := range 100 {
			fmt.Fprintf(w, `{"type":"MODIFIED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","resourceVersion":"%d"}}}`+"\n", i)
			if rc.Flush() != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(b.srv.Close)
	b.conf = &rest.Config{
		Host:            b.srv.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.srv.Certificate().Raw})},
	}
	return b
}

func start(t *testing.T, cfg faults.Config) *faults.Proxy {
	t.Helper()
	p, err := faults.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func client(t *testing.T, p *faults.Proxy) *http.Client {
	t.Helper()
	c, err := rest.HTTPClientFor(p.Config())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const path = "/api/v1/namespaces/ns-1/configmaps/x"

func do(t *testing.T, c *http.Client, method, url string) (*http.Response, error) {
	t.Helper()
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

func TestEachFault(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind    faults.Kind
		method  string
		status  int    // 0: the request fails without a response
		reason  string // the Status reason of an error answer
		reached int32  // requests the backend saw
	}{
		{kind: faults.ServerError, method: http.MethodGet, status: 500, reason: "InternalError"},
		{kind: faults.Unavailable, method: http.MethodGet, status: 503, reason: "ServiceUnavailable"},
		{kind: faults.TooManyRequests, method: http.MethodGet, status: 429, reason: "TooManyRequests"},
		{kind: faults.Reset, method: http.MethodPut},
		{kind: faults.LostResponse, method: http.MethodPut, reached: 1},
		{kind: faults.Latency, method: http.MethodGet, status: 200, reached: 1},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			p := start(t, faults.Config{Upstream: b.conf, Rate: 1, Kinds: []faults.Kind{tc.kind}, RetryAfter: 3})
			resp, err := do(t, client(t, p), tc.method, p.Config().Host+path)
			if tc.status == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("%s: got status %d, want a failed request", tc.kind, resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatalf("%s: %v", tc.kind, err)
				}
				defer resp.Body.Close()
				if got := resp.StatusCode; got != tc.status {
					t.Errorf("%s: status %d, want %d", tc.kind, got, tc.status)
				}
				if tc.reason != "" {
					var s metav1.Status
					if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
						t.Fatalf("decoding the Status: %v", err)
					}
					if string(s.Reason) != tc.reason || int(s.Code) != tc.status {
						t.Errorf("Status reason %q code %d, want %q %d", s.Reason, s.Code, tc.reason, tc.status)
					}
				}
			}
			if tc.kind == faults.TooManyRequests {
				if got := resp.Header.Get("Retry-After"); got != "3" {
					t.Errorf("Retry-After %q, want 3", got)
				}
			}
			if got := b.got.Load(); got != tc.reached {
				t.Errorf("the backend saw %d requests, want %d", got, tc.reached)
			}
			ev := p.Events()
			if len(ev) != 1 || ev[0].Kind != tc.kind || ev[0].Method != tc.method || ev[0].Path != path {
				t.Errorf("events %v, want one %s of %s %s", ev, tc.kind, tc.method, path)
			}
		})
	}
}

func TestDropWatch(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	p := start(t, faults.Config{Upstream: b.conf, Rate: 1, Kinds: []faults.Kind{faults.DropWatch}, MaxWatch: 100 * time.Millisecond})
	c := client(t, p)

	// A request that is no watch never gets a dropped watch.
	resp, err := do(t, c, http.MethodGet, p.Config().Host+path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := len(p.Events()); got != 0 {
		t.Errorf("a plain GET met %d faults, want none", got)
	}

	resp, err = do(t, c, http.MethodGet, p.Config().Host+"/api/v1/namespaces/ns-1/configmaps?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		events++
	}
	// The backend streams 100 events; the cut comes within 100ms, after
	// a few of them, and is no clean end of the stream.
	if events == 0 || events >= 100 {
		t.Errorf("read %d watch events, want some but not all 100", events)
	}
	if err := sc.Err(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("stream ended with %v, want %v", err, io.ErrUnexpectedEOF)
	}
	if ev := p.Events(); len(ev) != 1 || ev[0].Kind != faults.DropWatch || !strings.HasSuffix(ev[0].Path, "?watch") {
		t.Errorf("events %v, want one dropped watch", ev)
	}
}

func TestRateExemptAndSetRate(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	p := start(t, faults.Config{
		Upstream: b.conf, Rate: 1, Kinds: []faults.Kind{faults.ServerError},
		Exempt: func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/leases/") },
	})
	c := client(t, p)
	get := func(path string) int {
		resp, err := do(t, c, http.MethodGet, pHost(p)+path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(path); got != 500 {
		t.Errorf("rate 1: status %d, want 500", got)
	}
	if got := get("/apis/coordination.k8s.io/v1/namespaces/ns-1/leases/shop"); got != 200 {
		t.Errorf("exempt request: status %d, want 200", got)
	}
	p.SetRate(0)
	if got := get(path); got != 200 {
		t.Errorf("rate 0: status %d, want 200", got)
	}
	if got, want := p.Requests(), 3; got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
}

func pHost(p *faults.Proxy) string { return p.Config().Host }

// TestSeedReproduces: the same seed injects the same faults into the same
// requests, even when other requests interleave differently.
func TestSeedReproduces(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	kinds := []faults.Kind{faults.ServerError, faults.Unavailable, faults.TooManyRequests, faults.Latency}
	run := func(seed int64, noise bool) []string {
		p := start(t, faults.Config{Upstream: b.conf, Seed: seed, Rate: 0.4, Kinds: kinds, MaxLatency: time.Millisecond})
		c := client(t, p)
		var got []string
		for i := range 40 {
			if noise && i%3 == 0 {
				// Another caller's request, in another namespace.
				if resp, err := do(t, c, http.MethodGet, pHost(p)+"/api/v1/namespaces/ns-2/pods"); err == nil {
					resp.Body.Close()
				}
			}
			resp, err := do(t, c, http.MethodGet, pHost(p)+path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got = append(got, resp.Status)
		}
		return got
	}
	a, again, other := run(7, false), run(7, true), run(8, false)
	if diff := cmp.Diff(a, again); diff != "" {
		t.Errorf("seed 7 twice (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, other) {
		t.Errorf("seeds 7 and 8 gave the same faults: %q", a)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	cases := []struct {
		name string
		cfg  faults.Config
		want string
	}{
		{"no upstream", faults.Config{}, "no upstream"},
		{"rate", faults.Config{Upstream: b.conf, Rate: 1.5}, "rate 1.5"},
		{"kind", faults.Config{Upstream: b.conf, Kinds: []faults.Kind{"fire"}}, `unknown fault "fire"`},
	}
	for _, tc := range cases {
		_, err := faults.Start(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestAgainstControlPlane reads through the proxy from the real API
// server, with and without faults.
func TestAgainstControlPlane(t *testing.T) {
	t.Parallel()
	rc := kubetest.Config(t)
	p := start(t, faults.Config{Upstream: rc, Rate: 0, Kinds: []faults.Kind{faults.ServerError}})
	core, err := coreclient.NewForConfig(p.Config())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.Namespaces().Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("reading through a proxy without faults: %v", err)
	}
	p.SetRate(1)
	_, err = core.Namespaces().Get(t.Context(), "default", metav1.GetOptions{})
	if !apierrors.IsInternalError(err) {
		t.Errorf("reading with every request failing: error %v, want an InternalError", err)
	}
}

// TestWatchRate: watches, few among many requests, can meet faults more
// often than the rest; a rate of 0 still turns every fault off.
func TestWatchRate(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	p := start(t, faults.Config{Upstream: b.conf, Seed: 1, Rate: 1e-9, WatchRate: 1, Kinds: []faults.Kind{faults.ServerError}})
	c := client(t, p)
	get := func(path string) int {
		resp, err := do(t, c, http.MethodGet, pHost(p)+path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // a watch streams on: the status is enough
		return resp.StatusCode
	}
	const watch = "/api/v1/namespaces/ns-1/configmaps?watch=true"
	if got := get(path); got != 200 {
		t.Errorf("plain GET: status %d, want 200", got)
	}
	if got := get(watch); got != 500 {
		t.Errorf("watch: status %d, want 500", got)
	}
	p.SetRate(0)
	if got := get(watch); got != 200 {
		t.Errorf("watch at rate 0: status %d, want 200", got)
	}
}
