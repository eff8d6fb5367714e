package zerodowntime_test

import (
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/haproxytest"
)

// browsers are clients that keep HAProxy's persistence cookie, as
// browsers do, each sending one request after another until stopped.
type browsers struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	recs []browsed
}

type browsed struct {
	start   time.Time
	release string
	err     error
}

func startBrowsers(t *testing.T, url string, n int) *browsers {
	t.Helper()
	b := &browsers{stop: make(chan struct{})}
	for range n {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer c.CloseIdleConnections()
			for {
				select {
				case <-b.stop:
					return
				default:
				}
				r := browsed{start: time.Now()}
				resp, err := c.Get(url)
				if err == nil {
					resp.Body.Close()
					r.release = resp.Header.Get(haproxytest.ReleaseHeader)
				}
				r.err = err
				b.mu.Lock()
				b.recs = append(b.recs, r)
				b.mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	return b
}

func (b *browsers) Stop() []browsed {
	close(b.stop)
	b.wg.Wait()
	return b.recs
}

// TestSwitchWithCookiesLosesNoRequest: on a backend with cookie
// persistence, clients that hold the old color's cookie lose no request
// while the switch puts that color in maintenance, and every one of them
// is on the new release once the run is over.
func TestSwitchWithCookiesLosesNoRequest(t *testing.T) {
	t.Parallel()
	g := newCookieGround(t)
	b := startBrowsers(t, g.h.URLs["shop"]+"/", 8)
	m := underTraffic(g, func() run { return g.run(g.inputs("deploy", "shop:1.1"), nil) })
	recs := b.Stop()
	if m.run.err != nil {
		t.Fatalf("deploy: %v\n%s", m.run.err, m.run.log)
	}
	check(t, m, color.Green, "shop:1.1", "shop:1.1")
	first := m.run.firstWeight(color.Green)
	lost, after, by := 0, 0, map[string]int{}
	for _, r := range recs {
		by[r.release]++
		if r.err != nil || r.release == "" {
			lost++
			t.Errorf("a client with a cookie lost a request sent at %s: %v", r.start.Format("15:04:05.000"), r.err)
		}
		if r.release == "shop:1.1" && r.start.Before(first) {
			t.Errorf("shop:1.1 answered a client with a cookie at %s, before any write gave green weight", r.start.Format("15:04:05.000"))
		}
		if r.start.After(m.run.end) {
			after++
			if r.release != "shop:1.1" {
				t.Errorf("after the run a client with a cookie reached %q, want shop:1.1", r.release)
			}
		}
	}
	t.Logf("8 clients with cookies sent %d requests, lost %d, answers %v; %d after the run", len(recs), lost, by, after)
	if after == 0 || by["shop:1.0"] == 0 {
		t.Errorf("clients with cookies: answers %v, %d after the run; want shop:1.0 before and requests after", by, after)
	}
}

// TestRollbackWithCookiesLosesNoRequest: on a backend with cookie
// persistence the switch leaves the old color in maintenance, where
// HAProxy does not check it; the rollback puts it back under fresh checks
// and moves traffic once they pass.
func TestRollbackWithCookiesLosesNoRequest(t *testing.T) {
	t.Parallel()
	g := newCookieGround(t)
	if r := g.run(g.inputs("deploy", "shop:1.1"), nil); r.err != nil {
		t.Fatalf("deploy: %v\n%s", r.err, r.log)
	}
	out, err := runtimeDo(g.h.AdminAddr, "show stat shop 4 -1")
	if err != nil || !strings.Contains(out, "shop,blue1,") || strings.Count(out, ",MAINT,") != 2 {
		t.Fatalf("after the deploy blue's two servers are not in maintenance (%v):\n%s", err, out)
	}
	m := underTraffic(g, func() run { return g.run(g.inputs("rollback", ""), nil) })
	if m.run.err != nil {
		t.Fatalf("rollback: %v\n%s", m.run.err, m.run.log)
	}
	if m.run.res.ActiveColor != "blue" {
		t.Errorf("active color after the rollback %q, want blue", m.run.res.ActiveColor)
	}
	check(t, m, color.Blue, "shop:1.0", "shop:1.0")
}
