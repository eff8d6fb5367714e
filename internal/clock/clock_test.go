package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWaitSpeaksEveryInterval(t *testing.T) {
	t.Parallel()
	c := NewFake(time.Unix(0, 0))
	lines := make(chan time.Duration, 10)
	done := make(chan error, 1)
	go func() {
		done <- Wait(t.Context(), c, time.Minute, 15*time.Second, func(left time.Duration) { lines <- left })
	}()
	for _, want := range []time.Duration{45 * time.Second, 30 * time.Second, 15 * time.Second} {
		c.BlockUntil(1)
		c.Advance(15 * time.Second)
		if got := <-lines; got != want {
			t.Errorf("said %s left, want %s", got, want)
		}
	}
	c.BlockUntil(1)
	c.Advance(15 * time.Second)
	if err := <-done; err != nil {
		t.Fatalf("Wait = %v, want nil", err)
	}
	if len(lines) != 0 {
		t.Errorf("said %s after the wait ended", <-lines)
	}
}

func TestWaitCancelled(t *testing.T) {
	t.Parallel()
	c := NewFake(time.Unix(0, 0))
	ctx, cancel := context.WithCancelCause(t.Context())
	cause := errors.New("job cancelled")
	done := make(chan error, 1)
	go func() { done <- Wait(ctx, c, time.Hour, 15*time.Second, func(time.Duration) {}) }()
	c.BlockUntil(1)
	cancel(cause)
	if err := <-done; !errors.Is(err, cause) {
		t.Errorf("Wait = %v, want %v", err, cause)
	}
	c.BlockUntil(0) // the sleeper left the clock
}

func TestEvery(t *testing.T) {
	t.Parallel()
	c := NewFake(time.Unix(0, 0))
	lines := make(chan time.Duration, 10)
	stop := Every(t.Context(), c, 15*time.Second, func(waited time.Duration) { lines <- waited })
	for _, want := range []time.Duration{15 * time.Second, 30 * time.Second} {
		c.BlockUntil(1)
		c.Advance(15 * time.Second)
		if got := <-lines; got != want {
			t.Errorf("said %s waited, want %s", got, want)
		}
	}
	stop()
	c.BlockUntil(0)
	c.Advance(time.Hour)
	if len(lines) != 0 {
		t.Errorf("said %s after stop", <-lines)
	}
}

func TestRealSleep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled) = %v, want context.Canceled", err)
	}
	if err := Sleep(t.Context(), time.Nanosecond); err != nil {
		t.Errorf("Sleep(1ns) = %v", err)
	}
}

func TestReading(t *testing.T) {
	t.Parallel()
	at := time.Unix(1000, 0)
	c := Reading(func() time.Time { return at })
	if got := c.Now(); !got.Equal(at) {
		t.Errorf("Now = %s, want %s from the function", got, at)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled) = %v, want context.Canceled", err)
	}
	if err := c.Sleep(t.Context(), time.Nanosecond); err != nil {
		t.Errorf("Sleep(1ns) = %v", err)
	}
}
