package elb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

const (
	// attempts bounds the calls of a write that must not be left undone
	// (a listener create after its delete, a health check put back) when
	// AWS throttles it beyond the SDK's own retries.
	attempts = 5
	// restoreTimeout bounds the work that puts the load balancer back into
	// a whole state after ctx has ended.
	restoreTimeout = time.Minute
)

// Set implements router.Router: all traffic goes to the color w sends it
// to, health check first, then listeners (see the package comment). It
// writes nothing when the listeners and the health check are there
// already. Splits are not possible on a classic load balancer.
func (r *Router) Set(ctx context.Context, w router.Weights) error {
	name := r.cfg.LoadBalancerName
	if w.Split() {
		return fmt.Errorf("load balancer %q: %w (asked for %s)", name, router.ErrSplitUnsupported, w)
	}
	to := w.Live()
	if to == color.None {
		return fmt.Errorf("load balancer %q: asked to send traffic nowhere (%s); its listeners always forward to one color", name, w)
	}

	// Everything is checked before the first write.
	s, err := r.describe(ctx)
	if err != nil {
		return err
	}
	if _, err := r.listenerColors(s); err != nil {
		return err
	}
	port := s.ports[to]
	hc, err := parseTarget(aws.ToString(s.hc.Target))
	if err != nil {
		return fmt.Errorf("load balancer %q: %w", name, err)
	}
	if s.colorOf(hc.port) == color.None {
		// Moving a health check that probes something else (a sidecar, a
		// node health port) would change what the user chose it to judge.
		return fmt.Errorf("load balancer %q: health check %q probes port %d, which is neither blue (%d) nor green (%d); point it at the live color's port so that it moves with the traffic",
			name, hc, hc.port, s.ports[color.Blue], s.ports[color.Green])
	}
	pending := 0
	for _, ld := range s.listeners {
		if aws.ToInt32(ld.Listener.InstancePort) != port {
			pending++
		}
	}
	if pending == 0 && hc.port == port {
		return nil
	}
	if s.instances == 0 {
		return fmt.Errorf("load balancer %q has no registered instances: nothing can prove %s healthy", name, to)
	}
	var settle time.Duration
	if hc.port != port {
		settle = settleTime(s.hc)
		if settle >= r.timeout {
			return fmt.Errorf("load balancer %q: its health check needs %s to judge a port (UnhealthyThreshold %d x Interval %ds + Timeout %ds), longer than the wait timeout %s; raise the timeout or lower the thresholds",
				name, settle, aws.ToInt32(s.hc.UnhealthyThreshold), aws.ToInt32(s.hc.Interval), aws.ToInt32(s.hc.Timeout), r.timeout)
		}
	}

	restore, err := r.gate(ctx, s, to, settle)
	if err != nil {
		return err
	}

	// The gate took a while: read again right before the listener writes,
	// so that a change made meanwhile is not overwritten.
	now, err := r.describe(ctx)
	if err == nil && !sameListeners(s.listeners, now.listeners) {
		err = fmt.Errorf("load balancer %q: its listeners changed during the switch: %w", name, router.ErrConflict)
	}
	if err != nil {
		return errors.Join(err, restore())
	}

	var moved []types.ListenerDescription
	for _, ld := range now.listeners {
		if aws.ToInt32(ld.Listener.InstancePort) == port {
			continue
		}
		var changed bool
		if err = ctx.Err(); err != nil {
			err = fmt.Errorf("load balancer %q: switch stopped before listener %d: %w", name, ld.Listener.LoadBalancerPort, context.Cause(ctx))
		} else {
			changed, err = r.replace(ctx, ld, port)
		}
		if changed {
			moved = append(moved, ld)
		}
		if err != nil {
			return r.undo(ctx, err, moved, port, restore)
		}
	}
	return nil
}

// undo puts the listeners moved to port and the health check back after
// err, and says so.
func (r *Router) undo(ctx context.Context, err error, moved []types.ListenerDescription, port int32, restore func() error) error {
	if uerr := errors.Join(r.rollback(ctx, moved, port), restore()); uerr != nil {
		return errors.Join(err, uerr)
	}
	if len(moved) == 0 {
		return fmt.Errorf("%w; the health check is as it was before the switch", err)
	}
	return fmt.Errorf("%w; the listeners moved before it and the health check are as they were before the switch", err)
}

// settleTime is how long the load balancer needs, after its health check
// moved, before an instance that fails the new check is out of service.
// Until then, InService says nothing about the new port.
func settleTime(hc types.HealthCheck) time.Duration {
	return time.Duration(aws.ToInt32(hc.UnhealthyThreshold)*aws.ToInt32(hc.Interval)+aws.ToInt32(hc.Timeout)) * time.Second
}

// gate points the health check at color c's port, unless it probes it
// already, and waits until every instance is InService under it for at
// least settle. It returns the function that puts the old health check
// back; on failure it has put it back itself.
func (r *Router) gate(ctx context.Context, s *lbState, c color.Color, settle time.Duration) (func() error, error) {
	name, port := r.cfg.LoadBalancerName, s.ports[c]
	restore := func() error { return nil }
	var before []types.InstanceState
	err := r.persist(ctx, func(ctx context.Context) (err error) {
		before, err = r.instanceHealth(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	old := s.hc
	t, _ := parseTarget(aws.ToString(old.Target))
	moved := t.port != port
	if moved {
		t.port = port
		hc := old
		hc.Target = aws.String(t.String())
		if err := r.configure(ctx, hc); err != nil {
			return nil, fmt.Errorf("pointing the health check of load balancer %q at %s's port: %w", name, c, err)
		}
		restore = func() error {
			bg, cancel := detached(ctx)
			defer cancel()
			if err := r.configure(bg, old); err != nil {
				return fmt.Errorf("putting the health check of load balancer %q back to %q: %w", name, aws.ToString(old.Target), err)
			}
			return nil
		}
	}
	if err := r.waitInService(ctx, c, port, settle, before); err != nil {
		if !moved {
			return nil, err
		}
		if rerr := restore(); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, fmt.Errorf("%w; the health check is back on %q and no listener was moved", err, aws.ToString(old.Target))
	}
	return restore, nil
}

func (r *Router) configure(ctx context.Context, hc types.HealthCheck) error {
	return r.persist(ctx, func(ctx context.Context) error {
		_, err := r.cfg.API.ConfigureHealthCheck(ctx, &elasticloadbalancing.ConfigureHealthCheckInput{LoadBalancerName: aws.String(r.cfg.LoadBalancerName), HealthCheck: &hc})
		return err
	})
}

// waitInService polls instance health until every registered instance is
// InService and settle has passed. An instance that was InService before
// and drops out ends the wait at once: the load balancer has stopped
// sending it live traffic, so every second counts.
func (r *Router) waitInService(ctx context.Context, c color.Color, port int32, settle time.Duration, before []types.InstanceState) error {
	name := r.cfg.LoadBalancerName
	wasIn := map[string]bool{}
	for _, st := range before {
		wasIn[aws.ToString(st.InstanceId)] = aws.ToString(st.State) == "InService"
	}
	start := r.now()
	deadline := start.Add(r.timeout)
	var last []types.InstanceState
	var throttled error
	for {
		states, err := r.instanceHealth(ctx)
		switch {
		case err != nil && !awsapi.IsThrottle(err):
			return err
		case err != nil:
			throttled = err
		default:
			last, throttled = states, nil
			down := outOfService(states)
			var dropped []types.InstanceState
			for _, st := range down {
				if wasIn[aws.ToString(st.InstanceId)] {
					dropped = append(dropped, st)
				}
			}
			if len(dropped) > 0 {
				return fmt.Errorf("load balancer %q: the health check on %s's port %d took %d instances out of service, and the live traffic with them: %s",
					name, c, port, len(dropped), describeStates(dropped))
			}
			if len(states) == 0 {
				return fmt.Errorf("load balancer %q has no registered instances: nothing can prove %s healthy", name, c)
			}
			if len(down) == 0 && r.now().Sub(start) >= settle {
				return nil
			}
		}
		if !r.now().Before(deadline) {
			if throttled != nil {
				return fmt.Errorf("load balancer %q: %s's instances not known to be InService on port %d after %s: %w", name, c, port, r.timeout, throttled)
			}
			return fmt.Errorf("load balancer %q: %s's instances not all InService on port %d after %s: %s", name, c, port, r.timeout, describeStates(outOfService(last)))
		}
		if err := r.pause(ctx, deadline); err != nil {
			return fmt.Errorf("load balancer %q: waiting for %s's instances to be InService on port %d: %w", name, c, port, err)
		}
	}
}

// replace points the listener ld at instance port. A classic load
// balancer cannot change a listener's instance port in place (creating a
// listener on a taken port with other settings fails with
// DuplicateListener), so the listener is deleted and created again. In
// between, the port has no listener and new connections to it are
// refused: the length of one API call, typically well under a second.
// Ports move one at a time so that the others keep serving meanwhile.
// Once the listener is deleted, ctx no longer stops the work: a cancelled
// job must not leave a port without a listener.
//
// changed reports whether the port now forwards to the new instance port.
func (r *Router) replace(ctx context.Context, ld types.ListenerDescription, port int32) (changed bool, err error) {
	name, old := r.cfg.LoadBalancerName, *ld.Listener
	next := old
	next.InstancePort = aws.Int32(port)
	_, err = r.cfg.API.DeleteLoadBalancerListeners(ctx, &elasticloadbalancing.DeleteLoadBalancerListenersInput{
		LoadBalancerName: aws.String(name), LoadBalancerPorts: []int32{old.LoadBalancerPort},
	})
	if err != nil {
		return false, fmt.Errorf("deleting listener %d of load balancer %q: %w", old.LoadBalancerPort, name, err)
	}
	bg, cancel := detached(ctx)
	defer cancel()
	created, err := r.create(bg, next, ld.PolicyNames)
	if err == nil || created {
		return created, err
	}
	if _, rerr := r.create(bg, old, ld.PolicyNames); rerr != nil {
		return false, fmt.Errorf("load balancer %q has NO listener on port %d: %w; putting back the one to instance port %d: %w",
			name, old.LoadBalancerPort, err, aws.ToInt32(old.InstancePort), rerr)
	}
	return false, fmt.Errorf("%w (the listener to instance port %d was put back)", err, aws.ToInt32(old.InstancePort))
}

// create creates listener l with policies. created reports whether the
// listener exists, even when its policies could not be set.
func (r *Router) create(ctx context.Context, l types.Listener, policies []string) (created bool, err error) {
	name := r.cfg.LoadBalancerName
	err = r.persist(ctx, func(ctx context.Context) error {
		_, err := r.cfg.API.CreateLoadBalancerListeners(ctx, &elasticloadbalancing.CreateLoadBalancerListenersInput{
			LoadBalancerName: aws.String(name), Listeners: []types.Listener{l},
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("creating listener %d -> instance port %d on load balancer %q: %w", l.LoadBalancerPort, aws.ToInt32(l.InstancePort), name, err)
	}
	if len(policies) == 0 {
		return true, nil
	}
	err = r.persist(ctx, func(ctx context.Context) error {
		_, err := r.cfg.API.SetLoadBalancerPoliciesOfListener(ctx, &elasticloadbalancing.SetLoadBalancerPoliciesOfListenerInput{
			LoadBalancerName: aws.String(name), LoadBalancerPort: l.LoadBalancerPort, PolicyNames: policies,
		})
		return err
	})
	if err != nil {
		return true, fmt.Errorf("setting policies %q of listener %d on load balancer %q (it serves with the load balancer's defaults): %w", policies, l.LoadBalancerPort, name, err)
	}
	return true, nil
}

// rollback points the listeners moved to port back where they were, last
// first.
func (r *Router) rollback(ctx context.Context, moved []types.ListenerDescription, port int32) error {
	bg, cancel := detached(ctx)
	defer cancel()
	var errs []error
	for i := len(moved) - 1; i >= 0; i-- {
		ld := moved[i]
		l := *ld.Listener
		l.InstancePort = aws.Int32(port)
		back := aws.ToInt32(ld.Listener.InstancePort)
		if _, err := r.replace(bg, types.ListenerDescription{Listener: &l, PolicyNames: ld.PolicyNames}, back); err != nil {
			errs = append(errs, fmt.Errorf("putting listener %d back to instance port %d: %w", l.LoadBalancerPort, back, err))
		}
	}
	return errors.Join(errs...)
}

// persist calls call until it succeeds, fails other than by throttling,
// or has been throttled attempts times.
func (r *Router) persist(ctx context.Context, call func(context.Context) error) error {
	var err error
	for range attempts {
		if err = call(ctx); err == nil || !awsapi.IsThrottle(err) {
			return err
		}
		if serr := r.sleep(ctx, r.poll); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return err
}

// detached returns a context that ctx's cancellation does not end, for
// work that puts the load balancer back into a whole state.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
}

// sameListeners reports whether a and b are the same listeners with the
// same settings.
func sameListeners(a, b []types.ListenerDescription) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i].Listener, b[i].Listener
		if x.LoadBalancerPort != y.LoadBalancerPort || aws.ToInt32(x.InstancePort) != aws.ToInt32(y.InstancePort) ||
			aws.ToString(x.Protocol) != aws.ToString(y.Protocol) || aws.ToString(x.InstanceProtocol) != aws.ToString(y.InstanceProtocol) ||
			aws.ToString(x.SSLCertificateId) != aws.ToString(y.SSLCertificateId) {
			return false
		}
	}
	return true
}
