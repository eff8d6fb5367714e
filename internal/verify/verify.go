// Package verify checks a release over HTTP: a GET that must answer 2xx,
// retried until a deadline. Deploys use it through the preview route before
// the switch and against production during the bake.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrFailed is wrapped by every failed check.
var ErrFailed = errors.New("verification failed")

// Checker GETs a URL and accepts any 2xx answer.
type Checker struct {
	// Client is the HTTP client; nil means one with a 10 s timeout per request.
	Client *http.Client
	// Interval is the pause between attempts; zero means 2 s.
	Interval time.Duration
}

// Once makes one attempt.
func (c *Checker) Once(ctx context.Context, url string) error {
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("building request for %q: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrFailed, url, err)
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused between attempts.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: GET %s answered %s", ErrFailed, url, resp.Status)
	}
	return nil
}

// Until retries Once until it succeeds or timeout passes; the error then
// says what the last attempt saw. progress, when set, gets each failure.
func (c *Checker) Until(ctx context.Context, url string, timeout time.Duration, progress func(string)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	interval := c.Interval
	if interval == 0 {
		interval = 2 * time.Second
	}
	attempts := 0
	for {
		attempts++
		err := c.Once(ctx, url)
		if err == nil {
			return nil
		}
		if progress != nil {
			progress(fmt.Sprintf("attempt %d: %v", attempts, err))
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("no 2xx answer from %s within %s (%d attempts); last: %w", url, timeout, attempts, err)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
