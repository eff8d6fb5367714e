package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/faults"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/lease"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
)

// lockName is the Lease of app shop's deploy lock.
const lockName = "shop-bluegreen-lock"

// liveSnap is what the test's own client, which never meets a fault, sees
// of one namespace: the production Service, both colors' Deployments and
// the deploy lock.
type liveSnap struct {
	at       time.Time
	svc      bool   // the Service exists
	selector string // the color it selects
	svcRV    string
	colors   map[string]colorSnap
	holder   string
	renewed  time.Time
	expires  time.Time
}

type colorSnap struct {
	exists                             bool
	image                              string // as bluegreen recorded it
	generation, observed               int64
	desired, ready, updated, available int32
}

// fullyReady: the controller has seen the latest spec and every desired
// replica is updated, ready and available.
func (c colorSnap) fullyReady() bool {
	return c.exists && c.observed >= c.generation && c.desired > 0 &&
		c.ready == c.desired && c.updated == c.desired && c.available == c.desired
}

func (c colorSnap) String() string {
	if !c.exists {
		return "absent"
	}
	return fmt.Sprintf("%s gen %d/%d, %d desired, %d ready, %d updated, %d available",
		c.image, c.observed, c.generation, c.desired, c.ready, c.updated, c.available)
}

func (s liveSnap) String() string {
	svc := "no Service"
	if s.svc {
		svc = fmt.Sprintf("Service selects %s@%s", s.selector, s.svcRV)
	}
	lock := "lock free"
	switch {
	case s.locked():
		lock = fmt.Sprintf("lock held by %q until %s", s.holder, s.expires.Format("15:04:05.000"))
	case s.holder != "":
		lock = fmt.Sprintf("lock lapsed (last held by %q)", s.holder)
	}
	return fmt.Sprintf("%s; blue: %s; green: %s; %s", svc, s.colors["blue"], s.colors["green"], lock)
}

// cleanView reads a namespace without faults.
type cleanView struct {
	g     *ground
	apps  appsclient.AppsV1Interface
	coord coordinationclient.CoordinationV1Interface
}

func newCleanView(t *testing.T, g *ground) *cleanView {
	t.Helper()
	apps, err := appsclient.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}
	coord, err := coordinationclient.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}
	return &cleanView{g: g, apps: apps, coord: coord}
}

// snap reads the namespace. It may be called from any goroutine.
func (v *cleanView) snap(ctx context.Context) (liveSnap, error) {
	s := liveSnap{at: time.Now(), colors: map[string]colorSnap{}}
	svc, err := v.g.core.Services(v.g.ns).Get(ctx, "shop", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return s, fmt.Errorf("reading Service shop: %w", err)
	default:
		s.svc, s.selector, s.svcRV = true, svc.Spec.Selector[kube.ColorLabel], svc.ResourceVersion
	}
	for _, c := range []string{"blue", "green"} {
		d, err := v.apps.Deployments(v.g.ns).Get(ctx, "shop-"+c, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return s, fmt.Errorf("reading Deployment shop-%s: %w", c, err)
		}
		cs := colorSnap{
			exists: true, image: d.Annotations[kube.ImageAnnotation],
			generation: d.Generation, observed: d.Status.ObservedGeneration, desired: 1,
			ready: d.Status.ReadyReplicas, updated: d.Status.UpdatedReplicas, available: d.Status.AvailableReplicas,
		}
		if d.Spec.Replicas != nil {
			cs.desired = *d.Spec.Replicas
		}
		s.colors[c] = cs
	}
	l, err := v.coord.Leases(v.g.ns).Get(ctx, lockName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return s, fmt.Errorf("reading Lease %s: %w", lockName, err)
	default:
		if l.Spec.HolderIdentity != nil {
			s.holder = *l.Spec.HolderIdentity
		}
		if l.Spec.RenewTime != nil && l.Spec.LeaseDurationSeconds != nil {
			s.renewed = l.Spec.RenewTime.Time
			s.expires = s.renewed.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)
		}
	}
	return s, nil
}

// locked reports whether the lock was held, unexpired, when s was read.
// A lapsed Lease still names its last holder.
func (s liveSnap) locked() bool { return s.holder != "" && s.expires.After(s.at) }

// faultyExec is one run of a bluegreen command built as main builds it
// (config.Load, Validate, setup.Kubernetes, deploy.New) but talking to the
// cluster through rc, which may be a fault proxy's, with a deploy lock of
// duration leaseFor so that a lock left behind lapses quickly.
func faultyExec(ctx context.Context, ns string, rc *rest.Config, owner string, leaseFor time.Duration, inputs map[string]string, tweak func(*deploy.Options)) run {
	log := &syncBuffer{}
	env := map[string]string{
		"BLUEGREEN_APP":          "shop",
		"BLUEGREEN_NAMESPACE":    ns,
		"BLUEGREEN_WAIT_TIMEOUT": "60s",
	}
	for k, v := range inputs {
		env["BLUEGREEN_"+k] = v
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(ctx, config.Lookuper(getenv))
	if err != nil {
		return run{err: err, log: log}
	}
	if err := cfg.Validate(); err != nil {
		return run{err: err, log: log}
	}
	opts := setup.Options(cfg, getenv)
	opts.Owner = owner
	opts.Grace = 10 * time.Second
	if tweak != nil {
		tweak(&opts)
	}
	deps := deploy.Deps{Reporter: plain.New(log, plain.WithProgressInterval(0)), Checker: setup.Checker()}
	if err := setup.Kubernetes(ctx, cfg, rc, &deps); err != nil {
		return run{err: err, log: log}
	}
	if deps.Locker != nil && leaseFor > 0 {
		coord, err := coordinationclient.NewForConfig(rc)
		if err != nil {
			return run{err: err, log: log}
		}
		l, err := lease.New(lease.Config{Client: coord, Namespace: ns, Name: lockName},
			lease.WithDuration(leaseFor), lease.WithRenew(leaseFor/4), lease.WithPoll(50*time.Millisecond), lease.WithWarning(log.warn))
		if err != nil {
			return run{err: err, log: log}
		}
		deps.Locker = l
	}
	res, err := deploy.New(cfg.Command, opts, deps).Execute(ctx)
	return run{res: res, err: err, log: log}
}

// expectation is what one run was asked to do.
type expectation struct {
	command  string
	image    string // deploy: the image asked for
	leaseFor time.Duration
	owner    string
}

// lostWrite reports whether injected holds a lost response to a write of
// the production Service (its update, or its creation on a first deploy):
// the write happened, the run could not know.
func lostWrite(injected []faults.Event) bool {
	for _, e := range injected {
		if e.Kind != faults.LostResponse {
			continue
		}
		if (e.Method == "PUT" && strings.HasSuffix(e.Path, "/services/shop")) || (e.Method == "POST" && strings.HasSuffix(e.Path, "/services")) {
			return true
		}
	}
	return false
}

// kubeInvariants checks one run against the namespace before and after
// it. It returns every broken invariant, and notes on what it saw.
func kubeInvariants(x expectation, before, after liveSnap, r run, injected []faults.Event) (bad, notes []string) {
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }

	// Traffic only ever reaches a fully ready color.
	if after.svc {
		if c := after.colors[after.selector]; !c.fullyReady() {
			fail("Service shop selects %q, which is not fully ready: %s", after.selector, c)
		}
	}
	unchanged := func(why string) {
		if after.svc != before.svc || after.selector != before.selector || after.svcRV != before.svcRV {
			fail("%s, but the Service changed: before %q@%s (exists %v), after %q@%s (exists %v)",
				why, before.selector, before.svcRV, before.svc, after.selector, after.svcRV, after.svc)
		}
	}

	sw := stepStatus(r.res, "switch traffic")
	switch {
	case len(r.res.Steps) == 0:
		unchanged("the run failed before its first step (" + errText(r.err) + ")")
	case r.err == nil && r.res.Outcome != report.Success:
		fail("no error but outcome %q", r.res.Outcome)
	case r.err == nil && r.res.Changed:
		// A switch: the Service selects the other color, which runs the
		// release asked for.
		if !after.svc {
			fail("reported success but there is no Service")
			break
		}
		if before.svc && after.selector == before.selector {
			fail("reported a change but the Service still selects %q", after.selector)
		}
		want := x.image
		if x.command == "rollback" {
			want = before.colors[after.selector].image
			if r.res.Image != want {
				fail("rollback reports image %q, but %s ran %q", r.res.Image, after.selector, want)
			}
		}
		if got := after.colors[after.selector].image; got != want {
			fail("reported success but the live color %s runs %q, not %q", after.selector, got, want)
		}
	case r.err == nil:
		// A no-op: the live color already served the release.
		unchanged("reported success without a change")
		if x.command == "deploy" && before.colors[before.selector].image != x.image {
			fail("reported an up-to-date deploy of %q but %s ran %q", x.image, before.selector, before.colors[before.selector].image)
		}
	case sw == "reverted" && !before.svc:
		// A first deploy has no route to put back: the new one stays,
		// pointing at the only color (checked ready above).
		if r.res.Outcome != report.Failed {
			fail("a first deploy failed after its switch but the outcome is %q", r.res.Outcome)
		}
	case sw == "reverted":
		if after.svc != before.svc || after.selector != before.selector {
			fail("the switch was reverted, but the Service selects %q (exists %v), not %q as before", after.selector, after.svc, before.selector)
		}
		if r.res.Outcome != report.RolledBack {
			fail("the switch was reverted but the outcome is %q", r.res.Outcome)
		}
	case sw == "revert failed":
		// Traffic stayed on the new color, or went back and the answer to
		// the revert's write was lost; either color is ready (checked
		// above) and the report must say which one serves (checked below).
		notes = append(notes, "revert failed")
		revertFailed(fail, r)
	case sw == "ok":
		// The run committed, then failed: traffic stays on the new color.
		if !after.svc || (before.svc && after.selector == before.selector) {
			fail("the run failed after committing its switch, but the Service did not move (%q)", after.selector)
		}
	case sw == "failed":
		// A failed switch puts traffic back itself: its write may have
		// landed although its answer was lost.
		written := after.svc != before.svc || after.svcRV != before.svcRV
		switch {
		case strings.Contains(errText(r.err), "putting traffic back"):
			notes = append(notes, "switch and its own revert failed")
		case !before.svc:
			// A first deploy has no route to put back; a Service its
			// write created stays, selecting the only color.
			if written {
				notes = append(notes, "first deploy's switch failed after creating the Service")
			}
		case after.selector != before.selector:
			fail("the switch failed, but the Service selects %q, not %q as before", after.selector, before.selector)
		}
		switch {
		case r.res.Outcome == report.RevertFailed:
			revertFailed(fail, r)
		case r.res.Outcome != report.Failed && r.res.Outcome != report.RolledBack:
			fail("the switch failed but the outcome is %q", r.res.Outcome)
		case r.res.Outcome == report.RolledBack && !written:
			notes = append(notes, "reported rolled-back, but the Service was never written")
		case r.res.Outcome == report.Failed && written && before.svc && lostWrite(injected):
			notes = append(notes, "reported failed, but traffic moved and was put back")
		}
	default:
		unchanged(fmt.Sprintf("the run failed with the switch %s", sw))
		if r.res.Outcome != report.Failed {
			fail("failed before the switch but the outcome is %q", r.res.Outcome)
		}
	}

	// The report says where traffic is, when it could read it.
	if a := r.res.ActiveColor; len(r.res.Steps) > 0 && a != "unknown" && after.svc && a != after.selector {
		fail("the report says %s is live, the Service selects %s", a, after.selector)
	}

	// The lock is free, or left by this run and lapsing within its
	// duration (no one renews it).
	if after.locked() {
		switch {
		case after.holder != x.owner:
			fail("the lock is held by %q after the run of %q", after.holder, x.owner)
		case after.expires.After(after.at.Add(x.leaseFor + time.Second)):
			fail("the lock left by %q expires at %s, more than %s after the run", x.owner, after.expires, x.leaseFor)
		case stepStatus(r.res, "lock") == "ok" && !strings.Contains(r.log.String(), "releasing the deploy lock"):
			fail("the lock is still held after the run, and the log does not warn of it")
		}
	}
	// Every fault injected is a passing one: none may be reported as a
	// bad input.
	if config.IsInputError(r.err) && len(injected) > 0 {
		fail("%d injected faults were reported as a bad input: %v", len(injected), r.err)
	}
	return bad, notes
}

// revertFailed checks a run whose revert gave up: it is revert-failed and
// says how to fix it, or it lost its lock and wrote nothing more, and says
// so.
func revertFailed(fail func(string, ...any), r run) {
	text := errText(r.err)
	switch {
	case errors.Is(r.err, lock.ErrLost):
		if r.res.Outcome != report.Failed {
			fail("the run lost its lock but the outcome is %q", r.res.Outcome)
		}
	case r.res.Outcome != report.RevertFailed:
		fail("a revert gave up but the outcome is %q, not %q", r.res.Outcome, report.RevertFailed)
	case !strings.Contains(text, "command: rollback") || !strings.Contains(text, "% of traffic"):
		fail("the run is revert-failed but its error does not say what serves now and how to fix it: %s", text)
	}
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
