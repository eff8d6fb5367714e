package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a Clock that moves only when told: a sleeper wakes when Advance
// reaches its time. It is safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	cond     *sync.Cond
	now      time.Time
	sleepers map[*sleeper]struct{}
}

type sleeper struct {
	at   time.Time
	wake chan struct{}
}

// NewFake returns a Fake clock showing now.
func NewFake(now time.Time) *Fake {
	f := &Fake{now: now, sleepers: map[*sleeper]struct{}{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep blocks until the clock is advanced by d or ctx is done.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if d <= 0 {
		return nil
	}
	f.mu.Lock()
	s := &sleeper{at: f.now.Add(d), wake: make(chan struct{})}
	f.sleepers[s] = struct{}{}
	f.cond.Broadcast()
	f.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		delete(f.sleepers, s)
		f.cond.Broadcast()
		f.mu.Unlock()
		return context.Cause(ctx)
	}
}

// Advance moves the clock by d and wakes every sleeper whose time came.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	for s := range f.sleepers {
		if !s.at.After(f.now) {
			delete(f.sleepers, s)
			close(s.wake)
		}
	}
	f.cond.Broadcast()
}

// BlockUntil returns once exactly n goroutines sleep on the clock: the
// code under test has reached its waits, and an Advance will be seen.
func (f *Fake) BlockUntil(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.sleepers) != n {
		f.cond.Wait()
	}
}
