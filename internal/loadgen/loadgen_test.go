package loadgen_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/loadgen"
)

func TestCountsWhatAnswersAndWhatIsLost(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch n.Add(1) % 4 {
		case 0: // the load balancer's own error: no release header
			w.WriteHeader(http.StatusServiceUnavailable)
		case 1:
			w.Header().Set("X-Release", "v1")
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.Header().Set("X-Release", "v1")
		}
	}))
	defer srv.Close()
	g, err := loadgen.Start(loadgen.Config{URL: srv.URL, Rate: 400, Header: "X-Release"})
	if err != nil {
		t.Fatal(err)
	}
	for n.Load() < 100 {
		time.Sleep(5 * time.Millisecond)
	}
	recs := g.Stop()
	s := loadgen.Summarise(recs)
	if s.Sent != len(recs) || s.Sent < 100 {
		t.Fatalf("sent %d", s.Sent)
	}
	if s.KeepAlive == 0 || s.Fresh == 0 {
		t.Errorf("keep-alive %d, new connections %d: want both", s.KeepAlive, s.Fresh)
	}
	if s.Lost == 0 || s.AppErrors == 0 || s.ByRelease["v1"] == 0 {
		t.Errorf("stats %+v: want lost requests, app errors and v1 answers", s)
	}
	if s.Lost+s.ByRelease["v1"] != s.Sent {
		t.Errorf("lost %d + answered %d != sent %d", s.Lost, s.ByRelease["v1"], s.Sent)
	}
	srv.Close()
	g, _ = loadgen.Start(loadgen.Config{URL: srv.URL, Rate: 400, Header: "X-Release", Timeout: time.Second})
	time.Sleep(50 * time.Millisecond)
	if s := loadgen.Summarise(g.Stop()); s.Lost != s.Sent || s.Sent == 0 {
		t.Errorf("against a closed server: lost %d of %d", s.Lost, s.Sent)
	}
}
