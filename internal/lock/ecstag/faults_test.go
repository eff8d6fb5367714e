package ecstag_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/ecstag"
)

// slowFirstWrite delays the first TagResource call past its deadline, as
// a network stall or the SDK's retries of a throttled call would.
type slowFirstWrite struct {
	*awsfake.ECS
	delay time.Duration
	calls atomic.Int32
}

func (s *slowFirstWrite) TagResource(ctx context.Context, in *awsecs.TagResourceInput, opts ...func(*awsecs.Options)) (*awsecs.TagResourceOutput, error) {
	if s.calls.Add(1) == 1 {
		time.Sleep(s.delay)
	}
	return s.ECS.TagResource(ctx, in, opts...)
}

func TestSlowWriteIsNotTrusted(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	// The write is due 100ms after its check; the first one arrives after 150ms.
	api := &slowFirstWrite{ECS: f, delay: 150 * time.Millisecond}
	acquire(t, newLocker(t, api, arn, newClock(), ecstag.WithSettle(200*time.Millisecond)), "run-1")

	if got, want := owner(t, f), "run-1"; got != want {
		t.Errorf("holder = %q, want %q", got, want)
	}
	// The late write reached ECS after its deadline and was not applied;
	// the attempt started over with a fresh check.
	if got, want := f.Count("TagResource"), 2; got != want {
		t.Errorf("TagResource calls = %d, want %d", got, want)
	}
	if got, want := f.Count("ListTagsForResource"), 3; got != want {
		t.Errorf("ListTagsForResource calls = %d, want %d (check, check again, confirm)", got, want)
	}
}

// TestThrottled throttles every fourth call, shifted so that each call of
// the protocol (check, write, confirm, release's read and removal) is the
// throttled one in some case.
func TestThrottled(t *testing.T) {
	t.Parallel()
	for shift := range 4 {
		t.Run(fmt.Sprintf("shift %d", shift), func(t *testing.T) {
			t.Parallel()
			f, arn := setup(t)
			for range shift {
				if _, err := f.ListTagsForResource(t.Context(), &awsecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}); err != nil {
					t.Fatal(err)
				}
			}
			f.ThrottleEvery(4)
			l := newLocker(t, f, arn, newClock())
			release, err := l.Acquire(t.Context(), "run-1", 10*time.Second)
			if err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			if got, want := owner(t, f), "run-1"; got != want {
				t.Errorf("holder = %q, want %q", got, want)
			}
			if err := release.Release(t.Context()); err != nil {
				t.Fatalf("release: %v", err)
			}
			if got := owner(t, f); got != "" {
				t.Errorf("holder after release = %q, want none", got)
			}
		})
	}
}

// TestGivingUpRemovesUnconfirmedClaim: a run whose confirming read fails
// leaves no claim behind to block the next run until it expires.
func TestGivingUpRemovesUnconfirmedClaim(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	f.ThrottleEvery(3) // check, write, then the confirming read is throttled
	l := newLocker(t, f, arn, newClock())
	if _, err := l.Acquire(t.Context(), "run-1", 0); err == nil {
		t.Fatal("Acquire succeeded, want the throttling error")
	}
	f.ThrottleEvery(0)
	if got := owner(t, f); got != "" {
		t.Errorf("holder after giving up = %q, want none", got)
	}
	acquire(t, newLocker(t, f, arn, newClock(), ecstag.WithSettle(10*time.Millisecond)), "run-2")
}

// lostFirstWrite applies the first TagResource call and loses its answer,
// as a connection reset after the request went out does.
type lostFirstWrite struct {
	*awsfake.ECS
	calls atomic.Int32
}

func (l *lostFirstWrite) TagResource(ctx context.Context, in *awsecs.TagResourceInput, opts ...func(*awsecs.Options)) (*awsecs.TagResourceOutput, error) {
	out, err := l.ECS.TagResource(ctx, in, opts...)
	if l.calls.Add(1) == 1 && err == nil {
		return nil, errors.New("read tcp 10.0.0.2:41234->52.94.1.1:443: read: connection reset by peer")
	}
	return out, err
}

// TestLostWriteAnswerIsReadBack: the claim's write lands and its answer is
// lost. The read after the settle interval shows the claim: the run holds
// the lock, instead of failing or leaving a claim nobody will release.
func TestLostWriteAnswerIsReadBack(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	api := &lostFirstWrite{ECS: f}
	held, err := newLocker(t, api, arn, newClock()).Acquire(t.Context(), "run-1", 0)
	if api.calls.Load() == 0 {
		t.Fatal("no claim was written; the test proves nothing")
	}
	if err != nil {
		t.Fatalf("Acquire after a lost answer = %v, want the lock held (the claim landed)", err)
	}
	if got, want := owner(t, f), "run-1"; got != want {
		t.Errorf("holder = %q, want %q", got, want)
	}
	if got, want := f.Count("TagResource"), 1; got != want {
		t.Errorf("TagResource calls = %d, want %d", got, want)
	}
	if err := held.Release(t.Context()); err != nil {
		t.Errorf("release: %v", err)
	}
	if got := owner(t, f); got != "" {
		t.Errorf("holder after release = %q, want none", got)
	}
}
