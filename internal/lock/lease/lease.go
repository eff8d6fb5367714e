package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

var _ lock.Locker = (*Locker)(nil)

// Defaults for the options.
const (
	DefaultDuration = 30 * time.Second
	DefaultRenew    = 10 * time.Second
	DefaultPoll     = time.Second
)

// maxRaces bounds how often one attempt re-reads the Lease after losing a
// race (a Conflict, or the Lease vanishing between two calls). Each loss
// means another run changed the Lease, so a handful is already unusual.
const maxRaces = 10

// Config holds what a Locker cannot work without.
type Config struct {
	// Client reaches the coordination.k8s.io/v1 API.
	Client coordinationclient.LeasesGetter
	// Namespace and Name locate the Lease.
	Namespace string
	Name      string
}

// Option tunes a Locker.
type Option func(*Locker)

// WithDuration sets how long the Lease stays valid without renewal
// (default 30s). The API stores whole seconds, so it must be at least 1s.
func WithDuration(d time.Duration) Option { return func(l *Locker) { l.duration = d } }

// WithRenew sets how often the holder renews the Lease (default 10s). It
// must be shorter than the duration.
func WithRenew(d time.Duration) Option { return func(l *Locker) { l.renew = d } }

// WithPoll sets how often Acquire looks again at a held Lease while it
// waits (default 1s).
func WithPoll(d time.Duration) Option { return func(l *Locker) { l.poll = d } }

// WithClock replaces time.Now for the times written to and compared with
// the Lease.
func WithClock(now func() time.Time) Option { return func(l *Locker) { l.now = now } }

// Locker takes the deploy lock held in one Lease.
type Locker struct {
	leases    coordinationclient.LeaseInterface
	namespace string
	name      string

	duration time.Duration
	renew    time.Duration
	poll     time.Duration
	now      func() time.Time
}

// New returns a Locker for the Lease named in cfg.
func New(cfg Config, opts ...Option) (*Locker, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("lease lock: no coordination client")
	case cfg.Namespace == "":
		return nil, errors.New("lease lock: no namespace")
	case cfg.Name == "":
		return nil, errors.New("lease lock: no lease name")
	}
	l := &Locker{
		leases:    cfg.Client.Leases(cfg.Namespace),
		namespace: cfg.Namespace,
		name:      cfg.Name,
		duration:  DefaultDuration,
		renew:     DefaultRenew,
		poll:      DefaultPoll,
		now:       time.Now,
	}
	for _, opt := range opts {
		opt(l)
	}
	switch {
	case l.duration < time.Second || l.duration%time.Second != 0:
		return nil, fmt.Errorf("lease lock %q: duration %s is not a whole number of seconds of at least 1s", l.name, l.duration)
	case l.renew <= 0 || l.renew >= l.duration:
		return nil, fmt.Errorf("lease lock %q: renew interval %s must be positive and shorter than the duration %s", l.name, l.renew, l.duration)
	case l.poll <= 0:
		return nil, fmt.Errorf("lease lock %q: poll interval %s must be positive", l.name, l.poll)
	case l.now == nil:
		return nil, fmt.Errorf("lease lock %q: nil clock", l.name)
	}
	return l, nil
}

// Acquire takes the Lease for owner, waiting up to wait for the holder to
// release it or let it expire. With wait 0 a held Lease fails at once with
// a *lock.HeldError. The Lease is renewed in the background until release
// is called.
//
// owner should be unique to the run (a CI run ID and attempt): the lock is
// not re-entrant, and a Lease already held by the same owner counts as held.
func (l *Locker) Acquire(ctx context.Context, owner string, wait time.Duration) (func(context.Context) error, error) {
	if owner == "" {
		return nil, fmt.Errorf("acquiring lease %q: empty owner", l.name)
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		got, err := l.try(ctx, owner)
		if err == nil {
			return l.hold(ctx, got), nil
		}
		var held *lock.HeldError
		if !errors.As(err, &held) {
			return nil, err
		}
		if err := sleep(waitCtx, l.poll); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("waiting for lease %q held by %q: %w", l.name, held.Holder, context.Cause(ctx))
			}
			return nil, held
		}
	}
}

// writeContext bounds a write of the Lease without letting the run's
// cancellation cut it short: a write cancelled in flight may still be
// applied by the API server, and the run would then hold a Lease it has
// no release function for, until it lapses. Finished, the write's result
// is known, and a cancelled run releases what it got.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// try makes one attempt at taking the Lease. It returns the Lease as
// stored, a *lock.HeldError, or another error.
func (l *Locker) try(ctx context.Context, owner string) (*coordinationv1.Lease, error) {
	secs := int32(l.duration / time.Second)
	// Read first: after the first run the Lease always exists (released
	// Leases are kept), so a Create would nearly always fail.
	for range maxRaces {
		now := metav1.NewMicroTime(l.now())
		cur, err := l.leases.Get(ctx, l.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			wctx, cancel := writeContext(ctx)
			created, err := l.leases.Create(wctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{
					Name:      l.name,
					Namespace: l.namespace,
					Labels:    map[string]string{"app.kubernetes.io/managed-by": "bluegreen"},
				},
				Spec: coordinationv1.LeaseSpec{
					HolderIdentity:       &owner,
					LeaseDurationSeconds: &secs,
					AcquireTime:          &now,
					RenewTime:            &now,
				},
			}, metav1.CreateOptions{})
			cancel()
			switch {
			case err == nil:
				return created, nil
			case apierrors.IsAlreadyExists(err):
				continue // another run created it first: look at it
			default:
				return nil, fmt.Errorf("creating lease %q: %w", l.name, err)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("reading lease %q: %w", l.name, err)
		}
		if holder(cur) != "" && !expired(cur, now.Time) {
			return nil, l.heldError(cur)
		}

		// Free: take it over, but only from the version just read, so that
		// of several runs seeing it free only one succeeds.
		next := cur.DeepCopy()
		next.Spec.HolderIdentity = &owner
		next.Spec.LeaseDurationSeconds = &secs
		next.Spec.AcquireTime = &now
		next.Spec.RenewTime = &now
		transitions := int32(1)
		if cur.Spec.LeaseTransitions != nil {
			transitions += *cur.Spec.LeaseTransitions
		}
		next.Spec.LeaseTransitions = &transitions
		wctx, cancel := writeContext(ctx)
		updated, err := l.leases.Update(wctx, next, metav1.UpdateOptions{})
		cancel()
		switch {
		case err == nil:
			return updated, nil
		case apierrors.IsConflict(err), apierrors.IsNotFound(err):
			continue // another run changed it first: look again
		default:
			return nil, fmt.Errorf("taking over lease %q from %q: %w", l.name, holder(cur), err)
		}
	}
	return nil, fmt.Errorf("acquiring lease %q: lost %d races in a row to other runs", l.name, maxRaces)
}

// sleep waits for d, or returns ctx's error as soon as ctx is done
// (at once when it already is).
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Locker) heldError(le *coordinationv1.Lease) *lock.HeldError {
	e := &lock.HeldError{Name: l.namespace + "/" + l.name, Holder: holder(le), Expires: expiry(le)}
	switch {
	case le.Spec.AcquireTime != nil:
		e.Since = le.Spec.AcquireTime.Time
	case le.Spec.RenewTime != nil:
		e.Since = le.Spec.RenewTime.Time
	}
	return e
}

func holder(le *coordinationv1.Lease) string {
	if le.Spec.HolderIdentity == nil {
		return ""
	}
	return *le.Spec.HolderIdentity
}

// expiry is when le lapses unless renewed. A Lease missing its renew time
// or duration (not written by this package) counts as lapsed already.
func expiry(le *coordinationv1.Lease) time.Time {
	if le.Spec.RenewTime == nil || le.Spec.LeaseDurationSeconds == nil {
		return time.Time{}
	}
	return le.Spec.RenewTime.Add(time.Duration(*le.Spec.LeaseDurationSeconds) * time.Second)
}

func expired(le *coordinationv1.Lease, now time.Time) bool { return !now.Before(expiry(le)) }

// ours reports whether cur is still the claim recorded in mine: same
// holder and same acquire time. The acquire time tells a claim of ours from
// a later claim by a run that happens to use the same owner string.
func ours(cur, mine *coordinationv1.Lease) bool {
	if holder(cur) == "" || holder(cur) != holder(mine) {
		return false
	}
	a, b := cur.Spec.AcquireTime, mine.Spec.AcquireTime
	return a != nil && b != nil && a.Equal(b)
}
