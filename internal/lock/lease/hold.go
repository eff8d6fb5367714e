package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

// claim is one holding of the Lease, from Acquire to release.
type claim struct {
	l *Locker
	*lock.State

	mu   sync.Mutex
	last *coordinationv1.Lease // as last written by us
	// renewed is when, on our clock, the last write of ours that the API
	// server applied was sent. Every other reader saw that write at that
	// moment or later, so none takes the Lease over before renewed plus
	// the lease duration: until then the Lease is ours even while renewals
	// fail.
	renewed time.Time
	lastErr error // of the last failed renewal, for the loss's reason

	stop context.CancelFunc
	done chan struct{} // closed when the renew loop has returned

	once sync.Once
	err  error
}

var _ lock.Lock = (*claim)(nil)

// hold starts renewing le, written at sent, and returns the holding.
// Renewal outlives ctx's cancellation on purpose: a cancelled deploy still
// holds the lock until its release (with a fresh context) has cleaned up.
func (l *Locker) hold(ctx context.Context, le *coordinationv1.Lease, sent time.Time) *claim {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c := &claim{l: l, State: lock.NewState(), last: le, renewed: sent, stop: stop, done: make(chan struct{})}
	go c.renewLoop(rctx)
	return c
}

func (c *claim) current() *coordinationv1.Lease {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *claim) set(le *coordinationv1.Lease, sent time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last, c.renewed, c.lastErr = le, sent, nil
}

func (c *claim) failed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastErr = err
}

// deadline is when the Lease may be taken over by another run if no
// renewal of ours lands before.
func (c *claim) deadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renewed.Add(c.l.duration)
}

func (c *claim) lose(holder, reason string) error {
	return c.Lose(&lock.LostError{Name: c.l.namespace + "/" + c.l.name, Holder: holder, Reason: reason})
}

// lapsed marks the claim lost once renewals have failed for the whole
// lease duration, and reports whether they have.
func (c *claim) lapsed() bool {
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
	now := ""
	if le := c.read(); le != nil && !ours(le, c.current()) {
		now = holder(le)
	}
	c.lose(now, reason)
	return true
}

// read is a best-effort look at who holds the Lease now, for messages.
func (c *claim) read() *coordinationv1.Lease {
	ctx, cancel := context.WithTimeout(context.Background(), c.l.renew)
	defer cancel()
	le, err := c.l.leases.Get(ctx, c.l.name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return le
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
		if c.lapsed() || c.renewOnce(ctx) != nil {
			return
		}
	}
}

// renewOnce moves the Lease's renew time to now. It returns the loss once
// the Lease is no longer ours, and nil otherwise, also after an error that
// the next tick may not see: the Lease stays ours until its deadline.
func (c *claim) renewOnce(ctx context.Context) error {
	// A slow API server may still apply a renewal in time: give it until
	// the Lease would lapse, not only one renew interval.
	ctx, cancel := context.WithTimeout(ctx, max(c.deadline().Sub(c.l.now()), c.l.renew))
	defer cancel()
	leases := c.l.leases
	mine := c.current()
	for range maxRaces {
		sent := c.l.now()
		now := metav1.NewMicroTime(sent.Truncate(time.Microsecond))
		next := mine.DeepCopy()
		next.Spec.RenewTime = &now
		updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
		switch {
		case err == nil:
			c.set(updated, sent)
			return nil
		case apierrors.IsNotFound(err):
			return c.lose("", "renewing found the Lease deleted")
		case !apierrors.IsConflict(err) && definite(err):
			c.failed(err)
			return nil
		}
		// A Conflict (someone else wrote the Lease; it may still be ours,
		// with a label added by hand, say) or a lost answer (the write may
		// have been applied): only a read tells.
		cur, rerr := leases.Get(ctx, c.l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(rerr):
			return c.lose("", "renewing found the Lease deleted")
		case rerr != nil:
			c.failed(errors.Join(err, rerr))
			return nil
		case !ours(cur, mine):
			return c.lose(holder(cur), "renewing found another holder")
		case cur.Spec.RenewTime != nil && cur.Spec.RenewTime.Equal(&now):
			c.set(cur, sent) // the write whose answer was lost was applied
			return nil
		case !apierrors.IsConflict(err):
			c.failed(err) // lost, and not applied: the next tick tries again
			return nil
		}
		mine = cur
	}
	c.failed(fmt.Errorf("renewing lease %q: lost %d races in a row", c.l.name, maxRaces))
	return nil
}

// Confirm reads the Lease and fails unless it is still this claim.
func (c *claim) Confirm(ctx context.Context) error {
	if err := c.Err(); err != nil {
		return err
	}
	if c.lapsed() {
		return c.Err()
	}
	cur, err := c.l.leases.Get(ctx, c.l.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return c.lose("", "the Lease was deleted")
	case err != nil:
		return fmt.Errorf("confirming the deploy lock %s/%s is still ours: %w", c.l.namespace, c.l.name, err)
	case !ours(cur, c.current()):
		return c.lose(holder(cur), "another run took it over")
	}
	return nil
}

// Release stops the renewal and clears the holder, but only while the
// Lease is still ours: a Lease another run took over is left alone.
// Calling it again returns the first result.
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
	mine := c.current()
	leases := c.l.leases
	name := c.l.namespace + "/" + c.l.name
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := leases.Get(ctx, c.l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return &lock.LostError{Name: name, Reason: "the Lease was deleted before release"}
		case err != nil:
			return fmt.Errorf("reading lease %q: %w", c.l.name, err)
		case !ours(cur, mine):
			return &lock.LostError{Name: name, Holder: holder(cur), Reason: "taken over before release"}
		}
		// Clearing the holder instead of deleting keeps leaseTransitions
		// counting across runs; Acquire treats an empty holder as free.
		next := cur.DeepCopy()
		next.Spec.HolderIdentity = nil
		_, err = leases.Update(ctx, next, metav1.UpdateOptions{})
		if err == nil || definite(err) {
			if err != nil {
				// Still a Conflict to RetryOnConflict, which re-reads and checks again.
				return fmt.Errorf("releasing lease %q: %w", c.l.name, err)
			}
			return nil
		}
		// The answer was lost: the release may have been applied.
		if back, gerr := leases.Get(ctx, c.l.name, metav1.GetOptions{}); gerr == nil && !ours(back, mine) && holder(back) == "" {
			return nil
		}
		return fmt.Errorf("releasing lease %q: %w", c.l.name, err)
	})
}
