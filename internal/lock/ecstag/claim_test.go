package ecstag_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
				errs := make([]error, len(owners))
				var begin, done sync.WaitGroup
				begin.Add(1)
				for i, o := range owners {
					l := newLocker(t, f, arn, c)
					done.Go(func() {
						begin.Wait()
						release, err := l.Acquire(t.Context(), o, 0)
						errs[i] = err
						if err == nil {
							t.Cleanup(func() { _ = release(context.Background()) })
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
	// run-1 stalls: its renewals are far apart and the clock passes its expiry.
	run1 := newLocker(t, f, arn, c, ecstag.WithRenew(50*time.Second), warn)
	release := acquire(t, run1, "run-1")
	c.Advance(2 * time.Minute)
	acquire(t, newLocker(t, f, arn, c), "run-2")
	before := f.ClusterTags("prod")[key]

	err := release(t.Context())
	if !errors.Is(err, ecstag.ErrLost) {
		t.Errorf("release = %v, want ecstag.ErrLost", err)
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

	c.Advance(45 * time.Second)
	want := fmt.Sprint(start.Add(45 * time.Second).Add(ecstag.DefaultDuration).Unix())
	eventually(t, "a renewal", func() bool { return lockTag(t, f)[1] == want })
	got := lockTag(t, f)
	if got[0] != first[0] || got[2] != first[2] || got[3] != first[3] {
		t.Errorf("renewal changed token, since or owner: %q, was %q", got, first)
	}

	// Past the first expiry, the renewed claim still holds the lock.
	c.Advance(30 * time.Second)
	_, err := newLocker(t, f, arn, c).Acquire(t.Context(), "run-2", 0)
	var held *lock.HeldError
	if !errors.As(err, &held) || held.Holder != "run-1" {
		t.Errorf("Acquire after the first expiry = %v, want held by run-1", err)
	}
}

func TestRenewalFindsClaimTakenOver(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	warned := make(chan string, 10)
	l := newLocker(t, f, arn, newClock(), ecstag.WithRenew(20*time.Millisecond),
		ecstag.WithWarning(func(msg string) { warned <- msg }))
	release := acquire(t, l, "run-1")

	// Another run took the lock over, its clock far ahead.
	other := claimBy("run-2", start.Add(time.Hour), start.Add(time.Hour+time.Minute))
	tagCluster(t, f, key, other)

	select {
	case msg := <-warned:
		if !strings.Contains(msg, `"run-2"`) || !strings.Contains(msg, "renewal stopped") {
			t.Errorf("warning %q should name run-2 and say renewal stopped", msg)
		}
	case <-t.Context().Done():
		t.Fatal("no warning")
	}
	writes := f.Count("TagResource")
	if err := release(t.Context()); !errors.Is(err, ecstag.ErrLost) {
		t.Errorf("release = %v, want ecstag.ErrLost", err)
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
	if len(warned) != 0 {
		t.Errorf("more than one warning: %q", <-warned)
	}
}
