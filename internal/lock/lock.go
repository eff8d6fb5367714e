// Package lock declares the deploy lock: one run at a time per
// application, stored in the target system itself so that every CI sees it.
//
// A held lock can be lost: its holder stalls past the lease, or another
// run takes it over. A run that lost its lock must stop writing at once,
// so a Lock says so on a channel (Lost) and can be asked, right before a
// write, whether the stored record still names it (Confirm).
package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// HeldError is returned when another run holds the lock.
type HeldError struct {
	Name   string
	Holder string
	Since  time.Time
	// Expires is the earliest time this reader may take the lock over if
	// the holder stops renewing it.
	Expires time.Time
}

func (e *HeldError) Error() string {
	age := time.Since(e.Since).Round(time.Second)
	return fmt.Sprintf("lock %q is held by %s (for %s); it expires at %s unless renewed",
		e.Name, e.Holder, age, e.Expires.UTC().Format(time.RFC3339))
}

// ErrLost is wrapped by every error that says the lock stopped being ours
// while the run held it.
var ErrLost = errors.New("deploy lock lost")

// LostError says why a held lock was lost and who holds it now.
type LostError struct {
	Name string
	// Holder names who holds the lock now, as stored ("" when no other
	// run does, or when it could not be read).
	Holder string
	// Reason is what showed the loss.
	Reason string
}

func (e *LostError) Error() string {
	holder := "no other run holds it yet, but any may take it"
	if e.Holder != "" {
		holder = fmt.Sprintf("it is held by %q now", e.Holder)
	}
	return fmt.Sprintf("deploy lock %q lost (%s): %s", e.Name, e.Reason, holder)
}

// Is makes errors.Is(err, ErrLost) true for every *LostError.
func (e *LostError) Is(target error) bool { return target == ErrLost }

// Lock is one holding of the deploy lock, from Acquire to Release.
type Lock interface {
	// Lost is closed once the lock is known to be lost: renewal found
	// another holder, or kept failing for longer than the lease lasts, or
	// Confirm found the record taken.
	Lost() <-chan struct{}
	// Err is a *LostError once Lost is closed, nil before.
	Err() error
	// Confirm reads the stored record and returns nil only while it still
	// names this holding. A record taken by another run marks the lock lost
	// and returns the *LostError; a failed read returns that error and
	// leaves the lock as it was.
	Confirm(ctx context.Context) error
	// Release stops the renewal and frees the lock, unless another run
	// holds it now. It must be called on every path; calling it again
	// returns the first result.
	Release(ctx context.Context) error
}

// Locker takes the deploy lock of one application.
type Locker interface {
	// Acquire takes the lock for owner, waiting up to wait for a holder to
	// release it (0: fail at once with a *HeldError). The lock is renewed
	// until it is released or lost.
	Acquire(ctx context.Context, owner string, wait time.Duration) (Lock, error)
}

// State is the bookkeeping of a Lock's loss, for implementations: a
// channel closed once, and the error that closed it.
type State struct {
	mu   sync.Mutex
	lost chan struct{}
	err  error
}

// NewState returns the state of a lock not lost.
func NewState() *State { return &State{lost: make(chan struct{})} }

// Lost is closed once Lose was called.
func (s *State) Lost() <-chan struct{} { return s.lost }

// Err returns the error the lock was lost with, nil while held.
func (s *State) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Lose marks the lock lost with err, once; it returns the error the lock
// was lost with, the first one.
func (s *State) Lose(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
		close(s.lost)
	}
	return s.err
}
