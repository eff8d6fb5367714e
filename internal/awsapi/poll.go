package awsapi

import (
	"context"
	"math/rand/v2"
	"time"
)

// DefaultPoll is the base interval between two reads of a changing AWS
// resource. AWS's own waiters poll every 15 s; a deploy wants to notice
// readiness sooner, and the jitter keeps parallel jobs from polling in step.
const DefaultPoll = 3 * time.Second

// Interval returns base (DefaultPoll when base <= 0) with ±20% jitter.
func Interval(base time.Duration) time.Duration {
	if base <= 0 {
		base = DefaultPoll
	}
	jitter := (rand.Float64()*0.4 - 0.2) * float64(base)
	return base + time.Duration(jitter)
}

// Sleep waits for Interval(base) or until ctx is done, and then returns
// ctx's error, if any.
func Sleep(ctx context.Context, base time.Duration) error {
	t := time.NewTimer(Interval(base))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
