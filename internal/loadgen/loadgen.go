// Package loadgen sends steady HTTP traffic at a fixed rate and records
// every request: when it started, how long it took, what answered it. Half
// the requests go over kept-alive connections, half over a new connection
// each, since a switch can lose either kind. It exists to prove, with
// numbers, that a switch loses no request.
package loadgen

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Record is one request.
type Record struct {
	Start   time.Time
	Latency time.Duration
	// KeepAlive tells which kind of connection carried it.
	KeepAlive bool
	Status    int
	// Release is the value of the release header of the answer: which
	// release served it. Empty when no server of the app answered.
	Release string
	Err     error
}

// Lost reports whether the request did not reach a server of the app: a
// connection or protocol error, or an answer the load balancer made itself
// (no release header, e.g. HAProxy's 503 when no server is available).
func (r Record) Lost() bool { return r.Err != nil || r.Release == "" }

// Config is what to send.
type Config struct {
	URL string
	// Rate is requests per second, split evenly between kept-alive and new
	// connections.
	Rate int
	// Header names the answer header that carries the release.
	Header string
	// Timeout bounds one request (5s when zero).
	Timeout time.Duration
}

// Generator sends traffic until stopped.
type Generator struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	records []Record
}

// Start begins sending; Stop ends it.
func Start(cfg Config) (*Generator, error) {
	if cfg.URL == "" || cfg.Rate <= 0 || cfg.Header == "" {
		return nil, errors.New("loadgen: URL, Rate and Header are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Generator{cfg: cfg, cancel: cancel, done: make(chan struct{})}
	go g.run(ctx)
	return g, nil
}

func (g *Generator) run(ctx context.Context) {
	defer close(g.done)
	keep := &http.Client{Timeout: g.cfg.Timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 0}}
	fresh := &http.Client{Timeout: g.cfg.Timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	defer keep.CloseIdleConnections()
	interval := time.Second / time.Duration(g.cfg.Rate)
	start := time.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	// Requests are paced by the clock, not by a ticker, so that a late
	// wake-up sends the requests it owes instead of dropping them.
	for n := 0; ; n++ {
		due := start.Add(time.Duration(n) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		}
		ka := n%2 == 0
		client := fresh
		if ka {
			client = keep
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.add(g.one(client, ka))
		}()
	}
}

func (g *Generator) one(client *http.Client, keepAlive bool) Record {
	r := Record{Start: time.Now(), KeepAlive: keepAlive}
	resp, err := client.Get(g.cfg.URL)
	if err != nil {
		r.Err, r.Latency = err, time.Since(r.Start)
		return r
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.Latency, r.Status, r.Release, r.Err = time.Since(r.Start), resp.StatusCode, resp.Header.Get(g.cfg.Header), err
	return r
}

func (g *Generator) add(r Record) {
	g.mu.Lock()
	g.records = append(g.records, r)
	g.mu.Unlock()
}

// Stop ends the traffic, waits for requests in flight, and returns every
// record in the order the requests started.
func (g *Generator) Stop() []Record {
	g.cancel()
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	out := append([]Record(nil), g.records...)
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Stats summarises records.
type Stats struct {
	Sent, Lost int
	// KeepAlive and Fresh count requests by connection kind.
	KeepAlive, Fresh int
	// AppErrors counts 5xx answers a release made itself.
	AppErrors int
	// ByRelease counts answers per release.
	ByRelease map[string]int
	// Rate is requests started per second over the span of the records.
	Rate float64
	// FirstLoss is one lost request's error, for messages.
	FirstLoss string
}

// Summarise counts records.
func Summarise(records []Record) Stats {
	s := Stats{ByRelease: map[string]int{}}
	for _, r := range records {
		s.Sent++
		if r.KeepAlive {
			s.KeepAlive++
		} else {
			s.Fresh++
		}
		if r.Lost() {
			s.Lost++
			if s.FirstLoss == "" {
				s.FirstLoss = describe(r)
			}
			continue
		}
		s.ByRelease[r.Release]++
		if r.Status >= 500 {
			s.AppErrors++
		}
	}
	if n := len(records); n > 1 {
		if span := records[n-1].Start.Sub(records[0].Start).Seconds(); span > 0 {
			s.Rate = float64(n-1) / span
		}
	}
	return s
}

func describe(r Record) string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return http.StatusText(r.Status) + " from the load balancer itself"
}

// Percentile returns the p-th percentile (0-100) of the latencies of the
// records started within [from, to); 0 when there are none.
func Percentile(records []Record, p float64, from, to time.Time) time.Duration {
	var lat []time.Duration
	for _, r := range records {
		if !r.Start.Before(from) && r.Start.Before(to) {
			lat = append(lat, r.Latency)
		}
	}
	if len(lat) == 0 {
		return 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	i := int(float64(len(lat)-1) * p / 100)
	return lat[i]
}
