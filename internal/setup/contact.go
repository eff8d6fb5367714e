package setup

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

// firstContactBackoff is the pause before each retry of the first call to
// a cluster: a few passing faults (an API server restarting, a load
// balancer resetting a connection, a 503 or 429) should not fail a run
// that would work a second later.
var firstContactBackoff = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}

// firstContact makes call, the first request to a cluster, and retries it
// after the pauses of backoff while it fails for a passing
// reason. A request that timed out is not retried: request-timeout was
// the patience asked for, and a server that never answers should end the
// run within it, not within a multiple of it. Each attempt, client-go's
// own retries of a reset connection included, is bounded by timeout (none
// when zero). server (host:port) names who did not answer: this bound and
// the transport's own per-request one end at the same moment, and either
// may be the one that says so.
func firstContact(ctx context.Context, server string, timeout time.Duration, backoff []time.Duration, call func(context.Context) error) error {
	attemptOnce := func() error {
		if timeout <= 0 {
			return call(ctx)
		}
		actx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no answer from %s within %s (request-timeout): %w", server, timeout, context.DeadlineExceeded))
		defer cancel()
		err := call(actx)
		if err != nil && ctx.Err() == nil && actx.Err() != nil {
			err = fmt.Errorf("%w: %w", context.Cause(actx), err)
		}
		return err
	}
	var err error
	for attempt := 0; ; attempt++ {
		if err = attemptOnce(); err == nil || !retryable(err) || attempt == len(backoff) {
			return err
		}
		t := time.NewTimer(backoff[attempt])
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// retryable: a passing fault worth another try at first contact.
func retryable(err error) bool {
	if timedOut(err) {
		return false
	}
	return transient(err) || errors.Is(err, syscall.ECONNREFUSED)
}

// timedOut reports whether err is a request that got no answer in time.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// transient reports whether err is a passing fault of the API server or
// the connection (5xx, 429, a timeout, a reset) rather than a kubeconfig
// that cannot work (unknown host, wrong CA, refused credentials).
func transient(err error) bool {
	if apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code >= 500 {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || timedOut(err)
}

// definite reports whether err is an answer about the kubeconfig itself
// that no retry will change: a host name that does not exist, or a
// certificate that the kubeconfig's CA does not vouch for.
func definite(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return true
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// contactError says what a failed first contact means for the run: a bad
// input (exit 2) only for a definite answer, a failed run (exit 1, worth
// a retry by the CI) for anything else, and a cancelled run when ctx
// ended.
func contactError(ctx context.Context, host, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s at %s: cancelled: %w", what, host, context.Cause(ctx))
	}
	return fmt.Errorf("%s at %s (input \"kubeconfig\"): %w", what, host, err)
}

// readError classifies a failed read of what input names (a route, an
// Ingress) after first contact: a passing fault or a cancel is a failed
// run, anything else (missing, not of the shape the router needs) the
// input's fault.
func readError(ctx context.Context, input string, err error) error {
	if ctx.Err() != nil || transient(err) {
		return fmt.Errorf("reading %s: %w", input, err)
	}
	return config.Errorf(input, "%v", err)
}
