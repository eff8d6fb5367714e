package faults

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// Kind is one sort of fault.
type Kind string

// The faults the proxy injects.
const (
	// ServerError answers 500 InternalError; client-go does not retry it.
	ServerError Kind = "500"
	// Unavailable answers 503 ServiceUnavailable without Retry-After, as
	// an API server that lost etcd does; client-go does not retry it.
	Unavailable Kind = "503"
	// TooManyRequests answers 429 with Retry-After, as API priority and
	// fairness does; client-go waits and retries.
	TooManyRequests Kind = "429"
	// Reset closes the connection with a TCP reset before the request
	// reaches the API server.
	Reset Kind = "reset"
	// LostResponse forwards the request, lets the API server apply it,
	// then resets the connection instead of answering: the client cannot
	// tell whether its write happened. Watches get Reset instead.
	LostResponse Kind = "lost response"
	// Latency holds the request for a spike of tens of milliseconds, then
	// forwards it.
	Latency Kind = "latency"
	// DropWatch forwards a watch and cuts its stream short, mid-stream,
	// without the end a server's own timeout would send. Other requests
	// never get it.
	DropWatch Kind = "dropped watch"
)

// All lists every kind of fault.
var All = []Kind{ServerError, Unavailable, TooManyRequests, Reset, LostResponse, Latency, DropWatch}

// Config says where the proxy forwards to and which faults it injects.
type Config struct {
	// Upstream reaches the real API server. The proxy forwards with its
	// credentials and TLS settings (rest.TransportFor).
	Upstream *rest.Config
	// Seed makes the faults reproducible; see the package comment.
	Seed int64
	// Rate is the share of requests, 0 to 1, that meet a fault. SetRate
	// changes it later.
	Rate float64
	// WatchRate, when above the rate, is the share of watches that meet a
	// fault: a run makes few watches among many requests. A rate of 0
	// turns watch faults off too.
	WatchRate float64
	// Kinds lists the faults to choose from, each equally likely among
	// those that apply to the request; nil means All.
	Kinds []Kind
	// MaxLatency is the longest latency spike; spikes last between a
	// fifth of it and all of it. Zero means 50ms.
	MaxLatency time.Duration
	// RetryAfter is the Retry-After of a 429, in whole seconds as the
	// header takes them; client-go sleeps that long before retrying.
	RetryAfter int
	// MaxWatch is the longest a dropped watch streams before it is cut.
	// Zero means 500ms.
	MaxWatch time.Duration
	// Exempt, when set, picks requests that never meet a fault.
	Exempt func(*http.Request) bool
}

// Event is one injected fault.
type Event struct {
	// Seq numbers the proxy's requests from 1, faulty or not.
	Seq    int
	Kind   Kind
	Method string
	// Path is the request's path, with "?watch" for a watch.
	Path string
	// Detail says how long a spike or a dropped watch lasted, or the
	// Retry-After of a 429.
	Detail string
}

func (e Event) String() string {
	s := fmt.Sprintf("#%d %s %s: %s", e.Seq, e.Method, e.Path, e.Kind)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Proxy is a running fault-injecting proxy. Create it with Start.
type Proxy struct {
	cfg      Config
	kinds    []Kind
	srv      *httptest.Server
	caPEM    []byte
	rt       http.RoundTripper
	upstream *url.URL
	rp       *httputil.ReverseProxy
	rate     atomic.Uint64 // math.Float64bits of the rate

	mu     sync.Mutex
	seen   map[string]int // requests so far per key
	seq    int
	events []Event
}

// Start starts a proxy in front of cfg.Upstream on a loopback port.
func Start(cfg Config) (*Proxy, error) {
	switch {
	case cfg.Upstream == nil:
		return nil, errors.New("fault proxy: no upstream configuration")
	case cfg.Rate < 0 || cfg.Rate > 1:
		return nil, fmt.Errorf("fault proxy: rate %v is not between 0 and 1", cfg.Rate)
	case cfg.WatchRate < 0 || cfg.WatchRate > 1:
		return nil, fmt.Errorf("fault proxy: watch rate %v is not between 0 and 1", cfg.WatchRate)
	case cfg.RetryAfter < 0:
		return nil, fmt.Errorf("fault proxy: negative Retry-After %d", cfg.RetryAfter)
	}
	kinds := cfg.Kinds
	if kinds == nil {
		kinds = All
	}
	for _, k := range kinds {
		if !slices.Contains(All, k) {
			return nil, fmt.Errorf("fault proxy: unknown fault %q, valid faults are %q", k, All)
		}
	}
	if cfg.MaxLatency <= 0 {
		cfg.MaxLatency = 50 * time.Millisecond
	}
	if cfg.MaxWatch <= 0 {
		cfg.MaxWatch = 500 * time.Millisecond
	}
	up, _, err := rest.DefaultServerUrlFor(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("fault proxy: reading the upstream address: %w", err)
	}
	rt, err := rest.TransportFor(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("fault proxy: building the upstream transport: %w", err)
	}
	p := &Proxy{cfg: cfg, kinds: kinds, rt: rt, upstream: up, seen: map[string]int{}}
	p.SetRate(cfg.Rate)
	quiet := log.New(io.Discard, "", 0)
	p.rp = &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(up) },
		Transport:     rt,
		FlushInterval: -1, // watches stream
		ErrorLog:      quiet,
	}
	// HTTP/1.1 only: a connection reset needs a connection of its own to
	// hijack, which HTTP/2 does not give.
	p.srv = httptest.NewUnstartedServer(p)
	p.srv.Config.ErrorLog = quiet
	p.srv.StartTLS()
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
	return p, nil
}

// Config returns a client configuration that reaches the API server
// through the proxy. It carries no credentials: the proxy adds the
// upstream's.
func (p *Proxy) Config() *rest.Config {
	c := rest.AnonymousClientConfig(p.cfg.Upstream)
	c.Host = p.srv.URL
	c.APIPath = p.cfg.Upstream.APIPath
	c.TLSClientConfig = rest.TLSClientConfig{CAData: p.caPEM}
	return c
}

// SetRate changes the share of requests that meet a fault; 0 turns the
// faults off.
func (p *Proxy) SetRate(rate float64) { p.rate.Store(math.Float64bits(min(max(rate, 0), 1))) }

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Events returns the faults injected so far, in order.
func (p *Proxy) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// Requests returns how many requests the proxy has received.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind, rng, seq := p.decide(r)
	switch kind {
	case ServerError:
		p.record(seq, kind, r, "")
		status(w, http.StatusInternalServerError, metav1.StatusReasonInternalError)
	case Unavailable:
		p.record(seq, kind, r, "")
		status(w, http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable)
	case TooManyRequests:
		p.record(seq, kind, r, "Retry-After "+strconv.Itoa(p.cfg.RetryAfter))
		w.Header().Set("Retry-After", strconv.Itoa(p.cfg.RetryAfter))
		status(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests)
	case Reset:
		p.record(seq, kind, r, "")
		reset(w)
	case LostResponse:
		p.record(seq, kind, r, "")
		p.lose(w, r)
	case Latency:
		d := spread(rng, p.cfg.MaxLatency/5, p.cfg.MaxLatency)
		p.record(seq, kind, r, d.String())
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			p.rp.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	case DropWatch:
		d := spread(rng, 10*time.Millisecond, p.cfg.MaxWatch)
		p.record(seq, kind, r, "cut after "+d.String())
		// Cancelling the upstream request mid-body makes the reverse
		// proxy abort the response (http.ErrAbortHandler): the client's
		// stream ends without a final chunk.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		t := time.AfterFunc(d, cancel)
		defer t.Stop()
		p.rp.ServeHTTP(w, r.WithContext(ctx))
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// decide picks the request's fault, "" for none, with the generator that
// also sizes it, and numbers the request.
func (p *Proxy) decide(r *http.Request) (Kind, *rand.Rand, int) {
	watch := isWatch(r)
	key := r.Method + " " + normalize(r.URL.Path)
	if watch {
		key += "?watch"
	}
	p.mu.Lock()
	n := p.seen[key]
	p.seen[key]++
	p.seq++
	seq := p.seq
	p.mu.Unlock()

	h := fnv.New64a()
	_, _ = io.WriteString(h, key)
	rng := rand.New(rand.NewPCG(uint64(p.cfg.Seed), h.Sum64()+uint64(n)))
	rate := math.Float64frombits(p.rate.Load())
	if watch && rate > 0 {
		rate = max(rate, p.cfg.WatchRate)
	}
	if rng.Float64() >= rate || (p.cfg.Exempt != nil && p.cfg.Exempt(r)) {
		return "", rng, seq
	}
	var apply []Kind
	for _, k := range p.kinds {
		if k == DropWatch && !watch {
			continue
		}
		if k == LostResponse && watch {
			k = Reset
		}
		apply = append(apply, k)
	}
	if len(apply) == 0 {
		return "", rng, seq
	}
	return apply[rng.IntN(len(apply))], rng, seq
}

func (p *Proxy) record(seq int, k Kind, r *http.Request, detail string) {
	path := r.URL.Path
	if isWatch(r) {
		path += "?watch"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, Event{Seq: seq, Kind: k, Method: r.Method, Path: path, Detail: detail})
}

// lose sends the request to the API server, throws the answer away and
// resets the client's connection.
func (p *Proxy) lose(w http.ResponseWriter, r *http.Request) {
	out := r.Clone(r.Context())
	out.RequestURI, out.Host = "", ""
	out.URL.Scheme, out.URL.Host = p.upstream.Scheme, p.upstream.Host
	out.URL.Path = strings.TrimSuffix(p.upstream.Path, "/") + r.URL.Path
	out.URL.RawPath = ""
	if resp, err := p.rt.RoundTrip(out); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	reset(w)
}

// reset closes the client's connection with a TCP RST, without a TLS
// close_notify: the client reads "connection reset by peer".
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // closes the connection anyway
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}

// status answers with a Kubernetes Status, as the API server does.
func status(w http.ResponseWriter, code int, reason metav1.StatusReason) {
	b, _ := json.Marshal(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  fmt.Sprintf("injected fault: %d %s", code, reason),
		Reason:   reason,
		Code:     int32(code),
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func isWatch(r *http.Request) bool {
	v := r.URL.Query().Get("watch")
	return v == "true" || v == "1" || strings.Contains(r.URL.Path, "/watch/")
}

// normalize leaves the namespace out of a path, so that tests in fresh
// namespaces meet the same faults.
func normalize(path string) string {
	parts := strings.Split(path, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "namespaces" {
			parts[i+1] = "*"
		}
	}
	return strings.Join(parts, "/")
}

// spread returns a duration in [lo, hi].
func spread(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}
