// Package clock is the one source of time for waits that tests must be able
// to drive: a wait of minutes (scale-down-after, a held lock) is proven in
// milliseconds by a fake clock that the test moves, never by sleeping.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or returns ctx's cause as soon as ctx is done
	// (at once when it already is).
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
var Real Clock = real{}

type real struct{}

func (real) Now() time.Time { return time.Now() }

func (real) Sleep(ctx context.Context, d time.Duration) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if d <= 0 {
		return nil
	}
	// A stopped timer does not linger until it fires, as time.After would.
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Or returns c, or Real when c is nil, so that a zero value of a struct
// holding a Clock runs on the wall clock.
func Or(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// Sleep waits for d on the wall clock, or returns ctx's cause as soon as
// ctx is done.
func Sleep(ctx context.Context, d time.Duration) error { return Real.Sleep(ctx, d) }

// Wait waits for d on c, calling say every interval with the time left, so
// that a long wait is never silent: CI services end jobs whose log stays
// quiet for minutes, and a user watching a quiet step cannot tell waiting
// from hanging.
func Wait(ctx context.Context, c Clock, d, interval time.Duration, say func(left time.Duration)) error {
	c = Or(c)
	end := c.Now().Add(d)
	for {
		left := end.Sub(c.Now())
		if left <= 0 {
			return nil
		}
		if err := c.Sleep(ctx, min(left, interval)); err != nil {
			return err
		}
		if left := end.Sub(c.Now()); left > 0 {
			say(left)
		}
	}
}

// Every calls say every interval on c, with the time since it started,
// until the returned stop is called or ctx is done. It keeps a wait whose
// end it does not control (a lock another run holds) from being silent.
func Every(ctx context.Context, c Clock, interval time.Duration, say func(waited time.Duration)) (stop func()) {
	c = Or(c)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	start := c.Now()
	go func() {
		defer close(done)
		for c.Sleep(ctx, interval) == nil {
			say(c.Now().Sub(start))
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// Reading returns a Clock that tells the time with now and waits on the
// wall clock: for code whose tests set the time it reads (how long a
// record went unrenewed) but let its short waits really pass.
func Reading(now func() time.Time) Clock { return reading(now) }

type reading func() time.Time

func (r reading) Now() time.Time { return r() }

func (reading) Sleep(ctx context.Context, d time.Duration) error { return Real.Sleep(ctx, d) }
