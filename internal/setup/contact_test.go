package setup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestFirstContactRetries: passing faults are retried until the backoff
// runs out; definite answers and timeouts are not.
func TestFirstContactRetries(t *testing.T) {
	t.Parallel()
	ns := schema.GroupResource{Resource: "namespaces"}
	backoff := []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	cases := []struct {
		name  string
		err   error
		calls int
	}{
		{"503", apierrors.NewServiceUnavailable("restarting"), 4},
		{"500", apierrors.NewInternalError(errors.New("etcd")), 4},
		{"429", apierrors.NewTooManyRequests("slow down", 1), 4},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, 4},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), 4},
		{"401", apierrors.NewUnauthorized("expired"), 1},
		{"403", apierrors.NewForbidden(ns, "shop", errors.New("no")), 1},
		{"404", apierrors.NewNotFound(ns, "shop"), 1},
		{"timeout", fmt.Errorf("no answer: %w", context.DeadlineExceeded), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			err := firstContact(t.Context(), "api.test:443", 0, backoff, func(context.Context) error { calls++; return tc.err })
			if !errors.Is(err, tc.err) {
				t.Errorf("error = %v, want %v", err, tc.err)
			}
			if calls != tc.calls {
				t.Errorf("%d calls, want %d", calls, tc.calls)
			}
		})
	}
	t.Run("passes on a retry", func(t *testing.T) {
		t.Parallel()
		calls := 0
		err := firstContact(t.Context(), "api.test:443", 0, backoff, func(context.Context) error {
			if calls++; calls < 3 {
				return apierrors.NewServiceUnavailable("restarting")
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Errorf("error = %v after %d calls, want nil after 3", err, calls)
		}
	})
}

// TestFirstContactBoundsAnAttempt: an attempt that outlasts the timeout
// ends with an error that names request-timeout, and is not retried.
func TestFirstContactBoundsAnAttempt(t *testing.T) {
	t.Parallel()
	calls := 0
	err := firstContact(t.Context(), "api.test:443", time.Millisecond, []time.Duration{time.Millisecond}, func(ctx context.Context) error {
		calls++
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
		t.Errorf("error = %v after %d calls, want DeadlineExceeded after 1", err, calls)
	}
	if err != nil && !strings.Contains(err.Error(), "no answer from api.test:443 within 1ms (request-timeout)") {
		t.Errorf("error = %v, want it to name the server and request-timeout", err)
	}
}
