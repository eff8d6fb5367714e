package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// ErrLost is wrapped by the error release returns when the Lease stopped
// being ours before release: it expired and another run took it over, or
// someone deleted it. The run held the lock only part of the time, which a
// caller may want to report differently from a failed write.
var ErrLost = errors.New("lease lost before release")

// claim is one holding of the Lease, from Acquire to release.
type claim struct {
	l *Locker

	mu   sync.Mutex
	last *coordinationv1.Lease // as last written by us

	stop context.CancelFunc
	done chan struct{} // closed when the renew loop has returned

	once sync.Once
	err  error
}

// hold starts renewing le and returns the function that ends the claim.
// Renewal outlives ctx's cancellation on purpose: a cancelled deploy still
// holds the lock until its release (with a fresh context) has cleaned up.
func (l *Locker) hold(ctx context.Context, le *coordinationv1.Lease) func(context.Context) error {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c := &claim{l: l, last: le, stop: stop, done: make(chan struct{})}
	go c.renewLoop(rctx)
	return c.release
}

func (c *claim) current() *coordinationv1.Lease {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *claim) set(le *coordinationv1.Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = le
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

// renewOnce moves the Lease's renew time to now. It returns false once the
// Lease is no longer ours, and true otherwise, also after an error that
// the next tick may not see: the Lease stays ours until it expires.
func (c *claim) renewOnce(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, c.l.renew)
	defer cancel()
	leases := c.l.leases
	mine := c.current()
	for range maxRaces {
		next := mine.DeepCopy()
		now := metav1.NewMicroTime(c.l.now())
		next.Spec.RenewTime = &now
		updated, err := leases.Update(ctx, next, metav1.UpdateOptions{})
		switch {
		case err == nil:
			c.set(updated)
			return true
		case apierrors.IsNotFound(err):
			return false
		case !apierrors.IsConflict(err):
			return true
		}
		// Conflict: someone else wrote the Lease. It may still be ours
		// (a label added by hand, say); only the holder and acquire time tell.
		cur, err := leases.Get(ctx, c.l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return false
		case err != nil:
			return true
		case !ours(cur, mine):
			return false
		}
		mine = cur
	}
	return true
}

// release stops the renewal and clears the holder, but only while the Lease
// is still ours: a Lease another run took over is left alone. Calling it
// again returns the first result.
func (c *claim) release(ctx context.Context) error {
	c.once.Do(func() {
		c.stop()
		<-c.done
		c.err = c.clear(ctx)
	})
	return c.err
}

func (c *claim) clear(ctx context.Context) error {
	mine := c.current()
	leases := c.l.leases
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := leases.Get(ctx, c.l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("releasing lease %q: it was deleted while held by %q: %w", c.l.name, holder(mine), ErrLost)
		case err != nil:
			return fmt.Errorf("reading lease %q: %w", c.l.name, err)
		case !ours(cur, mine):
			return fmt.Errorf("releasing lease %q: it is held by %q now, not %q: %w",
				c.l.name, holder(cur), holder(mine), ErrLost)
		}
		// Clearing the holder instead of deleting keeps leaseTransitions
		// counting across runs; Acquire treats an empty holder as free.
		next := cur.DeepCopy()
		next.Spec.HolderIdentity = nil
		if _, err := leases.Update(ctx, next, metav1.UpdateOptions{}); err != nil {
			// Still a Conflict to RetryOnConflict, which re-reads and checks again.
			return fmt.Errorf("releasing lease %q: %w", c.l.name, err)
		}
		return nil
	})
}
