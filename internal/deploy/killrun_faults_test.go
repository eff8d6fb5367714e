package deploy_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/lock/lease"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// killOne runs one kill case in namespace g: v1 live on blue, then a
// deploy of v2 by the binary, stopped as tc says, then the checks, then a
// fresh run. It runs on its own goroutine, so it reports with t.Errorf.
// busy bounds how many cases deploy at once; a case waiting for a killed
// run's lease to lapse gives its place up.
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

	// Traffic reaches a fully ready color, whatever the moment.
	if !after.svc || !after.colors[after.selector].fullyReady() {
		errorf("Service shop selects %q, not a fully ready color: %s\n%s", after.selector, after, p)
	}
	if after.selector == "green" && after.colors["green"].image != v2 {
		errorf("traffic is on green, which runs %q, not %q", after.colors["green"].image, v2)
	}
	// Where the run stopped: the switch step is announced before it
	// writes anything, and the commit is the confirm step's success.
	res, resErr := p.resultFile()
	stdout := p.stdout.String()
	stage := beforeSwitch
	switch {
	case committedIn(stdout):
		stage = afterCommit
	case strings.Contains(stdout, "==> switch traffic\n"):
		stage = inBake
	}
	if tc.intent != "" && stage != tc.intent {
		errorf("the signal landed %s, meant %s\n%s", stage, tc.intent, p)
	}
	switch {
	case stage == beforeSwitch && (after.selector != before.selector || after.svcRV != before.svcRV):
		errorf("stopped before the switch, but Service shop = %s@%s, not %s@%s as before\n%s", after.selector, after.svcRV, before.selector, before.svcRV, p)
	case stage == afterCommit && after.selector != "green":
		errorf("stopped after the commit, but Service shop selects %s, not green\n%s", after.selector, p)
	case stage == inBake && tc.sig == syscall.SIGTERM && after.selector != before.selector:
		errorf("stopped between the switch and its commit, but traffic was not put back: Service shop selects %s\n%s", after.selector, p)
	}
	// After a SIGKILL between the switch and its commit, either color
	// may serve: nothing is left to put traffic back; it is fully ready
	// (checked above).

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
	stopped := "(had ended)"
	for _, st := range res.Steps {
		if st.Status == "cancelled" || st.Status == "failed" {
			stopped = st.Name
		}
	}
	if tc.sig == syscall.SIGKILL {
		stopped = lastStep(p.stdout.String())
	}
	t.Logf("%s: exit %d, stopped in %q (%s), Service selects %s, %s", tc.name, code, stopped, stage, after.selector, lockText(after))
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

// committedIn reports whether a run's output shows its confirm step
// succeeded, the moment a deploy commits.
func committedIn(stdout string) bool {
	for line := range strings.Lines(stdout) {
		// "    ok             bake and confirm  (125ms)  green serves ..."
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "ok" && strings.Join(f[1:4], " ") == "bake and confirm" {
			return true
		}
	}
	return false
}

// lastStep is the last step a process announced.
func lastStep(stdout string) string {
	last := ""
	for line := range strings.Lines(stdout) {
		if name, ok := strings.CutPrefix(line, "==> "); ok {
			last = strings.TrimSpace(name)
		}
	}
	return last
}

func lockText(s liveSnap) string {
	if s.locked() {
		return "lock held by " + s.holder
	}
	return "lock free"
}

// convergeBinary runs the binary to the end and fails unless it reports
// success.
func convergeBinary(bin, dir string, inputs map[string]string) (*proc, error) {
	p, err := startBluegreen(bin, dir, inputs)
	if err != nil {
		return nil, err
	}
	switch code, ok := p.wait(3 * time.Minute); {
	case !ok:
		return p, fmt.Errorf("did not end")
	case code != 0:
		return p, fmt.Errorf("exit status %d", code)
	}
	return p, nil
}

// firstDeploy makes v1 live on blue, without faults, as the ground every
// kill starts from.
func firstDeploy(ctx context.Context, g *ground) error {
	in := map[string]string{"IMAGE": v1, "MANIFEST": "testdata/shop.yaml"}
	r := faultyExec(ctx, g.ns, g.rc, "first deploy", 0, in, nil)
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
	return func() { _ = release.Release(context.Background()) }, nil
}

func abs(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	return p
}
