package deploy_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// deploySteps are a deploy's steps in order, as the binary announces each
// one ("==> <step>") when it starts.
var deploySteps = []string{
	"promote image", "lock", "read live state", "deploy idle color", "wait until ready", "point preview",
	"verify", "migrate before", "switch traffic", "bake and confirm", "migrate after", "scale down old color",
}

// Where a wait case means to stop the run. A signal at a step boundary
// lands wherever the run is by then (under load, a later step); its
// checks follow from where it did stop, which the run's output tells.
const (
	beforeSwitch = "before the switch"
	inBake       = "between the switch and its commit"
	afterCommit  = "after the commit"
)

// killCase is one place to stop a `bluegreen deploy` of v2 over a live v1.
type killCase struct {
	name   string
	sig    syscall.Signal
	inputs map[string]string
	line   string        // the signal goes once stdout shows this
	settle time.Duration // and this long after, to land inside a wait
	// holdLock: another run holds the lock, so the run waits for it.
	holdLock bool
	// intent, for a wait of minutes, is where the signal must land.
	intent string
}

func killCases() []killCase {
	var cases []killCase
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		name := map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL"}[sig]
		for _, step := range deploySteps {
			cases = append(cases, killCase{name: name + " at " + step, sig: sig, line: "==> " + step + "\n"})
		}
		cases = append(cases,
			killCase{name: name + " waiting for the lock", sig: sig, holdLock: true, inputs: map[string]string{"LOCK_TIMEOUT": "5m"},
				line: "==> lock\n", settle: 300 * time.Millisecond, intent: beforeSwitch},
			killCase{name: name + " waiting for readiness", sig: sig,
				inputs: map[string]string{"MANIFEST": "testdata/unschedulable.yaml", "WAIT_TIMEOUT": "5m"},
				line:   "==> wait until ready\n", settle: 500 * time.Millisecond, intent: beforeSwitch},
			killCase{name: name + " baking", sig: sig, inputs: map[string]string{"BAKE_TIME": "5m"}, line: "baking green for", intent: inBake},
			killCase{name: name + " before scaling down", sig: sig, inputs: map[string]string{"SCALE_DOWN_AFTER": "5m"}, line: "keeping blue warm", intent: afterCommit},
		)
	}
	return cases
}

// TestKill runs the real binary and stops it with SIGTERM or SIGKILL at
// every step boundary and in the middle of every wait. After a SIGTERM the
// process exits, its report says what state each color is in, traffic is
// where it was (or put back) unless the run had committed, and the lock is
// released. After a SIGKILL nothing is half switched, the lock the process
// held lapses within its 30s lease without being renewed, and a fresh run
// converges to the release. The cases run at once: a SIGKILL case spends
// most of its time waiting for the binary's default 30s lease to lapse.
func TestKill(t *testing.T) {
	t.Parallel()
	rc := kubetest.Config(t)
	bin := bluegreenBinary(t)
	kubeconfig := writeKubeconfig(t, rc)
	cases := killCases()
	grounds := make([]*ground, len(cases))
	for i := range cases {
		grounds[i] = newGround(t)
	}
	busy := make(chan struct{}, 4) // cases deploying at once
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Go(func() { killOne(t, bin, kubeconfig, grounds[i], tc, busy) })
	}
	wg.Wait()
}

// TestCancelDuringLockWrite cancels a run just as the API server has
// applied its take-over of the deploy lock's Lease, before the answer
// arrives, as a SIGTERM at that moment does. The run must stop and still
// release the lock: a write cancelled in flight may have been applied,
// and a Lease held with no release function stays taken until it lapses.
func TestCancelDuringLockWrite(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var once sync.Once
	fired := false
	rc := rest.CopyConfig(g.rc)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			first := false
			if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/leases/"+lockName) {
				once.Do(func() { first, fired = true, true })
			}
			if !first {
				return rt.RoundTrip(req)
			}
			// The API server applies the write; the cancel comes before
			// the answer, and fails the call if the call's context is the
			// run's.
			resp, err := rt.RoundTrip(req)
			cancel()
			if err == nil && req.Context().Err() != nil {
				_ = resp.Body.Close()
				return nil, req.Context().Err()
			}
			return resp, err
		})
	})
	r := faultyExec(ctx, g.ns, rc, "cancelled run", 0, map[string]string{"IMAGE": v2}, nil)
	if !fired {
		t.Fatalf("the run never wrote the Lease; the test proves nothing\n%s", describeRun(r, nil))
	}
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("error = %v, want it to wrap context.Canceled\n%s", r.err, describeRun(r, nil))
	}
	if h := g.lockHolder(); h != "" {
		t.Errorf("the lock is held by %q after the cancelled run, want it released\n%s", h, describeRun(r, nil))
	}
	if sel, _ := g.selector("shop"); sel != "blue" {
		t.Errorf("Service shop selects %q after a run cancelled at its lock, want blue", sel)
	}
}

// TestFiveConcurrentDeploys starts five deploys of five images of one app at
// once, as five CI jobs would, with the real binary, and watches the
// deploy lock's Lease all along: at every moment at most one run holds it
// (a new holder only ever takes it once it is free or lapsed), the final
// live release is one of the five and fully ready, and with lock-timeout
// 0 the runs that did not get the lock fail naming the run that held it;
// with a lock-timeout they wait their turn and all succeed.
func TestFiveConcurrentDeploys(t *testing.T) {
	t.Parallel()
	rc := kubetest.Config(t)
	bin := bluegreenBinary(t)
	kubeconfig := writeKubeconfig(t, rc)
	cases := []struct{ name, lockTimeout string }{{"refused", "0s"}, {"queued", "3m"}}
	grounds := make([]*ground, len(cases))
	for i := range cases {
		grounds[i] = newGround(t)
	}
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Go(func() { concurrentDeploys(t, bin, kubeconfig, grounds[i], tc.name, tc.lockTimeout) })
	}
	wg.Wait()
}
