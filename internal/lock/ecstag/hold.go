package ecstag

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

// claim is one holding of the lock, from Acquire to release.
type claim struct {
	l *Locker
	*lock.State

	mu   sync.Mutex
	mine value // as last written by us
	// renewed is when, on our clock, the last write of ours that a read
	// showed in the tag was sent. Other readers saw that write then or
	// later, so none takes the lock over before renewed plus the lease.
	renewed time.Time
	lastErr error // of the last failed renewal, for the loss's reason

	stop context.CancelFunc
	done chan struct{} // closed when the renew loop has returned

	once sync.Once
	err  error
}

var _ lock.Lock = (*claim)(nil)

// hold starts renewing v, written at sent, and returns the holding.
// Renewal outlives ctx's cancellation on purpose: a cancelled deploy still
// holds the lock until its release (with a fresh context) has cleaned up.
func (l *Locker) hold(ctx context.Context, v value, sent time.Time) *claim {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c := &claim{l: l, State: lock.NewState(), mine: v, renewed: sent, stop: stop, done: make(chan struct{})}
	go c.renewLoop(rctx)
	return c
}

func (c *claim) current() value {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mine
}

func (c *claim) deadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renewed.Add(c.l.duration)
}

func (c *claim) failed(err error) {
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
	c.l.warn(fmt.Sprintf("deploy lock %q: renewal failed, trying again: %v", c.l.name, err))
}

func (c *claim) lose(holder, reason string) error {
	return c.Lose(&lock.LostError{Name: c.l.name, Holder: holder, Reason: reason})
}

// lapsed marks the claim lost once renewals have failed for the whole
// lease, and reports whether they have.
func (c *claim) lapsed(ctx context.Context) bool {
	if c.l.now().Before(c.deadline()) {
		return false
	}
	c.mu.Lock()
	last := c.lastErr
	c.mu.Unlock()
	reason := fmt.Sprintf("not renewed for the whole %s lease", c.l.duration)
	if last != nil {
		reason += ": " + last.Error()
	}
	holder := ""
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.l.renew)
	defer cancel()
	if cur, err := c.l.read(rctx); err == nil && cur.token != c.current().token {
		holder = cur.owner
	}
	c.lose(holder, reason)
	return true
}

func (c *claim) renewLoop(ctx context.Context) {
	defer close(c.done)
	for {
		wait := c.l.renew
		if left := c.deadline().Sub(c.l.now()); left < wait {
			wait = max(left, 0)
		}
		if clock.Sleep(ctx, wait) != nil {
			return
		}
		if c.Err() != nil {
			return // lost, as Confirm found: nothing of ours to renew
		}
		if c.lapsed(ctx) || c.renewOnce(ctx) != nil {
			return
		}
	}
}

// renewOnce moves the claim's expiry on. It returns the loss once the tag
// no longer carries our token, and nil otherwise, also after an error
// that the next tick may not see: the claim stays ours until its deadline.
func (c *claim) renewOnce(ctx context.Context) error {
	l := c.l
	ctx, cancel := context.WithTimeout(ctx, l.renew)
	defer cancel()
	mine := c.current()
	checked := time.Now()
	cur, err := l.read(ctx)
	if err != nil {
		c.failed(err)
		return nil
	}
	if cur.token != mine.token {
		return c.lose(cur.owner, "renewing found another claim in the tag")
	}
	sent := l.now()
	next := mine
	next.expires = sent.Add(l.duration).Truncate(time.Second)
	if err := l.write(ctx, checked, next); err != nil {
		// The write may still land: the tag then carries next, with our
		// token, which the next renewal and Confirm accept as ours.
		c.failed(err)
		return nil
	}
	c.mu.Lock()
	c.mine, c.renewed, c.lastErr = next, sent, nil
	c.mu.Unlock()
	return nil
}

// Confirm reads the tag and fails unless it still carries our token.
func (c *claim) Confirm(ctx context.Context) error {
	if err := c.Err(); err != nil {
		return err
	}
	if c.lapsed(ctx) {
		return c.Err()
	}
	cur, err := c.l.read(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("confirming the deploy lock %q is still ours: %w", c.l.name, err)
	case cur.token == "":
		return c.lose("", "the tag was removed")
	case cur.token != c.current().token:
		return c.lose(cur.owner, "another run took it over")
	}
	return nil
}

// Release stops the renewal and removes the tag, but only while it still
// carries our token: a claim another run took over is left alone. Calling
// it again returns the first result.
func (c *claim) Release(ctx context.Context) error {
	c.once.Do(func() {
		c.stop()
		<-c.done
		// Also after a loss: one found by failing renewals may leave the
		// record ours, and clear checks that before it writes.
		c.err = c.clear(ctx)
	})
	return c.err
}

func (c *claim) clear(ctx context.Context) error {
	l := c.l
	mine := c.current()
	removed := false // a removal was sent, and may have landed
	for range maxRaces {
		checked := time.Now()
		cur, err := l.read(ctx)
		switch {
		case err != nil && awsapi.IsThrottle(err):
			if awsapi.Sleep(ctx, l.poll) != nil {
				return fmt.Errorf("releasing lock %q: %w", l.name, err)
			}
			continue
		case err != nil:
			return fmt.Errorf("releasing lock %q: %w", l.name, err)
		case cur.token == "" && removed:
			return nil
		case cur.token != mine.token:
			return &lock.LostError{Name: l.name, Holder: cur.owner, Reason: "taken over or removed before release"}
		}
		err = l.remove(ctx, checked)
		removed = true
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, errLate) && !awsapi.IsThrottle(err):
			return fmt.Errorf("releasing lock %q: %w", l.name, err)
		}
		if serr := awsapi.Sleep(ctx, l.poll); serr != nil {
			return fmt.Errorf("releasing lock %q: %w", l.name, err)
		}
	}
	return fmt.Errorf("releasing lock %q: gave up after %d slow or throttled attempts; the tag on %q lapses at %s",
		l.name, maxRaces, l.cluster, mine.expires.UTC().Format(time.RFC3339))
}
