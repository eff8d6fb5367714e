// Package httptimeout bounds HTTP requests that a server may accept and
// never answer, so that such a server fails a call instead of hanging a
// run. Unlike http.Client.Timeout it can leave the body of a stream (a
// watch, a blob download) unbounded while its headers are not.
package httptimeout

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Mode says how much of a request Transport bounds.
type Mode int

// Modes.
const (
	// Whole bounds the request from sending to the end of its answer's
	// body.
	Whole Mode = iota
	// Headers bounds it until its answer's headers arrive: for streams,
	// whose body may rightly last.
	Headers
	// None leaves it alone: for uploads, whose answer comes only after a
	// body of any size is sent.
	None
)

// Transport bounds each request through next to d, as mode(req) says
// (Whole when mode is nil). A request that runs out fails with an error
// that says so and wraps context.DeadlineExceeded.
func Transport(next http.RoundTripper, d time.Duration, mode func(*http.Request) Mode) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		m := Whole
		if mode != nil {
			m = mode(req)
		}
		if d <= 0 || m == None {
			return next.RoundTrip(req)
		}
		ctx, cancel := context.WithCancelCause(req.Context())
		timedOut := fmt.Errorf("no answer from %s within %s (request-timeout)", req.URL.Host, d)
		timer := time.AfterFunc(d, func() { cancel(timedOut) })
		resp, err := next.RoundTrip(req.WithContext(ctx))
		if err != nil {
			timer.Stop()
			if context.Cause(ctx) == timedOut {
				err = fmt.Errorf("%w: %w", timedOut, context.DeadlineExceeded)
			}
			cancel(nil)
			return nil, err
		}
		if m == Headers && !timer.Stop() {
			_ = resp.Body.Close()
			cancel(nil)
			return nil, fmt.Errorf("%w: %w", timedOut, context.DeadlineExceeded)
		}
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, stop: func() { timer.Stop(); cancel(nil) }}
		return resp, nil
	})
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	once sync.Once
	stop func()
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(c.stop)
	return err
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
