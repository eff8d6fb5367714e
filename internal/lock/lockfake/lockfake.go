// Package lockfake is an in-memory lock.Locker shared by the runs of one
// test, so that what one run may do while another holds the lock can be
// tested without a cluster.
package lockfake

import (
	"context"
	"sync"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

var _ lock.Locker = (*Locker)(nil)

// Locker is one deploy lock in memory. The zero value is free.
type Locker struct {
	// Now dates a claim; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	holder string
	since  time.Time
	freed  chan struct{} // closed when the lock is released
	takes  int
}

// Holder returns who holds the lock, or "".
func (l *Locker) Holder() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holder
}

// Takes counts the times the lock was taken.
func (l *Locker) Takes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.takes
}

// Acquire takes the lock for owner, waiting up to wait (on the wall clock)
// for its holder to release it.
func (l *Locker) Acquire(ctx context.Context, owner string, wait time.Duration) (lock.Lock, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		if l.holder == "" {
			l.holder, l.since, l.freed = owner, l.now(), make(chan struct{})
			l.takes++
			h := &holding{l: l, owner: owner, freed: l.freed, State: lock.NewState()}
			l.mu.Unlock()
			return h, nil
		}
		held := &lock.HeldError{Name: "fake", Holder: l.holder, Since: l.since}
		freed := l.freed
		l.mu.Unlock()
		if wait <= 0 {
			return nil, held
		}
		select {
		case <-freed:
		case <-deadline.C:
			return nil, held
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// TakeOver gives the lock to owner at once, as a run that judged the
// holder's claim lapsed would: the holding it had is lost.
func (l *Locker) TakeOver(owner string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holder, l.since = owner, l.now()
}

// holding is one holding of the lock.
type holding struct {
	*lock.State
	l     *Locker
	owner string
	freed chan struct{}
	once  sync.Once
	err   error // the first Release's result
}

// Confirm fails once another owner holds the lock.
func (h *holding) Confirm(context.Context) error {
	h.l.mu.Lock()
	holder := h.l.holder
	h.l.mu.Unlock()
	if holder != h.owner {
		return h.Lose(&lock.LostError{Name: "fake", Holder: holder, Reason: "taken over"})
	}
	return nil
}

// Release frees the lock unless another owner holds it now.
func (h *holding) Release(context.Context) error {
	h.once.Do(func() {
		h.l.mu.Lock()
		defer h.l.mu.Unlock()
		if h.l.holder != h.owner {
			h.err = &lock.LostError{Name: "fake", Holder: h.l.holder, Reason: "taken over before release"}
			return
		}
		h.l.holder = ""
		close(h.freed)
	})
	return h.err
}

func (l *Locker) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
