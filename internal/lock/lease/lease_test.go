package lease_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/lease"
)

const leaseName = "shop-bluegreen-lock"

// setup returns a coordination client and a fresh namespace on the test
// control plane.
func setup(t *testing.T) (coordinationclient.CoordinationV1Interface, string) {
	t.Helper()
	cfg := kubetest.Config(t)
	client, err := coordinationclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client, kubetest.Namespace(t, cfg)
}

// newLocker returns a Locker polling every 20ms, so that waits end quickly.
func newLocker(t *testing.T, client coordinationclient.LeasesGetter, ns string, opts ...lease.Option) *lease.Locker {
	t.Helper()
	opts = append([]lease.Option{lease.WithPoll(20 * time.Millisecond)}, opts...)
	l, err := lease.New(lease.Config{Client: client, Namespace: ns, Name: leaseName}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// acquire takes the lock and releases it when the test ends, if the test
// has not released it itself.
func acquire(t *testing.T, l *lease.Locker, owner string) lock.Lock {
	t.Helper()
	held, err := l.Acquire(t.Context(), owner, 0)
	if err != nil {
		t.Fatalf("Acquire(%q): %v", owner, err)
	}
	t.Cleanup(func() { _ = held.Release(context.Background()) })
	return held
}

func getLease(t *testing.T, client coordinationclient.LeasesGetter, ns string) *coordinationv1.Lease {
	t.Helper()
	le, err := client.Leases(ns).Get(t.Context(), leaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading lease: %v", err)
	}
	return le
}

func holderOf(le *coordinationv1.Lease) string {
	if le.Spec.HolderIdentity == nil {
		return ""
	}
	return *le.Spec.HolderIdentity
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	// Building a client does not connect, so no control plane is needed.
	client := coordinationclient.NewForConfigOrDie(&rest.Config{Host: "http://127.0.0.1:1"})
	good := lease.Config{Client: client, Namespace: "shop", Name: leaseName}
	cases := []struct {
		name string
		cfg  lease.Config
		opts []lease.Option
	}{
		{name: "no client", cfg: lease.Config{Namespace: "shop", Name: leaseName}},
		{name: "no namespace", cfg: lease.Config{Client: client, Name: leaseName}},
		{name: "no name", cfg: lease.Config{Client: client, Namespace: "shop"}},
		{name: "sub-second duration", cfg: good, opts: []lease.Option{lease.WithDuration(500 * time.Millisecond), lease.WithRenew(100 * time.Millisecond)}},
		{name: "fractional duration", cfg: good, opts: []lease.Option{lease.WithDuration(1500 * time.Millisecond)}},
		{name: "renew not shorter than duration", cfg: good, opts: []lease.Option{lease.WithDuration(10 * time.Second)}},
		{name: "zero poll", cfg: good, opts: []lease.Option{lease.WithPoll(0)}},
		{name: "nil clock", cfg: good, opts: []lease.Option{lease.WithClock(nil)}},
		{name: "nil warning function", cfg: good, opts: []lease.Option{lease.WithWarning(nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := lease.New(tc.cfg, tc.opts...); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
	if _, err := lease.New(good); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}

func TestAcquireRelease(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	l := newLocker(t, client, ns)

	release := acquire(t, l, "run-1")
	le := getLease(t, client, ns)
	if got, want := holderOf(le), "run-1"; got != want {
		t.Errorf("holder = %q, want %q", got, want)
	}
	if got, want := *le.Spec.LeaseDurationSeconds, int32(30); got != want {
		t.Errorf("leaseDurationSeconds = %d, want %d", got, want)
	}
	if le.Spec.AcquireTime == nil || le.Spec.RenewTime == nil {
		t.Errorf("acquireTime %v, renewTime %v: want both set", le.Spec.AcquireTime, le.Spec.RenewTime)
	}

	if err := release.Release(t.Context()); err != nil {
		t.Fatalf("release: %v", err)
	}
	if got := holderOf(getLease(t, client, ns)); got != "" {
		t.Errorf("holder after release = %q, want none", got)
	}
	if err := release.Release(t.Context()); err != nil {
		t.Errorf("second release: %v", err)
	}

	// A released Lease is free at once.
	acquire(t, l, "run-2")
	le = getLease(t, client, ns)
	if got, want := holderOf(le), "run-2"; got != want {
		t.Errorf("holder = %q, want %q", got, want)
	}
	if got, want := *le.Spec.LeaseTransitions, int32(1); got != want {
		t.Errorf("leaseTransitions = %d, want %d", got, want)
	}
}

func TestHeld(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	l := newLocker(t, client, ns)
	acquire(t, l, "run-1")

	cases := []struct {
		name string
		wait time.Duration
	}{
		{name: "no wait", wait: 0},
		{name: "wait runs out", wait: 150 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := l.Acquire(t.Context(), "run-2", tc.wait)
			took := time.Since(start)
			var held *lock.HeldError
			if !errors.As(err, &held) {
				t.Fatalf("Acquire = %v, want a *lock.HeldError", err)
			}
			if got, want := held.Holder, "run-1"; got != want {
				t.Errorf("holder = %q, want %q", got, want)
			}
			if got, want := held.Name, ns+"/"+leaseName; got != want {
				t.Errorf("name = %q, want %q", got, want)
			}
			if until := time.Until(held.Expires); until < 20*time.Second || until > 31*time.Second {
				t.Errorf("expires in %s, want about 30s", until)
			}
			if took < tc.wait || took > tc.wait+2*time.Second {
				t.Errorf("Acquire took %s, want about %s", took, tc.wait)
			}
		})
	}
}

func TestAcquireCancelled(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	l := newLocker(t, client, ns)
	acquire(t, l, "run-1")

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := l.Acquire(ctx, "run-2", time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire = %v, want context.DeadlineExceeded", err)
	}
}

func TestWaitForRelease(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	l := newLocker(t, client, ns)
	release := acquire(t, l, "run-1")

	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = release.Release(context.Background())
	}()
	start := time.Now()
	acquire2, err := l.Acquire(t.Context(), "run-2", 10*time.Second)
	if err != nil {
		t.Fatalf("Acquire while waiting: %v", err)
	}
	t.Cleanup(func() { _ = acquire2.Release(context.Background()) })
	if took := time.Since(start); took < 200*time.Millisecond || took > 5*time.Second {
		t.Errorf("Acquire took %s, want a little over 200ms", took)
	}
	if got, want := holderOf(getLease(t, client, ns)), "run-2"; got != want {
		t.Errorf("holder = %q, want %q", got, want)
	}
}

// crashed writes a Lease as left by a run that died without releasing it,
// renewed at renewed by its own clock.
func crashed(t *testing.T, client coordinationclient.LeasesGetter, ns string, renewed time.Time) {
	t.Helper()
	holder, secs, at := "crashed-run", int32(30), metav1.NewMicroTime(renewed)
	_, err := client.Leases(ns).Create(t.Context(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: leaseName},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &at, RenewTime: &at,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExpiryFromObservation: a Lease expires for a reader once its record
// went unchanged for its lease duration from when that reader first saw
// it. The renew time inside was written by another machine's clock, which
// may be hours off: one behind ours must not make a live Lease look
// lapsed, one ahead must not keep a dead one taken.
func TestExpiryFromObservation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		skew time.Duration // of the crashed run's clock against ours
	}{
		{name: "renewed by a clock behind ours", skew: -time.Hour},
		{name: "renewed by a clock ahead of ours", skew: time.Hour},
		{name: "renewed by a clock like ours", skew: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, ns := setup(t)
			c := clock.NewFake(time.Now())
			crashed(t, client, ns, c.Now().Add(tc.skew))
			l := newLocker(t, client, ns, lease.WithClock(c.Now))

			_, err := l.Acquire(t.Context(), "run-2", 0)
			var held *lock.HeldError
			if !errors.As(err, &held) || held.Holder != "crashed-run" {
				t.Fatalf("Acquire at the first look = %v, want held by crashed-run", err)
			}
			if got, want := held.Expires, c.Now().Add(30*time.Second); !got.Equal(want) {
				t.Errorf("HeldError.Expires = %s, want the lease duration after the first look, %s", got, want)
			}
			c.Advance(29 * time.Second)
			if _, err := l.Acquire(t.Context(), "run-2", 0); !errors.As(err, &held) {
				t.Fatalf("Acquire a second before the lease is over = %v, want held", err)
			}
			c.Advance(time.Second)
			got := acquire(t, l, "run-2")
			if got.Err() != nil {
				t.Errorf("Err() of a fresh holding = %v", got.Err())
			}
			le := getLease(t, client, ns)
			if got, want := holderOf(le), "run-2"; got != want {
				t.Errorf("holder = %q, want %q", got, want)
			}
			if got, want := *le.Spec.LeaseTransitions, int32(1); got != want {
				t.Errorf("leaseTransitions = %d, want %d", got, want)
			}
		})
	}
}

// TestExpiresWhileWaiting: Acquire with a wait takes a Lease over once its
// record went unrenewed for the lease duration while Acquire polled.
func TestExpiresWhileWaiting(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	c := clock.NewFake(time.Now())
	crashed(t, client, ns, c.Now())
	l := newLocker(t, client, ns, lease.WithClock(c.Now))
	go func() {
		time.Sleep(100 * time.Millisecond) // a few polls; the test holds without them
		c.Advance(30 * time.Second)
	}()
	release, err := l.Acquire(t.Context(), "run-2", time.Minute)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(func() { _ = release.Release(context.Background()) })
	if got, want := holderOf(getLease(t, client, ns)), "run-2"; got != want {
		t.Errorf("holder = %q, want %q", got, want)
	}
}

func TestRenewKeepsLeaseHeld(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	l := newLocker(t, client, ns, lease.WithDuration(time.Second), lease.WithRenew(100*time.Millisecond))
	acquire(t, l, "run-1")
	first := getLease(t, client, ns).Spec.RenewTime.Time

	time.Sleep(1500 * time.Millisecond) // longer than the duration
	_, err := l.Acquire(t.Context(), "run-2", 0)
	var held *lock.HeldError
	if !errors.As(err, &held) {
		t.Fatalf("Acquire after the duration = %v, want a *lock.HeldError", err)
	}
	if renewed := getLease(t, client, ns).Spec.RenewTime.Time; !renewed.After(first) {
		t.Errorf("renewTime %s not after the first %s", renewed, first)
	}
}

func TestReleaseLeavesTakenOverLease(t *testing.T) {
	t.Parallel()
	client, ns := setup(t)
	// run-1 renews too rarely to renew during the test.
	l := newLocker(t, client, ns, lease.WithRenew(29*time.Second))
	release := acquire(t, l, "run-1")

	// run-2 sees run-1's Lease unchanged for longer than its duration, as
	// when run-1 stalls (or its network fails) past the duration.
	c := clock.NewFake(time.Now())
	other := newLocker(t, client, ns, lease.WithClock(c.Now))
	if _, err := other.Acquire(t.Context(), "run-2", 0); err == nil {
		t.Fatal("run-2 took run-1's fresh Lease")
	}
	c.Advance(30 * time.Second)
	acquire(t, other, "run-2")

	err := release.Release(t.Context())
	if !errors.Is(err, lock.ErrLost) {
		t.Errorf("release = %v, want lock.ErrLost", err)
	}
	if got, want := holderOf(getLease(t, client, ns)), "run-2"; got != want {
		t.Errorf("holder after run-1's release = %q, want %q", got, want)
	}
}

func TestConcurrentAcquire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(t *testing.T, l *lease.Locker)
	}{
		{name: "no lease yet", prepare: func(*testing.T, *lease.Locker) {}},
		{name: "released lease", prepare: func(t *testing.T, l *lease.Locker) {
			release := acquire(t, l, "earlier-run")
			if err := release.Release(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, ns := setup(t)
			l := newLocker(t, client, ns)
			tc.prepare(t, l)

			owners := []string{"run-a", "run-b", "run-c", "run-d", "run-e"}
			errs := make([]error, len(owners))
			var start, done sync.WaitGroup
			start.Add(1)
			for i, owner := range owners {
				done.Go(func() {
					start.Wait()
					release, err := l.Acquire(t.Context(), owner, 0)
					errs[i] = err
					if err == nil {
						t.Cleanup(func() { _ = release.Release(context.Background()) })
					}
				})
			}
			start.Done()
			done.Wait()

			var winners []string
			for i, err := range errs {
				var held *lock.HeldError
				switch {
				case err == nil:
					winners = append(winners, owners[i])
				case !errors.As(err, &held):
					t.Errorf("Acquire(%q) = %v, want nil or a *lock.HeldError", owners[i], err)
				}
			}
			if len(winners) != 1 {
				t.Fatalf("winners = %q, want exactly one", winners)
			}
			if diff := cmp.Diff(winners[0], holderOf(getLease(t, client, ns))); diff != "" {
				t.Errorf("holder differs from the winner (-winner +holder):\n%s", diff)
			}
		})
	}
}
