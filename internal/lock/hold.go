package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
)

// Record is the stored record of a lock held by this run, as one backend
// reads and writes it (a Lease, a tag). R is what the backend keeps of
// the record as it last wrote it; Hold passes it back on every call.
type Record[R any] interface {
	// Renew writes mine again, so that other runs see its holder alive,
	// and returns the record as stored with the time, on the Renewal's
	// clock, that the write which landed was sent. A *LostError says the
	// record is no longer this run's; any other error is a renewal that
	// failed and is tried again, since the record stays ours until a
	// lease has passed since the last write that landed. A write whose
	// answer was lost may have landed: Renew reads it back, or tells it
	// by a token that the next Renew and Check accept as ours.
	Renew(ctx context.Context, mine R) (R, time.Time, error)
	// Check reads the stored record: nil while it is still mine, a
	// *LostError once it is not, another error when it cannot be read.
	Check(ctx context.Context, mine R) error
	// Clear frees the stored record unless it is no longer mine, which is
	// a *LostError.
	Clear(ctx context.Context, mine R) error
}

// Renewal is how a held lock is kept: the same for every backend, so that
// a lock is lost on the same evidence wherever it is stored.
type Renewal struct {
	// Name names the lock in errors.
	Name string
	// Lease is how long the record stays valid unrenewed: no other run
	// takes it over before a lease has passed since it last saw it change.
	Lease time.Duration
	// Every is how often the record is renewed, shorter than Lease.
	Every time.Duration
	// Clock tells the time and waits (nil: the wall clock). Only
	// differences of its readings are compared, never a time written in
	// the record by another machine.
	Clock clock.Clock
	// Warn, when set, is told of every failed renewal: the lock is kept
	// and renewed again, but a run losing it soon should say why.
	Warn func(msg string)
}

// Hold starts renewing the record mine, whose write that landed was sent
// at sent, and returns the Lock that holds it until Release.
//
// Renewal outlives ctx's cancellation on purpose: a cancelled deploy still
// holds the lock until its release (with a fresh context) has cleaned up.
func Hold[R any](ctx context.Context, r Renewal, rec Record[R], mine R, sent time.Time) Lock {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h := &holding[R]{
		State: NewState(), r: r, clock: clock.Or(r.Clock), rec: rec,
		mine: mine, renewed: sent, stop: stop, done: make(chan struct{}),
	}
	go h.loop(rctx)
	return h
}

// holding is one Lock kept by Hold.
type holding[R any] struct {
	*State
	r     Renewal
	clock clock.Clock
	rec   Record[R]

	mu   sync.Mutex
	mine R // as last written by us
	// renewed is when, on our clock, the last write of ours that landed
	// was sent. Every other reader saw that write then or later, so none
	// takes the lock over before renewed plus the lease: until then it is
	// ours even while renewals fail.
	renewed time.Time
	lastErr error // of the last failed renewal, for the loss's reason

	stop context.CancelFunc
	done chan struct{} // closed when the loop has returned

	once sync.Once
	err  error
}

func (h *holding[R]) current() R {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mine
}

// deadline is when another run may take the lock over if no renewal of
// ours lands before.
func (h *holding[R]) deadline() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.renewed.Add(h.r.Lease)
}

// taken returns the *LostError in err, nil when there is none.
func taken(err error) *LostError {
	var lost *LostError
	if errors.As(err, &lost) {
		return lost
	}
	return nil
}

func (h *holding[R]) loop(ctx context.Context) {
	defer close(h.done)
	// A loss ends the wait, and a renewal in flight: nothing of ours is
	// left to renew.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-h.Lost():
		case <-ctx.Done():
		}
		cancel()
	}()
	for {
		// Wake at the deadline at the latest, so that a lock whose
		// renewals failed is known lost as soon as it may be taken.
		wait := min(h.r.Every, max(h.deadline().Sub(h.clock.Now()), 0))
		if h.clock.Sleep(ctx, wait) != nil || h.Err() != nil {
			return // released, or lost as Confirm found
		}
		if h.lapsed(ctx) || h.renew(ctx) {
			return
		}
	}
}

// renew writes the record once, and reports whether the renewal must
// stop: the lock is lost, or released.
func (h *holding[R]) renew(loop context.Context) bool {
	// A slow server may still apply a renewal in time: give it until the
	// lock would lapse, not only one interval.
	ctx, cancel := context.WithTimeout(loop, max(h.deadline().Sub(h.clock.Now()), h.r.Every))
	defer cancel()
	next, sent, err := h.rec.Renew(ctx, h.current())
	switch lost := taken(err); {
	case err == nil:
		h.mu.Lock()
		h.mine, h.renewed, h.lastErr = next, sent, nil
		h.mu.Unlock()
		return false
	case lost != nil:
		h.Lose(lost)
		return true
	case loop.Err() != nil || h.Err() != nil:
		return true // released, or lost as Confirm found: no failure to warn of
	}
	h.mu.Lock()
	h.lastErr = err
	h.mu.Unlock()
	if h.r.Warn != nil {
		h.r.Warn(fmt.Sprintf("deploy lock %q: renewal failed, trying again: %v", h.r.Name, err))
	}
	return false
}

// lapsed marks the lock lost once a whole lease has passed since the last
// renewal that landed, and reports whether it has: from then on another
// run may take it over, whatever the record says.
func (h *holding[R]) lapsed(ctx context.Context) bool {
	if h.clock.Now().Before(h.deadline()) {
		return false
	}
	h.mu.Lock()
	last := h.lastErr
	h.mu.Unlock()
	reason := fmt.Sprintf("not renewed for the whole %s lease", h.r.Lease)
	if last != nil {
		reason += ": " + last.Error()
	}
	// A best-effort read, to name who holds it now.
	holder := ""
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.r.Every)
	defer cancel()
	if lost := taken(h.rec.Check(rctx, h.current())); lost != nil {
		holder = lost.Holder
	}
	h.Lose(&LostError{Name: h.r.Name, Holder: holder, Reason: reason})
	return true
}

// Confirm reads the record and fails unless it is still ours and a lease
// has not passed since the last renewal that landed.
func (h *holding[R]) Confirm(ctx context.Context) error {
	if err := h.Err(); err != nil {
		return err
	}
	if h.lapsed(ctx) {
		return h.Err()
	}
	err := h.rec.Check(ctx, h.current())
	if lost := taken(err); lost != nil {
		return h.Lose(lost)
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("confirming the deploy lock %q is still ours: %w", h.r.Name, err)
}

// Release stops the renewal and frees the record, but only while it is
// still ours. Calling it again returns the first result.
func (h *holding[R]) Release(ctx context.Context) error {
	h.once.Do(func() {
		h.stop()
		<-h.done
		// Also after a loss: one found by failing renewals may leave the
		// record ours, and Clear checks that before it writes.
		h.err = h.rec.Clear(ctx, h.current())
	})
	return h.err
}
