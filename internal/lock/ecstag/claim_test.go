package ecstag_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/ecstag"
)

// TestConcurrentAcquire races five runs, each with a Locker of its own as
// separate CI jobs would have, many times over: exactly one must win each
// round, and the others must name it as the holder.
func TestConcurrentAcquire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		value string // the tag before the race; "" for none
	}{
		{name: "no tag yet", value: ""},
		{name: "expired claim", value: claimBy("crashed-run", start.Add(-2*time.Minute), start.Add(-time.Minute))},
	}
	const rounds = 15
	for _, tc := range cases {
		for round := range rounds {
			t.Run(fmt.Sprintf("%s/%d", tc.name, round), func(t *testing.T) {
				t.Parallel()
				f, arn := setup(t)
				if tc.value != "" {
					tagCluster(t, f, key, tc.value)
				}
				c := newClock()
				owners := []string{"run-a", "run-b", "run-c", "run-d", "run-e"}
				lockers := make([]*ecstag.Locker, len(owners))
				for i := range owners {
					lockers[i] = newLocker(t, f, arn, c)
					if tc.value != "" {
						// Each run has seen the crashed run's claim a lease ago.
						_, _ = lockers[i].Acquire(t.Context(), owners[i], 0)
					}
				}
				if tc.value != "" {
					c.Advance(ecstag.DefaultDuration)
				}
				errs := make([]error, len(owners))
				var begin, done sync.WaitGroup
				begin.Add(1)
				for i, o := range owners {
					l := lockers[i]
					done.Go(func() {
						begin.Wait()
						release, err := l.Acquire(t.Context(), o, 0)
						errs[i] = err
						if err == nil {
							t.Cleanup(func() { _ = release.Release(context.Background()) })
						}
					})
				}
				begin.Done()
				done.Wait()

				var winners []string
				var losers []*lock.HeldError
				for i, err := range errs {
					var held *lock.HeldError
					switch {
					case err == nil:
						winners = append(winners, owners[i])
					case errors.As(err, &held):
						losers = append(losers, held)
					default:
						t.Errorf("Acquire(%q) = %v, want nil or a *lock.HeldError", owners[i], err)
					}
				}
				if len(winners) != 1 {
					t.Fatalf("winners = %q, want exactly one", winners)
				}
				if got := owner(t, f); got != winners[0] {
					t.Errorf("tag names %q, want the winner %q", got, winners[0])
				}
				// A loser names whoever the tag named when it looked: the
				// winner, or a racing run that was about to lose too.
				for i, held := range losers {
					if held.Holder == "" || !slices.Contains(owners, held.Holder) {
						t.Errorf("loser %d was told the holder is %q, want one of %q", i, held.Holder, owners)
					}
				}
			})
		}
	}
}

func TestReleaseLeavesTakenOverClaim(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	c := newClock()
	var warnings []string
	var mu sync.Mutex
	warn := ecstag.WithWarning(func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
	})
	// run-1 stalls: its renewals are far apart, and run-2, which saw its
	// claim, sees it unchanged for longer than the lease.
	run1 := newLocker(t, f, arn, c, ecstag.WithRenew(50*time.Second), warn)
	release := acquire(t, run1, "run-1")
	run2 := newLocker(t, f, arn, c)
	if _, err := run2.Acquire(t.Context(), "run-2", 0); err == nil {
		t.Fatal("run-2 took run-1's fresh claim")
	}
	c.Advance(2 * time.Minute)
	acquire(t, run2, "run-2")
	before := f.ClusterTags("prod")[key]

	err := release.Release(t.Context())
	if !errors.Is(err, lock.ErrLost) {
		t.Errorf("release = %v, want lock.ErrLost", err)
	}
	if got := f.ClusterTags("prod")[key]; got != before {
		t.Errorf("tag after run-1's release = %q, want run-2's %q unchanged", got, before)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 0 {
		t.Errorf("warnings = %q, want none: run-1 never renewed", warnings)
	}
}

func TestRenew(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	c := newClock()
	l := newLocker(t, f, arn, c, ecstag.WithRenew(20*time.Millisecond))
	acquire(t, l, "run-1")
	first := lockTag(t, f)
	run2 := newLocker(t, f, arn, c)
	if _, err := run2.Acquire(t.Context(), "run-2", 0); err == nil {
		t.Fatal("run-2 took run-1's fresh claim")
	}

	c.Advance(45 * time.Second)
	want := fmt.Sprint(start.Add(45 * time.Second).Add(ecstag.DefaultDuration).Unix())
	eventually(t, "a renewal", func() bool { return lockTag(t, f)[1] == want })
	got := lockTag(t, f)
	if got[0] != first[0] || got[2] != first[2] || got[3] != first[3] {
		t.Errorf("renewal changed token, since or owner: %q, was %q", got, first)
	}

	// A lease after run-2 first saw the claim, the renewal it saw since
	// keeps the lock run-1's.
	c.Advance(30 * time.Second)
	_, err := run2.Acquire(t.Context(), "run-2", 0)
	var held *lock.HeldError
	if !errors.As(err, &held) || held.Holder != "run-1" {
		t.Errorf("Acquire after the first expiry = %v, want held by run-1", err)
	}
}

// TestRenewalFindsClaimTakenOver: a renewal that finds another claim in
// the tag loses the lock: Lost closes, Err names the new holder, and the
// claim writes nothing more, its release included.
func TestRenewalFindsClaimTakenOver(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	l := newLocker(t, f, arn, newClock(), ecstag.WithRenew(20*time.Millisecond))
	held := acquire(t, l, "run-1")

	// Another run took the lock over, its clock far ahead.
	other := claimBy("run-2", start.Add(time.Hour), start.Add(time.Hour+time.Minute))
	tagCluster(t, f, key, other)

	select {
	case <-held.Lost():
	case <-t.Context().Done():
		t.Fatal("the lock was never reported lost")
	}
	if err := held.Err(); !errors.Is(err, lock.ErrLost) || !strings.Contains(err.Error(), `"run-2"`) {
		t.Errorf("Err() = %v, want a loss naming run-2", err)
	}
	if err := held.Confirm(t.Context()); !errors.Is(err, lock.ErrLost) {
		t.Errorf("Confirm after the loss = %v, want lock.ErrLost", err)
	}
	writes := f.Count("TagResource")
	if err := held.Release(t.Context()); !errors.Is(err, lock.ErrLost) {
		t.Errorf("release = %v, want lock.ErrLost", err)
	}
	if got := f.ClusterTags("prod")[key]; got != other {
		t.Errorf("tag = %q, want run-2's %q", got, other)
	}
	if got := f.Count("TagResource"); got != writes {
		t.Errorf("TagResource calls after the takeover was found: %d, want none", got-writes)
	}
	if got := f.Count("UntagResource"); got != 0 {
		t.Errorf("UntagResource calls = %d, want none", got)
	}
}

// TestConfirm: Confirm reads the tag and fails once another run's claim is
// there, even before a renewal would notice.
func TestConfirm(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	held := acquire(t, newLocker(t, f, arn, newClock(), ecstag.WithRenew(50*time.Second)), "run-1")
	if err := held.Confirm(t.Context()); err != nil {
		t.Fatalf("Confirm while held: %v", err)
	}
	if held.Err() != nil {
		t.Fatalf("Err() while held = %v", held.Err())
	}
	tagCluster(t, f, key, claimBy("run-2", start, start.Add(time.Minute)))
	err := held.Confirm(t.Context())
	if !errors.Is(err, lock.ErrLost) || !strings.Contains(err.Error(), `"run-2"`) {
		t.Errorf("Confirm after a takeover = %v, want a loss naming run-2", err)
	}
	select {
	case <-held.Lost():
	default:
		t.Error("Lost() not closed after Confirm found the takeover")
	}
}

// brokenTags fails every read and write of tags once broken, as a network
// outage or lasting throttling would.
type brokenTags struct {
	*awsfake.ECS
	broken atomic.Bool
}

var errOutage = errors.New("connection reset by peer")

func (b *brokenTags) ListTagsForResource(ctx context.Context, in *awsecs.ListTagsForResourceInput, opts ...func(*awsecs.Options)) (*awsecs.ListTagsForResourceOutput, error) {
	if b.broken.Load() {
		return nil, errOutage
	}
	return b.ECS.ListTagsForResource(ctx, in, opts...)
}

func (b *brokenTags) TagResource(ctx context.Context, in *awsecs.TagResourceInput, opts ...func(*awsecs.Options)) (*awsecs.TagResourceOutput, error) {
	if b.broken.Load() {
		return nil, errOutage
	}
	return b.ECS.TagResource(ctx, in, opts...)
}

// TestRenewalFailingForTheLeaseLosesLock: renewals that keep failing keep
// the claim until a lease has passed since the last one that landed; then
// the lock is lost, since another run may take it over from then on.
func TestRenewalFailingForTheLeaseLosesLock(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	api := &brokenTags{ECS: f}
	c := newClock()
	var warnings atomic.Int32
	held := acquire(t, newLocker(t, api, arn, c, ecstag.WithRenew(10*time.Millisecond),
		ecstag.WithWarning(func(string) { warnings.Add(1) })), "run-1")
	api.broken.Store(true)
	eventually(t, "a failed renewal", func() bool { return warnings.Load() >= 2 })
	if err := held.Err(); err != nil {
		t.Fatalf("lost before the lease passed: %v", err)
	}
	c.Advance(ecstag.DefaultDuration)
	select {
	case <-held.Lost():
	case <-t.Context().Done():
		t.Fatal("the lock was never reported lost")
	}
	if err := held.Err(); !errors.Is(err, lock.ErrLost) || !strings.Contains(err.Error(), "not renewed") {
		t.Errorf("Err() = %v, want a loss saying renewal failed", err)
	}
}
