package ecstag

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
)

// ErrLost is wrapped by the error release returns when the tag stopped
// carrying our claim before release: it expired and another run took it
// over, or someone removed it. The run held the lock only part of the
// time, which a caller may want to report differently from a failed write.
var ErrLost = errors.New("lock lost before release")

// claim is one holding of the lock, from Acquire to release.
type claim struct {
	l *Locker

	mu   sync.Mutex
	mine value // as last written by us

	stop context.CancelFunc
	done chan struct{} // closed when the renew loop has returned

	once sync.Once
	err  error
}

// hold starts renewing v and returns the function that ends the claim.
// Renewal outlives ctx's cancellation on purpose: a cancelled deploy still
// holds the lock until its release (with a fresh context) has cleaned up.
func (l *Locker) hold(ctx context.Context, v value) func(context.Context) error {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c := &claim{l: l, mine: v, stop: stop, done: make(chan struct{})}
	go c.renewLoop(rctx)
	return c.release
}

func (c *claim) current() value {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mine
}

func (c *claim) set(v value) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mine = v
}

func (c *claim) renewLoop(ctx context.Context) {
	defer close(c.done)
	for {
		if sleep(ctx, c.l.renew) != nil {
			return
		}
		if !c.renewOnce(ctx) {
			return
		}
	}
}

// renewOnce moves the claim's expiry on. It returns false once the tag no
// longer carries our token, and true otherwise, also after an error that
// the next tick may not see: the claim stays ours until it expires.
func (c *claim) renewOnce(ctx context.Context) bool {
	l := c.l
	ctx, cancel := context.WithTimeout(ctx, l.renew)
	defer cancel()
	mine := c.current()
	checked := time.Now()
	cur, err := l.read(ctx)
	if err != nil {
		return true
	}
	if cur.token != mine.token {
		l.warn(fmt.Sprintf("deploy lock %q: renewing found it held by %s, not %q; renewal stopped, and the rest of this run is not protected from concurrent runs",
			l.name, cur.holder(), mine.owner))
		return false
	}
	next := mine
	next.expires = l.now().Add(l.duration).Truncate(time.Second)
	if l.write(ctx, checked, next) == nil {
		c.set(next)
	}
	return true
}

// release stops the renewal and removes the tag, but only while it still
// carries our token: a claim another run took over is left alone. Calling
// it again returns the first result.
func (c *claim) release(ctx context.Context) error {
	c.once.Do(func() {
		c.stop()
		<-c.done
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
			return fmt.Errorf("releasing lock %q: it is held by %s now, not %q: %w", l.name, cur.holder(), mine.owner, ErrLost)
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
