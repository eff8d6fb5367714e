package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
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

// WithClock replaces time.Now: for the times written to the Lease, and as
// the local clock that measures how long a record went unrenewed since
// this Locker saw it. Only differences of its readings are compared, so
// the default keeps Go's monotonic clock.
func WithClock(now func() time.Time) Option { return func(l *Locker) { l.now = now } }

// WithWarning sets where a failed renewal is reported (default: standard
// error). The Lease is kept and renewed again; it is lost only when
// renewals fail for a whole lease duration.
func WithWarning(warn func(msg string)) Option { return func(l *Locker) { l.warn = warn } }

// Locker takes the deploy lock held in one Lease.
type Locker struct {
	leases    coordinationclient.LeaseInterface
	namespace string
	name      string

	duration time.Duration
	renew    time.Duration
	poll     time.Duration
	now      func() time.Time
	warn     func(string)

	mu   sync.Mutex
	seen observation // the Lease's record as last seen, and since when
}

// observation is a Lease's record and when this Locker first saw it so.
type observation struct {
	rec   record
	at    time.Time
	valid bool
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
		warn:      func(msg string) { fmt.Fprintln(os.Stderr, "warning: "+msg) },
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
	case l.warn == nil:
		return nil, fmt.Errorf("lease lock %q: nil warning function", l.name)
	}
	return l, nil
}

// Acquire takes the Lease for owner, waiting up to wait for the holder to
// release it or let it expire. With wait 0 a held Lease fails at once with
// a *lock.HeldError. The Lease is renewed in the background until it is
// released or lost.
//
// A held Lease expires for this Locker once its record went unchanged for
// its lease duration from when this Locker first read it that way: a
// Lease left by a run that died is taken over one lease duration after
// the first look at it, whatever its renew time says.
//
// owner should be unique to the run (a CI run ID and attempt): the lock is
// not re-entrant, and a Lease already held by the same owner counts as held.
func (l *Locker) Acquire(ctx context.Context, owner string, wait time.Duration) (lock.Lock, error) {
	if owner == "" {
		return nil, fmt.Errorf("acquiring lease %q: empty owner", l.name)
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		got, sent, err := l.try(ctx, owner)
		if err == nil {
			return l.hold(ctx, got, sent), nil
		}
		var held *lock.HeldError
		if !errors.As(err, &held) {
			return nil, err
		}
		if err := clock.Sleep(waitCtx, l.poll); err != nil {
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
// stored with the local time the winning write was sent, a
// *lock.HeldError, or another error.
func (l *Locker) try(ctx context.Context, owner string) (*coordinationv1.Lease, time.Time, error) {
	secs := int32(l.duration / time.Second)
	// Read first: after the first run the Lease always exists (released
	// Leases are kept), so a Create would nearly always fail.
	for range maxRaces {
		cur, err := l.leases.Get(ctx, l.name, metav1.GetOptions{})
		sent := l.now()
		// The API server stores microseconds: what we write is what we
		// compare with when a lost answer makes us read it back.
		now := metav1.NewMicroTime(sent.Truncate(time.Microsecond))
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
				return created, sent, nil
			case apierrors.IsAlreadyExists(err):
				continue // another run created it first: look at it
			case !definite(err):
				if got, ok := l.readBack(ctx, owner, now); ok {
					return got, sent, nil
				}
				continue // not ours: look at it again
			default:
				return nil, time.Time{}, fmt.Errorf("creating lease %q: %w", l.name, err)
			}
		}
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("reading lease %q: %w", l.name, err)
		}
		if holder(cur) != "" && !l.expired(cur) {
			return nil, time.Time{}, l.heldError(cur)
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
			return updated, sent, nil
		case apierrors.IsConflict(err), apierrors.IsNotFound(err):
			continue // another run changed it first: look again
		case !definite(err):
			if got, ok := l.readBack(ctx, owner, now); ok {
				return got, sent, nil
			}
			continue
		default:
			return nil, time.Time{}, fmt.Errorf("taking over lease %q from %q: %w", l.name, holder(cur), err)
		}
	}
	return nil, time.Time{}, fmt.Errorf("acquiring lease %q: lost %d races in a row to other runs", l.name, maxRaces)
}

// readBack reads the Lease after a write whose answer was lost (a
// timeout, a reset connection): the API server may have applied it. It
// reports the Lease when it names owner with the acquire time just
// written, so the run holds, and will release, what it took instead of
// leaving it taken until it lapses.
func (l *Locker) readBack(ctx context.Context, owner string, acquired metav1.MicroTime) (*coordinationv1.Lease, bool) {
	rctx, cancel := writeContext(ctx)
	defer cancel()
	cur, err := l.leases.Get(rctx, l.name, metav1.GetOptions{})
	if err != nil || holder(cur) != owner || cur.Spec.AcquireTime == nil || !cur.Spec.AcquireTime.Equal(&acquired) {
		return nil, false
	}
	return cur, true
}

// definite reports whether err is an answer from the API server that says
// the write was not applied. Anything else (a timeout, a reset
// connection, a 5xx) may hide a write that was.
func definite(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) ||
		apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsInvalid(err) ||
		apierrors.IsBadRequest(err) || apierrors.IsMethodNotSupported(err)
}

func (l *Locker) heldError(le *coordinationv1.Lease) *lock.HeldError {
	at := l.observedAt(le)
	e := &lock.HeldError{Name: l.namespace + "/" + l.name, Holder: holder(le), Expires: at.Add(leaseDuration(le))}
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

// leaseDuration is how long le stays valid unrenewed, as its holder wrote.
// A Lease missing it (not written by this package) counts as lapsing at
// once.
func leaseDuration(le *coordinationv1.Lease) time.Duration {
	if le.Spec.LeaseDurationSeconds == nil {
		return 0
	}
	return time.Duration(*le.Spec.LeaseDurationSeconds) * time.Second
}

// record is what a renewal changes in a Lease, and so what tells a reader
// that its holder is alive.
type record struct {
	holder           string
	acquire, renew   int64 // Unix microseconds, 0 when unset
	seconds, transit int32
}

func recordOf(le *coordinationv1.Lease) record {
	r := record{holder: holder(le)}
	if t := le.Spec.AcquireTime; t != nil {
		r.acquire = t.UnixMicro()
	}
	if t := le.Spec.RenewTime; t != nil {
		r.renew = t.UnixMicro()
	}
	if le.Spec.LeaseDurationSeconds != nil {
		r.seconds = *le.Spec.LeaseDurationSeconds
	}
	if le.Spec.LeaseTransitions != nil {
		r.transit = *le.Spec.LeaseTransitions
	}
	return r
}

// observedAt returns when this Locker first saw le's record as it is now,
// on its own clock. Leader election in client-go judges expiry the same
// way: the renew time inside a Lease was written by another machine, whose
// clock may be minutes off ours, so it is never compared with our clock.
func (l *Locker) observedAt(le *coordinationv1.Lease) time.Time {
	r := recordOf(le)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.seen.valid || l.seen.rec != r {
		l.seen = observation{rec: r, at: l.now(), valid: true}
	}
	return l.seen.at
}

// expired reports whether le's record has not changed for its whole lease
// duration since this Locker first saw it.
func (l *Locker) expired(le *coordinationv1.Lease) bool {
	return l.now().Sub(l.observedAt(le)) >= leaseDuration(le)
}

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
