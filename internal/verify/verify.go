package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrFailed is wrapped by every failed check.
var ErrFailed = errors.New("verification failed")

const (
	defaultInterval = 2 * time.Second
	// readLimit is how much of a body is read, and matched against.
	readLimit = 64 << 10
	// excerptLen is how much of a body a failure message quotes: enough to
	// recognise an error page, too little to flood a CI log.
	excerptLen = 200
)

// Checker runs checks. Its zero value works.
type Checker struct {
	// Client is the HTTP client; nil means one with a 10 s timeout per request.
	Client *http.Client
	// Interval is the pause between attempts of a check that has none of
	// its own; zero means 2 s.
	Interval time.Duration
}

// Once makes one attempt at url and accepts any 2xx answer.
func (c *Checker) Once(ctx context.Context, url string) error {
	return c.Attempt(ctx, Check{URL: url})
}

// Until retries Once until it succeeds or timeout passes; the error then
// says what the last attempt saw. progress, when set, gets each failure.
func (c *Checker) Until(ctx context.Context, url string, timeout time.Duration, progress func(string)) error {
	return c.Run(ctx, Check{URL: url, Timeout: timeout}, progress)
}

// Attempt makes one attempt at chk. A failed one wraps ErrFailed and says
// what the answer was.
func (c *Checker) Attempt(ctx context.Context, chk Check) error {
	target := redact(chk.URL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, chk.URL, nil)
	if err != nil {
		// The parse error would quote the URL with any password in it.
		return fmt.Errorf("building a request for %s: not a valid URL", target)
	}
	for name, values := range chk.Header {
		if strings.EqualFold(name, "Host") && len(values) > 0 {
			req.Host = values[0]
			continue
		}
		req.Header[name] = slices.Clone(values)
	}
	resp, err := c.client(chk.Status).Do(req)
	if err != nil {
		// *url.Error repeats the method and URL said here already.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: GET %s: %w", ErrFailed, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, readLimit))
	// Drain a little more so the connection can be reused between attempts.
	_, _ = io.CopyN(io.Discard, resp.Body, readLimit)
	if err != nil {
		return fmt.Errorf("%w: GET %s answered %s, reading the body: %w", ErrFailed, target, resp.Status, err)
	}
	if !chk.Status.Accepts(resp.StatusCode) {
		return fmt.Errorf("%w: GET %s answered %s, want %s%s", ErrFailed, target, resp.Status, chk.Status, excerpt(body))
	}
	if !chk.Body.Matches(body) {
		return fmt.Errorf("%w: GET %s answered %s, want a body %s%s", ErrFailed, target, resp.Status, chk.Body, excerpt(body))
	}
	return nil
}

// Run retries Attempt until it succeeds or chk.Timeout passes (one attempt
// when chk has no timeout); the error then says what the last attempt saw.
// progress, when set, gets each failure.
func (c *Checker) Run(ctx context.Context, chk Check, progress func(string)) error {
	if chk.Timeout <= 0 {
		return c.Attempt(ctx, chk)
	}
	ctx, cancel := context.WithTimeout(ctx, chk.Timeout)
	defer cancel()
	interval := firstPositive(chk.Interval, c.Interval, defaultInterval)
	var last error
	for attempts := 1; ; attempts++ {
		err := c.Attempt(ctx, chk)
		if err == nil {
			return nil
		}
		// An attempt cut short by the deadline says less than the one before.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		if progress != nil {
			progress(fmt.Sprintf("attempt %d: %v", attempts, err))
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				body := ""
				if !chk.Body.IsZero() {
					body = " " + chk.Body.String()
				}
				return fmt.Errorf("no %s answer%s from %s within %s (%d attempts); last: %w",
					chk.Status, body, redact(chk.URL), chk.Timeout, attempts, last)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunAll runs each check in turn with Run and returns the first failure.
func (c *Checker) RunAll(ctx context.Context, checks []Check, progress func(string)) error {
	for _, chk := range checks {
		if err := c.Run(ctx, chk, progress); err != nil {
			return err
		}
	}
	return nil
}

// client returns the HTTP client for a check whose accepted statuses are
// st: one that stops at redirects when a 3xx is an answer to judge.
func (c *Checker) client(st Status) *http.Client {
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if st.acceptsRedirect() {
		cp := *client
		cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client = &cp
	}
	return client
}

// excerpt quotes the start of body for a failure message, on one line.
func excerpt(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if s == "" {
		return "; empty body"
	}
	if len(s) > excerptLen {
		cut := excerptLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return fmt.Sprintf("; body: %q", s)
}

// firstPositive returns the first duration more than zero.
func firstPositive(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d > 0 {
			return d
		}
	}
	return 0
}
