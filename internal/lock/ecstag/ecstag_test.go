package ecstag_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/ecstag"
)

const (
	app = "shop"
	key = "bluegreen:lock:shop"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newClock returns a clock shared by the Lockers of a test, set to start.
func newClock() *clock.Fake { return clock.NewFake(start) }

// setup returns an ECS double with cluster prod and its ARN.
func setup(t *testing.T) (*awsfake.ECS, string) {
	t.Helper()
	f := awsfake.NewECS(nil)
	f.AddCluster("prod")
	return f, f.ClusterARN("prod")
}

// newLocker returns a Locker on f's cluster prod that settles for 20ms and
// polls every 10ms, so that waits end quickly. Its warnings fail the test
// unless opts replace them.
func newLocker(t *testing.T, api ecstag.API, arn string, c *clock.Fake, opts ...ecstag.Option) *ecstag.Locker {
	t.Helper()
	opts = append([]ecstag.Option{
		ecstag.WithSettle(20 * time.Millisecond), ecstag.WithPoll(10 * time.Millisecond), ecstag.WithClock(c.Now),
		ecstag.WithWarning(func(msg string) { t.Errorf("unexpected warning: %s", msg) }),
	}, opts...)
	l, err := ecstag.New(ecstag.Config{API: api, ClusterARN: arn, App: app}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// acquire takes the lock and releases it when the test ends, if the test
// has not released it itself.
func acquire(t *testing.T, l *ecstag.Locker, owner string) lock.Lock {
	t.Helper()
	held, err := l.Acquire(t.Context(), owner, 0)
	if err != nil {
		t.Fatalf("Acquire(%q): %v", owner, err)
	}
	t.Cleanup(func() { _ = held.Release(context.Background()) })
	return held
}

var valueRE = regexp.MustCompile(`^token=([A-Z2-7]{26}) expires=(\d+) since=(\d+) lease=60 owner=(.*)$`)

// lockTag returns the parts of the lock tag's value: token, expires,
// since, owner; nil when there is no tag.
func lockTag(t *testing.T, f *awsfake.ECS) []string {
	t.Helper()
	v, ok := f.ClusterTags("prod")[key]
	if !ok {
		return nil
	}
	m := valueRE.FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("lock tag %q does not match %s", v, valueRE)
	}
	return m[1:]
}

func owner(t *testing.T, f *awsfake.ECS) string {
	t.Helper()
	if parts := lockTag(t, f); parts != nil {
		return parts[3]
	}
	return ""
}

// tagCluster writes a tag as another tool, or a run that crashed, would.
func tagCluster(t *testing.T, f *awsfake.ECS, k, v string) {
	t.Helper()
	_, err := f.TagResource(t.Context(), &awsecs.TagResourceInput{
		ResourceArn: aws.String(f.ClusterARN("prod")), Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// claimBy is a tag value as written by owner at the given times, with a
// one-minute lease.
func claimBy(owner string, since, expires time.Time) string {
	return fmt.Sprintf("token=%s expires=%d since=%d lease=60 owner=%s", strings.Repeat("Q", 26), expires.Unix(), since.Unix(), owner)
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	good := ecstag.Config{API: f, ClusterARN: arn, App: app}
	cases := []struct {
		name string
		cfg  ecstag.Config
		opts []ecstag.Option
	}{
		{name: "no client", cfg: ecstag.Config{ClusterARN: arn, App: app}},
		{name: "cluster name, not ARN", cfg: ecstag.Config{API: f, ClusterARN: "prod", App: app}},
		{name: "service ARN", cfg: ecstag.Config{API: f, ClusterARN: "arn:aws:ecs:us-east-1:123456789012:service/prod/shop-blue", App: app}},
		{name: "ARN of another service", cfg: ecstag.Config{API: f, ClusterARN: "arn:aws:eks:us-east-1:123456789012:cluster/prod", App: app}},
		{name: "no app", cfg: ecstag.Config{API: f, ClusterARN: arn}},
		{name: "app not fit for a tag key", cfg: ecstag.Config{API: f, ClusterARN: arn, App: "shop;prod"}},
		{name: "app too long", cfg: ecstag.Config{API: f, ClusterARN: arn, App: strings.Repeat("a", 114)}},
		{name: "sub-second duration", cfg: good, opts: []ecstag.Option{ecstag.WithDuration(500 * time.Millisecond), ecstag.WithRenew(100 * time.Millisecond), ecstag.WithSettle(10 * time.Millisecond)}},
		{name: "fractional duration", cfg: good, opts: []ecstag.Option{ecstag.WithDuration(1500 * time.Millisecond)}},
		{name: "renew not shorter than duration", cfg: good, opts: []ecstag.Option{ecstag.WithDuration(20 * time.Second)}},
		{name: "settle not shorter than duration", cfg: good, opts: []ecstag.Option{ecstag.WithSettle(time.Minute)}},
		{name: "zero settle", cfg: good, opts: []ecstag.Option{ecstag.WithSettle(0)}},
		{name: "zero poll", cfg: good, opts: []ecstag.Option{ecstag.WithPoll(0)}},
		{name: "nil clock", cfg: good, opts: []ecstag.Option{ecstag.WithClock(nil)}},
		{name: "nil warning", cfg: good, opts: []ecstag.Option{ecstag.WithWarning(nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ecstag.New(tc.cfg, tc.opts...); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
	if _, err := ecstag.New(good); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
	if _, err := ecstag.New(ecstag.Config{API: f, ClusterARN: arn, App: strings.Repeat("a", 113)}); err != nil {
		t.Errorf("New with a 113-character app: %v", err)
	}
}

func TestAcquireRelease(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	tagCluster(t, f, "team", "web")
	l := newLocker(t, f, arn, newClock())

	release := acquire(t, l, "run-1")
	want := []string{fmt.Sprint(start.Add(ecstag.DefaultDuration).Unix()), fmt.Sprint(start.Unix()), "run-1"}
	got := lockTag(t, f)
	if diff := cmp.Diff(want, got[1:]); diff != "" {
		t.Errorf("lock tag expires, since, owner (-want +got):\n%s", diff)
	}

	if err := release.Release(t.Context()); err != nil {
		t.Fatalf("release: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"team": "web"}, f.ClusterTags("prod")); diff != "" {
		t.Errorf("cluster tags after release (-want +got):\n%s", diff)
	}
	if err := release.Release(t.Context()); err != nil {
		t.Errorf("second release: %v", err)
	}

	// A released lock is free at once, and a new claim has a new token.
	acquire(t, l, "run-2")
	if got2 := lockTag(t, f); got2[3] != "run-2" || got2[0] == got[0] {
		t.Errorf("second claim: owner %q, token %q; want run-2 and a token other than %q", got2[3], got2[0], got[0])
	}
}

func TestHeld(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	l := newLocker(t, f, arn, newClock())
	acquire(t, l, "run-1")

	cases := []struct {
		name string
		wait time.Duration
	}{
		{name: "no wait", wait: 0},
		{name: "wait runs out", wait: 50 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := l.Acquire(t.Context(), "run-2", tc.wait)
			var held *lock.HeldError
			if !errors.As(err, &held) {
				t.Fatalf("Acquire = %v, want a *lock.HeldError", err)
			}
			want := &lock.HeldError{Name: "prod/" + key, Holder: "run-1", Since: start, Expires: start.Add(time.Minute)}
			if diff := cmp.Diff(want, held); diff != "" {
				t.Errorf("HeldError (-want +got):\n%s", diff)
			}
		})
	}
	if got, want := owner(t, f), "run-1"; got != want {
		t.Errorf("holder after refused acquires = %q, want %q", got, want)
	}
}

func TestAcquireCancelled(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	l := newLocker(t, f, arn, newClock())
	acquire(t, l, "run-1")

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := l.Acquire(ctx, "run-2", time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire = %v, want context.DeadlineExceeded", err)
	}
}

func TestWaitForRelease(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	l := newLocker(t, f, arn, newClock())
	release := acquire(t, l, "run-1")

	reads := f.Count("ListTagsForResource")
	go func() {
		// Release once run-2 has looked a few times and is waiting.
		eventually(t, "run-2 to poll", func() bool { return f.Count("ListTagsForResource") >= reads+3 })
		_ = release.Release(context.Background())
	}()
	acquire2, err := l.Acquire(t.Context(), "run-2", 10*time.Second)
	if err != nil {
		t.Fatalf("Acquire while waiting: %v", err)
	}
	t.Cleanup(func() { _ = acquire2.Release(context.Background()) })
	if got, want := owner(t, f), "run-2"; got != want {
		t.Errorf("holder = %q, want %q", got, want)
	}
}

// TestExpiredClaimTakenOver: a claim expires for a reader once it went
// unchanged for its lease from when that reader first saw it, whatever
// the times written in it say: they come from another machine's clock.
func TestExpiredClaimTakenOver(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		value string
		// free: taken at the first look; otherwise refused at the first
		// look and taken once the lease has passed since.
		free bool
	}{
		{name: "unreadable value", value: "locked by hand", free: true},
		{name: "written by a clock behind ours", value: claimBy("crashed-run", start.Add(-2*time.Hour), start.Add(-time.Hour))},
		{name: "written by a clock ahead of ours", value: claimBy("crashed-run", start.Add(time.Hour), start.Add(time.Hour+time.Minute))},
		{name: "written by a clock like ours", value: claimBy("crashed-run", start, start.Add(time.Minute))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, arn := setup(t)
			tagCluster(t, f, key, tc.value)
			c := newClock()
			l := newLocker(t, f, arn, c)
			if !tc.free {
				_, err := l.Acquire(t.Context(), "run-2", 0)
				var held *lock.HeldError
				if !errors.As(err, &held) || held.Holder != "crashed-run" {
					t.Fatalf("Acquire at the first look = %v, want held by crashed-run", err)
				}
				if got, want := held.Expires, start.Add(time.Minute); !got.Equal(want) {
					t.Errorf("HeldError.Expires = %s, want a lease after the first look, %s", got, want)
				}
				c.Advance(time.Minute - time.Second)
				if _, err := l.Acquire(t.Context(), "run-2", 0); !errors.As(err, &held) {
					t.Fatalf("Acquire a second before the lease is over = %v, want held", err)
				}
				c.Advance(time.Second)
			}
			held, err := l.Acquire(t.Context(), "run-2", 0)
			if err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			t.Cleanup(func() { _ = held.Release(context.Background()) })
			if got, want := owner(t, f), "run-2"; got != want {
				t.Errorf("holder = %q, want %q", got, want)
			}
		})
	}
}

// TestClaimExpiresWhileWaiting: Acquire with a wait takes a claim over
// once it went unrenewed for its lease while Acquire polled.
func TestClaimExpiresWhileWaiting(t *testing.T) {
	t.Parallel()
	f, arn := setup(t)
	tagCluster(t, f, key, claimBy("crashed-run", start, start.Add(time.Minute)))
	c := newClock()
	l := newLocker(t, f, arn, c)
	go func() {
		eventually(t, "run-2 to poll", func() bool { return f.Count("ListTagsForResource") >= 3 })
		c.Advance(time.Minute)
	}()
	held, err := l.Acquire(t.Context(), "run-2", 10*time.Second)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(func() { _ = held.Release(context.Background()) })
	if got, want := owner(t, f), "run-2"; got != want {
		t.Errorf("holder = %q, want %q", got, want)
	}
}

func TestOwnerFitsTagValue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, owner, want string
	}{
		{name: "plain", owner: "octo/shop run 42 attempt 1", want: "octo/shop run 42 attempt 1"},
		{name: "forbidden characters", owner: "octo/shop#42 (attempt 2) ✓", want: "octo/shop_42 _attempt 2_ _"},
		{name: "long", owner: strings.Repeat("x", 300), want: strings.Repeat("x", 256-len(claimBy("", start, start.Add(time.Minute))))},
		{name: "long with multibyte letters", owner: strings.Repeat("é", 200), want: strings.Repeat("é", (256-len(claimBy("", start, start.Add(time.Minute))))/2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, arn := setup(t)
			l := newLocker(t, f, arn, newClock())
			acquire(t, l, tc.owner)
			v := f.ClusterTags("prod")[key]
			if len(v) > 256 {
				t.Errorf("tag value is %d bytes, want at most 256", len(v))
			}
			got := lockTag(t, f)
			if got[1] != fmt.Sprint(start.Add(time.Minute).Unix()) {
				t.Errorf("expires = %s, want it whole", got[1])
			}
			if got[3] != tc.want {
				t.Errorf("owner in tag = %q, want %q", got[3], tc.want)
			}
			_, err := l.Acquire(t.Context(), "run-2", 0)
			var held *lock.HeldError
			if !errors.As(err, &held) || held.Holder != tc.want {
				t.Errorf("Acquire by another = %v, want held by %q", err, tc.want)
			}
		})
	}
}

func TestAcquireErrors(t *testing.T) {
	t.Parallel()
	f, _ := setup(t)
	cases := []struct {
		name     string
		arn      string
		owner    string
		notFound bool
	}{
		{name: "unknown cluster", arn: f.ClusterARN("staging"), owner: "run-1", notFound: true},
		{name: "empty owner", arn: f.ClusterARN("prod"), owner: " "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newLocker(t, f, tc.arn, newClock()).Acquire(t.Context(), tc.owner, time.Second)
			var held *lock.HeldError
			if err == nil || errors.As(err, &held) {
				t.Errorf("Acquire = %v, want an error other than held", err)
			}
			if notFound := (*types.ClusterNotFoundException)(nil); tc.notFound && !errors.As(err, &notFound) {
				t.Errorf("Acquire = %v, want a ClusterNotFoundException", err)
			}
		})
	}
}
