package lease_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/lease"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// faultyClient is a coordination client whose writes of the Lease go
// through fault: it gets the request and the real transport.
func faultyClient(t *testing.T, fault func(req *http.Request, rt http.RoundTripper) (*http.Response, error)) (coordinationclient.CoordinationV1Interface, coordinationclient.CoordinationV1Interface, string) {
	t.Helper()
	cfg := kubetest.Config(t)
	clean, err := coordinationclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := kubetest.Namespace(t, cfg)
	rc := rest.CopyConfig(cfg)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodGet || !strings.Contains(req.URL.Path, "/leases") {
				return rt.RoundTrip(req)
			}
			return fault(req, rt)
		})
	})
	faulty, err := coordinationclient.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return faulty, clean, ns
}

// TestLostWriteAnswerIsReadBack: the API server applies the write that
// takes the Lease, and the answer is lost (the connection resets). Acquire
// must read the Lease back and find it holds it, instead of failing while
// the Lease stays taken, by nobody who will release it, until it lapses.
func TestLostWriteAnswerIsReadBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		method  string
		prepare func(t *testing.T, client coordinationclient.LeasesGetter, ns string)
	}{
		{name: "create", method: http.MethodPost, prepare: func(*testing.T, coordinationclient.LeasesGetter, string) {}},
		{name: "take over a released Lease", method: http.MethodPut, prepare: func(t *testing.T, client coordinationclient.LeasesGetter, ns string) {
			held := acquire(t, newLocker(t, client, ns), "earlier-run")
			if err := held.Release(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lost atomic.Int32
			faulty, clean, ns := faultyClient(t, func(req *http.Request, rt http.RoundTripper) (*http.Response, error) {
				resp, err := rt.RoundTrip(req)
				if err != nil || req.Method != tc.method || lost.Add(1) > 1 {
					return resp, err
				}
				_ = resp.Body.Close()
				return nil, syscall.ECONNRESET
			})
			tc.prepare(t, clean, ns)
			l := newLocker(t, faulty, ns)
			held, err := l.Acquire(t.Context(), "run-1", 0)
			if lost.Load() == 0 {
				t.Fatal("no write of the Lease lost its answer; the test proves nothing")
			}
			if err != nil {
				t.Fatalf("Acquire after a lost answer = %v, want the Lease held (it was written)", err)
			}
			if got, want := holderOf(getLease(t, clean, ns)), "run-1"; got != want {
				t.Errorf("holder = %q, want %q", got, want)
			}
			if err := held.Confirm(t.Context()); err != nil {
				t.Errorf("Confirm: %v", err)
			}
			if err := held.Release(t.Context()); err != nil {
				t.Errorf("release: %v", err)
			}
			if got := holderOf(getLease(t, clean, ns)); got != "" {
				t.Errorf("holder after release = %q, want none", got)
			}
		})
	}
}

// takeOver writes the Lease as a run that took it over would: another
// holder, a fresh renew time.
func takeOver(t *testing.T, client coordinationclient.LeasesGetter, ns, holder string) {
	t.Helper()
	// The holder's renewals may come between our read and our write; on a
	// loaded machine that window is wide, so try often, at random moments.
	patient := wait.Backoff{Steps: 50, Duration: 3 * time.Millisecond, Factor: 1.1, Jitter: 1}
	err := retry.RetryOnConflict(patient, func() error {
		le := getLease(t, client, ns)
		now := metav1.NewMicroTime(time.Now())
		le.Spec.HolderIdentity, le.Spec.AcquireTime, le.Spec.RenewTime = &holder, &now, &now
		_, err := client.Leases(ns).Update(t.Context(), le, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTakeoverLosesLock: another holder in the Lease is a lost lock, seen
// by Confirm at once and by the next renewal: Lost closes, Err names the
// new holder, and release leaves the Lease to it.
func TestTakeoverLosesLock(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		renew time.Duration
		// confirm: the loss is found by Confirm, not by a renewal.
		confirm bool
	}{
		{name: "found by Confirm", renew: 29 * time.Second, confirm: true},
		{name: "found by renewal", renew: 200 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, ns := setup(t)
			held := acquire(t, newLocker(t, client, ns, lease.WithRenew(tc.renew)), "run-1")
			if err := held.Confirm(t.Context()); err != nil {
				t.Fatalf("Confirm while held: %v", err)
			}
			takeOver(t, client, ns, "run-2")
			if tc.confirm {
				if err := held.Confirm(t.Context()); !errors.Is(err, lock.ErrLost) {
					t.Errorf("Confirm after the takeover = %v, want lock.ErrLost", err)
				}
			}
			select {
			case <-held.Lost():
			case <-t.Context().Done():
				t.Fatal("the lock was never reported lost")
			}
			var lost *lock.LostError
			if err := held.Err(); !errors.As(err, &lost) || lost.Holder != "run-2" {
				t.Errorf("Err() = %v, want a *lock.LostError naming run-2", err)
			}
			if err := held.Release(t.Context()); !errors.Is(err, lock.ErrLost) {
				t.Errorf("release = %v, want lock.ErrLost", err)
			}
			if got, want := holderOf(getLease(t, client, ns)), "run-2"; got != want {
				t.Errorf("holder after run-1's release = %q, want %q", got, want)
			}
		})
	}
}

// TestRenewalFailingForTheLeaseLosesLock: renewals that fail keep the lock,
// each with a warning, until a lease duration has passed since the last
// one that landed; then the lock is lost, since another run may take it
// over from then on.
func TestRenewalFailingForTheLeaseLosesLock(t *testing.T) {
	t.Parallel()
	var broken atomic.Bool
	var failed atomic.Int32
	faulty, _, ns := faultyClient(t, func(req *http.Request, rt http.RoundTripper) (*http.Response, error) {
		if broken.Load() {
			failed.Add(1)
			return nil, syscall.ECONNRESET
		}
		return rt.RoundTrip(req)
	})
	c := clock.NewFake(time.Now())
	// Every reading a microsecond on, as a real clock moves: a renew time
	// written again unchanged would pass for a write that landed.
	var ticks atomic.Int64
	now := func() time.Time { return c.Now().Add(time.Duration(ticks.Add(1)) * time.Microsecond) }
	var warnings atomic.Int32
	warn := lease.WithWarning(func(msg string) {
		if strings.Contains(msg, "renewal failed") {
			warnings.Add(1)
		}
	})
	held := acquire(t, newLocker(t, faulty, ns, lease.WithClock(now), lease.WithRenew(10*time.Millisecond), warn), "run-1")
	broken.Store(true)
	deadline := time.Now().Add(10 * time.Second) // a hang guard
	for (failed.Load() < 2 || warnings.Load() < 2) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if warnings.Load() < 2 {
		t.Errorf("%d warnings after %d failed renewals, want one for each", warnings.Load(), failed.Load())
	}
	if err := held.Err(); err != nil {
		t.Fatalf("lost before the lease passed: %v", err)
	}
	c.Advance(lease.DefaultDuration)
	select {
	case <-held.Lost():
	case <-t.Context().Done():
		t.Fatal("the lock was never reported lost")
	}
	if err := held.Err(); !errors.Is(err, lock.ErrLost) || !strings.Contains(err.Error(), "not renewed") {
		t.Errorf("Err() = %v, want a loss saying renewal failed", err)
	}
}
