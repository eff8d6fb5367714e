package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

// held is the Lease as lock.Hold renews, checks and clears it.
type held struct{ l *Locker }

var _ lock.Record[*coordinationv1.Lease] = held{}

// hold starts renewing le, written at sent, and returns the holding.
func (l *Locker) hold(ctx context.Context, le *coordinationv1.Lease, sent time.Time) lock.Lock {
	r := lock.Renewal{Name: l.lockName(), Lease: l.duration, Every: l.renew, Clock: clock.Reading(l.now), Warn: l.warn}
	return lock.Hold(ctx, r, held{l}, le, sent)
}

func (l *Locker) lockName() string { return l.namespace + "/" + l.name }

func (l *Locker) lost(holder, reason string) error {
	return &lock.LostError{Name: l.lockName(), Holder: holder, Reason: reason}
}

// Renew moves the Lease's renew time to now. A Conflict or a lost answer
// is settled by a read: the Lease may still be ours (with a label added
// by hand, say), or the write may have been applied.
func (r held) Renew(ctx context.Context, mine *coordinationv1.Lease) (*coordinationv1.Lease, time.Time, error) {
	l := r.l
	for range maxRaces {
		sent := l.now()
		now := metav1.NewMicroTime(sent.Truncate(time.Microsecond))
		next := mine.DeepCopy()
		next.Spec.RenewTime = &now
		updated, err := l.leases.Update(ctx, next, metav1.UpdateOptions{})
		switch {
		case err == nil:
			return updated, sent, nil
		case apierrors.IsNotFound(err):
			return nil, time.Time{}, l.lost("", "renewing found the Lease deleted")
		case !apierrors.IsConflict(err) && definite(err):
			return nil, time.Time{}, err
		}
		cur, rerr := l.leases.Get(ctx, l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(rerr):
			return nil, time.Time{}, l.lost("", "renewing found the Lease deleted")
		case rerr != nil:
			return nil, time.Time{}, errors.Join(err, rerr)
		case !ours(cur, mine):
			return nil, time.Time{}, l.lost(holder(cur), "renewing found another holder")
		case cur.Spec.RenewTime != nil && cur.Spec.RenewTime.Equal(&now):
			return cur, sent, nil // the write whose answer was lost was applied
		case !apierrors.IsConflict(err):
			return nil, time.Time{}, err // lost, and not applied: the next tick tries again
		}
		mine = cur
	}
	return nil, time.Time{}, fmt.Errorf("renewing lease %q: lost %d races in a row", l.name, maxRaces)
}

// Check reads the Lease and fails unless it is still mine.
func (r held) Check(ctx context.Context, mine *coordinationv1.Lease) error {
	cur, err := r.l.leases.Get(ctx, r.l.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return r.l.lost("", "the Lease was deleted")
	case err != nil:
		return err
	case !ours(cur, mine):
		return r.l.lost(holder(cur), "another run took it over")
	}
	return nil
}

// Clear clears the holder, but only while the Lease is still mine: a
// Lease another run took over is left alone.
func (r held) Clear(ctx context.Context, mine *coordinationv1.Lease) error {
	l := r.l
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := l.leases.Get(ctx, l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return l.lost("", "the Lease was deleted before release")
		case err != nil:
			return fmt.Errorf("reading lease %q: %w", l.name, err)
		case !ours(cur, mine):
			return l.lost(holder(cur), "taken over before release")
		}
		// Clearing the holder instead of deleting keeps leaseTransitions
		// counting across runs; Acquire treats an empty holder as free.
		next := cur.DeepCopy()
		next.Spec.HolderIdentity = nil
		_, err = l.leases.Update(ctx, next, metav1.UpdateOptions{})
		if err == nil || definite(err) {
			if err != nil {
				// Still a Conflict to RetryOnConflict, which re-reads and checks again.
				return fmt.Errorf("releasing lease %q: %w", l.name, err)
			}
			return nil
		}
		// The answer was lost: the release may have been applied.
		if back, gerr := l.leases.Get(ctx, l.name, metav1.GetOptions{}); gerr == nil && !ours(back, mine) && holder(back) == "" {
			return nil
		}
		return fmt.Errorf("releasing lease %q: %w", l.name, err)
	})
}
