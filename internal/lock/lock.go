// Package lock declares the deploy lock: one run at a time per
// application, stored in the target system itself so that every CI sees it.
package lock

import (
	"context"
	"fmt"
	"time"
)

// HeldError is returned when another run holds the lock.
type HeldError struct {
	Name   string
	Holder string
	Since  time.Time
	// Expires is when the holder's claim lapses unless renewed.
	Expires time.Time
}

func (e *HeldError) Error() string {
	age := time.Since(e.Since).Round(time.Second)
	return fmt.Sprintf("lock %q is held by %s (for %s); it expires at %s unless renewed",
		e.Name, e.Holder, age, e.Expires.UTC().Format(time.RFC3339))
}

// Locker takes the deploy lock of one application.
type Locker interface {
	// Acquire takes the lock for owner, waiting up to wait for a holder to
	// release it (0: fail at once with a *HeldError). The lock is renewed
	// until release is called; release must be called on every path.
	Acquire(ctx context.Context, owner string, wait time.Duration) (release func(context.Context) error, err error)
}
