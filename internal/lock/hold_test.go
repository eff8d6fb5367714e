package lock_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	lease = 30 * time.Second
	every = 10 * time.Second
)

// record is a stored record in memory. Its version counts the renewals
// that landed; a renewal, check or clear answers what the test set.
type record struct {
	clock *clock.Fake

	mu       sync.Mutex
	renewErr error // answer of every renewal; nil: it lands
	checkErr error
	clearErr error
	clears   []int         // the versions Clear was called with
	renewed  chan renewal  // each renewal called, as it is called
	block    chan struct{} // when set, a renewal waits for it (or its context)
	renewing bool          // a renewal is in flight
	overlap  bool          // Clear was called while a renewal was in flight
}

type renewal struct {
	mine int
	at   time.Time
}

func newRecord(c *clock.Fake) *record {
	return &record{clock: c, renewed: make(chan renewal, 100)}
}

func (r *record) set(f func(r *record)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

func (r *record) Renew(ctx context.Context, mine int) (int, time.Time, error) {
	r.mu.Lock()
	err, block := r.renewErr, r.block
	r.renewing = true
	r.mu.Unlock()
	defer r.set(func(r *record) { r.renewing = false })
	now := r.clock.Now()
	r.renewed <- renewal{mine: mine, at: now}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return 0, time.Time{}, context.Cause(ctx)
		}
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return mine + 1, now, nil
}

func (r *record) Check(context.Context, int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkErr
}

func (r *record) Clear(_ context.Context, mine int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clears = append(r.clears, mine)
	r.overlap = r.overlap || r.renewing
	return r.clearErr
}

func (r *record) clearCalls() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.clears...)
}

// hold starts holding version 0 of rec, written now, and releases it when
// the test ends.
func hold(t *testing.T, ctx context.Context, c *clock.Fake, rec *record, warn func(string)) lock.Lock {
	t.Helper()
	r := lock.Renewal{Name: "shop", Lease: lease, Every: every, Clock: c, Warn: warn}
	l := lock.Hold(ctx, r, lock.Record[int](rec), 0, c.Now())
	t.Cleanup(func() { _ = l.Release(context.Background()) })
	return l
}

// hangGuard only keeps a broken Hold from hanging the test run: a wait for
// what the fake clock makes certain fails after it. No passing run comes
// near it.
const hangGuard = 10 * time.Second

// waitLost waits for l to be reported lost.
func waitLost(t *testing.T, l lock.Lock) {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	select {
	case <-l.Lost():
	case <-guard.C:
		t.Fatal("the lock was never reported lost")
	}
}

// next waits for the renewal the clock just made due.
func next(t *testing.T, rec *record, l lock.Lock) renewal {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	select {
	case r := <-rec.renewed:
		return r
	case <-l.Lost():
		t.Fatalf("lost instead of renewed: %v", l.Err())
	case <-guard.C:
		t.Fatal("the renewal due never came")
	}
	return renewal{}
}

// sleepers waits until exactly n goroutines sleep on c.
func sleepers(t *testing.T, c *clock.Fake, n int) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		c.BlockUntil(n)
		close(done)
	}()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	select {
	case <-done:
	case <-guard.C:
		t.Fatalf("never %d sleeping on the clock", n)
	}
}

// stopped checks that the renewal has stopped: nothing waits on the clock,
// and no renewal comes however far it moves.
func stopped(t *testing.T, c *clock.Fake, rec *record, after string) {
	t.Helper()
	sleepers(t, c, 0)
	c.Advance(time.Hour)
	if n := len(rec.renewed); n != 0 {
		t.Errorf("%d renewals tried after %s", n, after)
	}
}

func notLost(t *testing.T, l lock.Lock) {
	t.Helper()
	select {
	case <-l.Lost():
		t.Fatalf("lost: %v", l.Err())
	default:
	}
	if err := l.Err(); err != nil {
		t.Fatalf("Err() = %v while held", err)
	}
}

// TestHoldRenewsEveryInterval: a renewal comes every interval, not before,
// renews the record as the last renewal wrote it, and keeps the lock past
// its first lease.
func TestHoldRenewsEveryInterval(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	l := hold(t, t.Context(), c, rec, nil)
	for i := range 5 {
		sleepers(t, c, 1)
		c.Advance(every - time.Millisecond)
		sleepers(t, c, 1) // a renewal woken early would be seen below
		if len(rec.renewed) != 0 {
			t.Fatalf("renewal %d came %s early", i, time.Millisecond)
		}
		c.Advance(time.Millisecond)
		got := next(t, rec, l)
		want := renewal{mine: i, at: start.Add(time.Duration(i+1) * every)}
		if got != want {
			t.Errorf("renewal %d = %+v, want %+v", i, got, want)
		}
	}
	sleepers(t, c, 1)
	notLost(t, l) // 50s after the claim: held by the renewals
	if err := l.Confirm(t.Context()); err != nil {
		t.Errorf("Confirm = %v, want nil", err)
	}
}

// TestHoldOutlivesItsContext: the lock is renewed after the context it was
// taken with is cancelled; only Release stops it.
func TestHoldOutlivesItsContext(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	ctx, cancel := context.WithCancel(t.Context())
	l := hold(t, ctx, c, rec, nil)
	cancel()
	sleepers(t, c, 1)
	c.Advance(every)
	if got := next(t, rec, l); got.mine != 0 {
		t.Errorf("renewed version %d, want 0", got.mine)
	}
	notLost(t, l)
}

// TestHoldFailedRenewalsLoseTheLock: renewals that fail keep the lock, with
// a warning each, until a lease has passed since the last one that landed;
// the renewal due then is not tried, and the loss says why and names the
// holder now.
func TestHoldFailedRenewalsLoseTheLock(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	rec.checkErr = &lock.LostError{Name: "shop", Holder: "run-2", Reason: "another run took it over"}
	outage := errors.New("connection reset by peer")
	var mu sync.Mutex
	var warnings []string
	l := hold(t, t.Context(), c, rec, func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
	})
	sleepers(t, c, 1)
	c.Advance(every)
	next(t, rec, l) // lands: the lease now runs to 40s
	rec.set(func(r *record) { r.renewErr = outage })
	for range 2 { // at 20s and 30s
		sleepers(t, c, 1)
		c.Advance(every)
		next(t, rec, l)
	}
	sleepers(t, c, 1)
	notLost(t, l)
	c.Advance(every) // 40s: a lease since the renewal at 10s
	waitLost(t, l)
	var lost *lock.LostError
	if err := l.Err(); !errors.As(err, &lost) || lost.Holder != "run-2" ||
		!strings.Contains(lost.Reason, "not renewed for the whole 30s lease") || !strings.Contains(lost.Reason, outage.Error()) {
		t.Errorf("Err() = %v, want a loss naming run-2, the lease and the last renewal's error", err)
	}
	if !errors.Is(l.Confirm(t.Context()), lock.ErrLost) {
		t.Error("Confirm after the loss does not report it")
	}
	stopped(t, c, rec, "the lease passed")
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 2 || !strings.Contains(warnings[0], outage.Error()) {
		t.Errorf("warnings = %q, want one for each of the 2 failed renewals", warnings)
	}
}

// TestHoldWakesAtTheDeadline: after a failed renewal the next wait ends
// when the lease would lapse, not a whole interval later, so that a loss is
// known the moment another run may take the lock.
func TestHoldWakesAtTheDeadline(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	rec.renewErr = errors.New("throttled")
	r := lock.Renewal{Name: "shop", Lease: lease, Every: 20 * time.Second, Clock: c}
	l := lock.Hold(t.Context(), r, lock.Record[int](rec), 0, c.Now())
	t.Cleanup(func() { _ = l.Release(context.Background()) })
	sleepers(t, c, 1)
	c.Advance(20 * time.Second)
	next(t, rec, l) // fails
	sleepers(t, c, 1)
	c.Advance(10 * time.Second) // 30s: the lease since the claim
	waitLost(t, l)
}

// TestHoldRenewalFindsAnotherHolder: a renewal that finds the record taken
// loses the lock at once, with the renewal's own error, and stops.
func TestHoldRenewalFindsAnotherHolder(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	taken := &lock.LostError{Name: "shop", Holder: "run-2", Reason: "renewing found another holder"}
	rec.renewErr = taken
	l := hold(t, t.Context(), c, rec, func(msg string) { t.Errorf("warned %q of a loss", msg) })
	sleepers(t, c, 1)
	c.Advance(every)
	waitLost(t, l)
	if err := l.Err(); err != taken {
		t.Errorf("Err() = %v, want %v", err, taken)
	}
	<-rec.renewed // the one that found run-2
	stopped(t, c, rec, "another holder was found")
}

// TestHoldConfirm: Confirm passes while the record is ours; a read that
// fails is an error but no loss; a record taken is a loss, and the
// renewal stops at once.
func TestHoldConfirm(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	l := hold(t, t.Context(), c, rec, nil)
	sleepers(t, c, 1) // the renewal waits for its first tick
	if err := l.Confirm(t.Context()); err != nil {
		t.Fatalf("Confirm = %v, want nil", err)
	}
	unreadable := errors.New("connection refused")
	rec.set(func(r *record) { r.checkErr = unreadable })
	if err := l.Confirm(t.Context()); !errors.Is(err, unreadable) || errors.Is(err, lock.ErrLost) {
		t.Errorf("Confirm with the record unreadable = %v, want %v and no loss", err, unreadable)
	}
	notLost(t, l)
	taken := &lock.LostError{Name: "shop", Holder: "run-2", Reason: "another run took it over"}
	rec.set(func(r *record) { r.checkErr = taken })
	if err := l.Confirm(t.Context()); err != taken {
		t.Errorf("Confirm with the record taken = %v, want %v", err, taken)
	}
	select {
	case <-l.Lost():
	default:
		t.Fatal("Lost() not closed after Confirm found the record taken")
	}
	stopped(t, c, rec, "Confirm found the loss") // at once, not at its next tick
}

// TestHoldConfirmJudgesTheLeaseByOurClock: while a renewal hangs, a lease
// passes since the last one that landed. Confirm reports the lock lost
// although the record still reads as ours: another run may take it now.
func TestHoldConfirmJudgesTheLeaseByOurClock(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	rec.block = make(chan struct{})
	defer close(rec.block)
	l := hold(t, t.Context(), c, rec, nil)
	sleepers(t, c, 1)
	c.Advance(every)
	next(t, rec, l) // hangs
	if err := l.Confirm(t.Context()); err != nil {
		t.Fatalf("Confirm within the lease = %v, want nil", err)
	}
	c.Advance(lease - every)
	err := l.Confirm(t.Context())
	if !errors.Is(err, lock.ErrLost) || !strings.Contains(err.Error(), "not renewed") {
		t.Errorf("Confirm a lease after the last renewal = %v, want a loss saying it was not renewed", err)
	}
}

// TestHoldRelease: Release stops the renewal, clears the record as last
// renewed, once, and returns the same result when called again.
func TestHoldRelease(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	refused := errors.New("forbidden")
	rec.clearErr = refused
	l := hold(t, t.Context(), c, rec, nil)
	for range 2 {
		sleepers(t, c, 1)
		c.Advance(every)
		next(t, rec, l)
	}
	sleepers(t, c, 1)
	for i := range 2 {
		if err := l.Release(t.Context()); err != refused {
			t.Errorf("Release %d = %v, want %v", i+1, err, refused)
		}
	}
	if got := rec.clearCalls(); len(got) != 1 || got[0] != 2 {
		t.Errorf("Clear called with %v, want once with the version renewals left, 2", got)
	}
	stopped(t, c, rec, "Release")
}

// TestHoldReleaseDuringRenewal: Release cancels a renewal in flight and
// waits for it to end before it clears, so that no renewal writes the
// record after its release. The renewal it cut short is no failure to
// warn of.
func TestHoldReleaseDuringRenewal(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	rec.block = make(chan struct{}) // never closed: only cancelling ends it
	l := hold(t, t.Context(), c, rec, func(msg string) { t.Errorf("warned %q", msg) })
	sleepers(t, c, 1)
	c.Advance(every)
	next(t, rec, l)
	if err := l.Release(t.Context()); err != nil {
		t.Errorf("Release = %v", err)
	}
	if got := rec.clearCalls(); len(got) != 1 || got[0] != 0 {
		t.Errorf("Clear called with %v, want once with version 0", got)
	}
	rec.set(func(r *record) {
		if r.overlap {
			t.Error("Clear was called while a renewal was in flight")
		}
	})
}

// TestHoldReleaseAfterLoss: a lock lost to failed renewals may still be
// ours in the record, so Release still asks the record to clear itself.
func TestHoldReleaseAfterLoss(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(start)
	rec := newRecord(c)
	rec.renewErr = errors.New("timeout")
	l := hold(t, t.Context(), c, rec, nil)
	for range 3 {
		sleepers(t, c, 1)
		c.Advance(every)
	}
	waitLost(t, l)
	if err := l.Release(t.Context()); err != nil {
		t.Errorf("Release = %v", err)
	}
	if got := rec.clearCalls(); len(got) != 1 {
		t.Errorf("Clear calls = %d, want 1", len(got))
	}
}
