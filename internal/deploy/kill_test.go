package deploy_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/lease"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// deploySteps are a deploy's steps in order, as the binary announces each
// one ("==> <step>") when it starts.
var deploySteps = []string{
	"promote image", "lock", "read live state", "deploy idle color", "wait until ready", "point preview",
	"verify", "migrate before", "switch traffic", "bake and confirm", "migrate after", "scale down old color",
}

// Where a killed run may leave the production Service. Every kill must
// leave it selecting a fully ready color; these say which one.
const (
	untouched = "untouched" // blue, same resourceVersion: the kill came before any write to it
	onBlue    = "blue"      // blue: the switch never happened, or was put back
	committed = "committed" // blue, or green when the run committed before it stopped (its result says so)
	onGreen   = "green"     // green: the run had committed
	anyReady  = "any"       // a SIGKILL after the switch: no revert runs
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
	want     string
}

func killCases() []killCase {
	var cases []killCase
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		name := map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL"}[sig]
		for i, step := range deploySteps {
			want := untouched
			switch {
			case i <= 4: // up to and through the wait: nothing routes to green yet
			case sig == syscall.SIGKILL && i >= 9:
				want = onGreen
			case sig == syscall.SIGKILL:
				want = anyReady // the switch may have happened; nothing reverts it
			case step == "bake and confirm":
				want = committed
			case i >= 10:
				want = onGreen
			default:
				want = onBlue
			}
			cases = append(cases, killCase{name: name + " at " + step, sig: sig, line: "==> " + step + "\n", want: want})
		}
		bake := onBlue
		if sig == syscall.SIGKILL {
			bake = onGreen // switched, and no one is left to put it back
		}
		cases = append(cases,
			killCase{name: name + " waiting for the lock", sig: sig, holdLock: true, inputs: map[string]string{"LOCK_TIMEOUT": "5m"},
				line: "==> lock\n", settle: 300 * time.Millisecond, want: untouched},
			killCase{name: name + " waiting for readiness", sig: sig,
				inputs: map[string]string{"MANIFEST": "testdata/unschedulable.yaml", "WAIT_TIMEOUT": "5m"},
				line:   "==> wait until ready\n", settle: 500 * time.Millisecond, want: untouched},
			killCase{name: name + " baking", sig: sig, inputs: map[string]string{"BAKE_TIME": "5m"}, line: "baking green for", want: bake},
			killCase{name: name + " before scaling down", sig: sig, inputs: map[string]string{"SCALE_DOWN_AFTER": "5m"}, line: "keeping blue warm", want: onGreen},
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
	quietKlog()
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

func killOne(t *testing.T, bin, kubeconfig string, g *ground, tc killCase, busy chan struct{}) {
	ctx := t.Context()
	errorf := func(format string, args ...any) { t.Errorf("%s: "+format, append([]any{tc.name}, args...)...) }
	view := newCleanView(t, g)
	inputs := map[string]string{"APP": "shop", "NAMESPACE": g.ns, "KUBECONFIG": kubeconfig, "IMAGE": v2, "WAIT_TIMEOUT": "60s"}
	for k, v := range tc.inputs {
		if k == "MANIFEST" {
			v = abs(v)
		}
		inputs[k] = v
	}

	held := false
	work := func() { busy <- struct{}{}; held = true }
	idle := func() {
		if held {
			<-busy
			held = false
		}
	}
	work()
	defer idle()
	if err := firstDeploy(ctx, g); err != nil {
		errorf("%v", err)
		return
	}
	before, err := view.snap(ctx)
	if err != nil {
		errorf("%v", err)
		return
	}
	const otherRun = "https://ci.example.com/run/41"
	if tc.holdLock {
		release, err := takeLock(ctx, g, otherRun)
		if err != nil {
			errorf("%v", err)
			return
		}
		defer release()
	}

	p, err := startBluegreen(bin, t.TempDir(), inputs)
	if err != nil {
		errorf("%v", err)
		return
	}
	if !p.waitLine(tc.line, 2*time.Minute) {
		_ = p.signal(syscall.SIGKILL)
		p.wait(time.Minute)
		errorf("the run never printed %q\n%s", tc.line, p)
		return
	}
	time.Sleep(tc.settle)
	if err := p.signal(tc.sig); err != nil {
		errorf("signalling: %v", err)
	}
	killed := time.Now()
	code, ok := p.wait(time.Minute) // a hang guard, not a speed assertion
	if !ok {
		errorf("the process did not exit after %s\n%s", tc.sig, p)
		return
	}
	after, err := view.snap(ctx)
	if err != nil {
		errorf("%v", err)
		return
	}

	// Traffic reaches a fully ready color, the one the case expects.
	if !after.svc || !after.colors[after.selector].fullyReady() {
		errorf("Service shop selects %q, not a fully ready color: %s\n%s", after.selector, after, p)
	}
	if after.selector == "green" && after.colors["green"].image != v2 {
		errorf("traffic is on green, which runs %q, not %q", after.colors["green"].image, v2)
	}
	want := tc.want
	res, resErr := p.resultFile()
	if want == committed {
		want = onBlue
		if stepStatus(res, "bake and confirm") == "ok" {
			want = onGreen
		}
	}
	switch want {
	case untouched:
		if after.selector != before.selector || after.svcRV != before.svcRV {
			errorf("Service shop = %s@%s, want untouched %s@%s\n%s", after.selector, after.svcRV, before.selector, before.svcRV, p)
		}
	case onBlue, onGreen:
		if after.selector != want {
			errorf("Service shop selects %s, want %s\n%s", after.selector, want, p)
		}
	}

	if tc.sig == syscall.SIGTERM {
		// The process stopped by itself, reported, and let go of the lock.
		if code != 0 && code != 1 {
			errorf("exit status %d after SIGTERM, want 0 or 1 (handled)\n%s", code, p)
		}
		rows := colorLines(p.stdout.String())
		for _, c := range []string{"blue", "green"} {
			if rows[c] == "" {
				errorf("the report has no line for %s\n%s", c, p)
			}
		}
		if live := rows[after.selector]; !strings.Contains(live, " yes ") || !strings.Contains(live, "serving") {
			errorf("the report's line for the live color %s is %q, want it live and serving\n%s", after.selector, live, p)
		}
		if resErr != nil {
			errorf("reading the result file: %v\n%s", resErr, p)
		} else if res.ActiveColor != after.selector {
			errorf("the result says %s is live, the Service selects %s", res.ActiveColor, after.selector)
		}
		switch {
		case tc.holdLock && !strings.Contains(p.stderr.String(), otherRun):
			errorf("the run stopped while waiting for the lock does not name its holder %q\n%s", otherRun, p)
		case tc.holdLock && after.holder != otherRun:
			errorf("the lock is held by %q, want still the other run %q", after.holder, otherRun)
		case !tc.holdLock && after.locked() && after.holder == p.owner() && stepStatus(res, "lock") == "cancelled" && !*faultStrict:
			t.Logf("%s: %s", tc.name, knownCancelledLock) // it must lapse, as a killed run's does
		case !tc.holdLock && after.locked():
			errorf("the lock is still held by %q after SIGTERM\n%s", after.holder, p)
		}
	}
	if after.locked() && after.holder != otherRun {
		// Nobody renews the lock of a killed run: it lapses within the
		// lease it was last renewed for.
		if after.holder != p.owner() {
			errorf("the lock is held by %q, not the stopped run %q", after.holder, p.owner())
		}
		if limit := killed.Add(lease.DefaultDuration + 2*time.Second); after.expires.After(limit) {
			errorf("the killed run's lock expires at %s, later than a lease after the kill (%s)", after.expires, limit)
		}
		idle()
		time.Sleep(time.Until(after.expires) + 100*time.Millisecond)
		if again, err := view.snap(ctx); err == nil && (again.locked() || !again.renewed.Equal(after.renewed)) {
			errorf("the killed run's lock was renewed after the kill: %s", again)
		}
		work()
	}
	if tc.holdLock {
		return // the other run still holds the lock
	}

	// A fresh run converges to the release the stopped one was deploying.
	fresh := map[string]string{"APP": "shop", "NAMESPACE": g.ns, "KUBECONFIG": kubeconfig, "IMAGE": v2, "WAIT_TIMEOUT": "60s", "LOCK_TIMEOUT": "45s"}
	out, err := convergeBinary(bin, t.TempDir(), fresh)
	if err != nil {
		errorf("a fresh run after %s did not converge: %v\n%s", tc.sig, err, out)
		return
	}
	final, err := view.snap(ctx)
	if err != nil {
		errorf("%v", err)
		return
	}
	if live := final.colors[final.selector]; !final.svc || live.image != v2 || !live.fullyReady() || final.locked() {
		errorf("after a fresh run: %s, want %s live and fully ready, lock free\n%s", final, v2, out)
	}
}

// convergeBinary runs the binary to the end and fails unless it reports
// success. A switch refused because the color's endpoints were not ready
// yet (knownEndpointLag) is run once more, unless -faults.strict.
func convergeBinary(bin, dir string, inputs map[string]string) (*proc, error) {
	for attempt := 1; ; attempt++ {
		p, err := startBluegreen(bin, dir, inputs)
		if err != nil {
			return nil, err
		}
		code, ok := p.wait(3 * time.Minute)
		switch {
		case !ok:
			return p, fmt.Errorf("did not end")
		case code == 0:
			return p, nil
		case attempt == 1 && !*faultStrict && strings.Contains(p.stderr.String(), "no ready endpoints"):
			continue
		}
		return p, fmt.Errorf("exit status %d", code)
	}
}

// knownEndpointLag is a bug seen in the integration tests, rarely and
// under load: the switch's last check (service.Router.Verify) lists the
// color's EndpointSlices once, right after Wait saw the Deployment ready;
// the EndpointSlice controller may not have caught up, and the switch
// fails "has no ready endpoints" instead of waiting for it.
const knownEndpointLag = "known bug: switch refused because the EndpointSlice controller lagged the Deployment"

// knownCancelledLock is a bug TestKill finds: a SIGTERM that arrives
// while the lock step's write of the Lease is in flight makes the write's
// client call fail with "context canceled" after the API server applied
// it. Acquire returns that error, the run has no release function, and
// the Lease stays held by the stopped process until it lapses (30s),
// refusing every run with lock-timeout 0 meanwhile. Tolerated, and the
// lapse checked, unless -faults.strict; see TestCancelDuringLockWrite.
const knownCancelledLock = "known bug: a SIGTERM during the lock's write leaves the Lease held until it lapses"

// TestCancelDuringLockWrite cancels a run just as the API server has
// applied its take-over of the deploy lock's Lease, before the answer
// arrives, as a SIGTERM at that moment does. The run must still release
// the lock. See knownCancelledLock.
func TestCancelDuringLockWrite(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	skipKnownBug(t, knownCancelledLock)
	g.first()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var once sync.Once
	rc := rest.CopyConfig(g.rc)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method != http.MethodPut || !strings.HasSuffix(req.URL.Path, "/leases/"+lockName) {
				return rt.RoundTrip(req)
			}
			cancelled := false
			once.Do(func() { cancelled = true })
			if !cancelled {
				return rt.RoundTrip(req)
			}
			resp, err := rt.RoundTrip(req)
			if err == nil {
				_ = resp.Body.Close()
			}
			cancel()
			return nil, context.Canceled
		})
	})
	r := faultyExec(ctx, g.ns, rc, "cancelled run", 0, map[string]string{"IMAGE": v2}, nil)
	if got := stepStatus(r.res, "lock"); got != "cancelled" {
		t.Fatalf("lock step %s, want cancelled: the test missed its moment\n%s", got, describeRun(r, nil))
	}
	if h := g.lockHolder(); h != "" {
		t.Errorf("the lock is held by %q after the cancelled run, want it released\n%s", h, describeRun(r, nil))
	}
}

// firstDeploy makes v1 live on blue, without faults, as the ground every
// kill starts from.
func firstDeploy(ctx context.Context, g *ground) error {
	in := map[string]string{"IMAGE": v1, "MANIFEST": "testdata/shop.yaml"}
	r := faultyExec(ctx, g.ns, g.rc, "first deploy", 0, in, nil)
	if r.err != nil && strings.Contains(r.err.Error(), "no ready endpoints") && !*faultStrict {
		r = faultyExec(ctx, g.ns, g.rc, "first deploy", 0, in, nil) // knownEndpointLag
	}
	if r.err != nil || r.res.Outcome != report.Success {
		return fmt.Errorf("first deploy of %s: %v\n%s", v1, r.err, r.log)
	}
	return nil
}

// takeLock holds the deploy lock as another run would, until release.
func takeLock(ctx context.Context, g *ground, owner string) (func(), error) {
	c, err := coordinationclient.NewForConfig(g.rc)
	if err != nil {
		return nil, err
	}
	l, err := lease.New(lease.Config{Client: c, Namespace: g.ns, Name: lockName})
	if err != nil {
		return nil, err
	}
	release, err := l.Acquire(ctx, owner, 0)
	if err != nil {
		return nil, err
	}
	return func() { _ = release(context.Background()) }, nil
}

func abs(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	return p
}

// leaseSeen is one version of the deploy lock's Lease, as a watch saw it.
type leaseSeen struct {
	at              time.Time
	holder          string
	acquired, renew time.Time
	duration        time.Duration
	transitions     int32
}

func (l leaseSeen) String() string {
	h := l.holder
	if h == "" {
		h = "(free)"
	}
	return fmt.Sprintf("%s %s acquired %s renewed %s, %d transitions",
		l.at.Format("15:04:05.000"), h, l.acquired.Format("15:04:05.000"), l.renew.Format("15:04:05.000"), l.transitions)
}

func seen(le *coordinationv1.Lease) leaseSeen {
	s := leaseSeen{at: time.Now()}
	if le.Spec.HolderIdentity != nil {
		s.holder = *le.Spec.HolderIdentity
	}
	if le.Spec.AcquireTime != nil {
		s.acquired = le.Spec.AcquireTime.Time
	}
	if le.Spec.RenewTime != nil {
		s.renew = le.Spec.RenewTime.Time
	}
	if le.Spec.LeaseDurationSeconds != nil {
		s.duration = time.Duration(*le.Spec.LeaseDurationSeconds) * time.Second
	}
	if le.Spec.LeaseTransitions != nil {
		s.transitions = *le.Spec.LeaseTransitions
	}
	return s
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
	quietKlog()
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

func concurrentDeploys(t *testing.T, bin, kubeconfig string, g *ground, name, lockTimeout string) {
	ctx := t.Context()
	errorf := func(format string, args ...any) { t.Errorf("%s: "+format, append([]any{name}, args...)...) }
	if err := firstDeploy(ctx, g); err != nil {
		errorf("%v", err)
		return
	}
	view := newCleanView(t, g)
	cur, err := view.coord.Leases(g.ns).Get(ctx, lockName, metav1.GetOptions{})
	if err != nil {
		errorf("%v", err)
		return
	}
	w, err := view.coord.Leases(g.ns).Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + lockName, ResourceVersion: cur.ResourceVersion,
	})
	if err != nil {
		errorf("watching the Lease: %v", err)
		return
	}
	history := []leaseSeen{seen(cur)}
	var mu sync.Mutex
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for ev := range w.ResultChan() {
			if le, ok := ev.Object.(*coordinationv1.Lease); ok {
				mu.Lock()
				history = append(history, seen(le))
				mu.Unlock()
			}
		}
	}()

	images := make([]string, 5)
	procs := make([]*proc, 5)
	for i := range procs {
		images[i] = fmt.Sprintf("registry.example.com/shop:%d.0.0", i+3)
		in := map[string]string{"APP": "shop", "NAMESPACE": g.ns, "KUBECONFIG": kubeconfig, "IMAGE": images[i],
			"WAIT_TIMEOUT": "60s", "LOCK_TIMEOUT": lockTimeout}
		if procs[i], err = startBluegreen(bin, t.TempDir(), in); err != nil {
			errorf("%v", err)
			return
		}
	}
	owners := map[string]int{}
	for i, p := range procs {
		owners[p.owner()] = i
	}
	codes := make([]int, len(procs))
	for i, p := range procs {
		code, ok := p.wait(4 * time.Minute) // a hang guard
		if !ok {
			errorf("run %d (%s) did not end\n%s", i, images[i], p)
		}
		codes[i] = code
	}
	w.Stop()
	<-watched
	mu.Lock()
	defer mu.Unlock()
	timeline := func() string {
		var b strings.Builder
		for _, s := range history {
			b.WriteString("  " + s.String())
			if i, ok := owners[s.holder]; ok {
				fmt.Fprintf(&b, " (run %d, %s)", i, images[i])
			}
			b.WriteString("\n")
		}
		return b.String()
	}

	// One holder at a time: the Lease passes from one run to another only
	// through free (released) or after the last holder's lease lapsed.
	var order []int // runs in the order they took the lock
	for k := 1; k < len(history); k++ {
		a, b := history[k-1], history[k]
		if b.holder == "" || b.holder == a.holder {
			continue
		}
		i, ok := owners[b.holder]
		if !ok {
			errorf("the lock was taken by %q, none of the five runs\n%s", b.holder, timeline())
			continue
		}
		order = append(order, i)
		if a.holder != "" && b.acquired.Before(a.renew.Add(a.duration)) {
			errorf("run %d took the lock from %q before that run's lease lapsed:\n%s", i, a.holder, timeline())
		}
		if b.transitions != a.transitions+1 {
			errorf("leaseTransitions went %d -> %d as run %d took the lock", a.transitions, b.transitions, i)
		}
	}
	if len(order) == 0 {
		errorf("no run ever held the lock\n%s", timeline())
		return
	}
	last := history[len(history)-1]
	if last.holder != "" {
		errorf("the lock is still held by %q after every run ended", last.holder)
	}

	won := map[int]bool{}
	for i, code := range codes {
		p := procs[i]
		switch {
		case code == 0:
			won[i] = true
		case lockTimeout != "0s":
			errorf("run %d (%s) waited for the lock yet failed with exit status %d\n%s", i, images[i], code, p)
		case code != 1 || !strings.Contains(p.stderr.String(), "is held by"):
			errorf("run %d (%s) failed with exit status %d, want 1 naming the lock's holder\n%s", i, images[i], code, p)
		default:
			named := false
			for o, j := range owners {
				named = named || (j != i && strings.Contains(p.stderr.String(), o))
			}
			if !named {
				errorf("run %d's refusal names none of the other runs as the holder\n%s", i, p)
			}
		}
	}
	for _, i := range order {
		if !won[i] {
			errorf("run %d held the lock but did not succeed\n%s", i, procs[i])
		}
	}

	// The release live now is the last one to hold the lock, fully ready.
	after, err := view.snap(ctx)
	if err != nil {
		errorf("%v", err)
		return
	}
	want := images[order[len(order)-1]]
	if live := after.colors[after.selector]; !after.svc || live.image != want || !live.fullyReady() {
		errorf("after the five runs: %s; want %s (the last to hold the lock) live and fully ready\n%s", after, want, timeline())
	}
	t.Logf("%s: runs took the lock in the order %v; the Lease's history:\n%s", name, order, timeline())
}
