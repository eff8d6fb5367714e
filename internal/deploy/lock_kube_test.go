package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/util/retry"

	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/configmap"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

// TestLeaseTakenOverMidBake: while a deploy bakes, another run takes the
// Lease over (another holderIdentity, a fresh renewTime). The run must
// stop at once: no revert, no scaling, no history entry, the Service left
// as the takeover found it; it fails naming the new holder and saying what
// each color runs.
func TestLeaseTakenOverMidBake(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	ctx := t.Context()
	coord, err := coordinationclient.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := appsclient.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}

	type seenAt struct{ svcRV, historyRV string }
	took := make(chan seenAt, 1)
	go func() {
		defer close(took)
		// Once the Service selects green the run is baking (for minutes).
		for ctx.Err() == nil {
			if sel, _ := g.selector("shop"); sel == "green" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, svcRV := g.selector("shop")
		historyRV := ""
		if cm, err := g.core.ConfigMaps(g.ns).Get(ctx, configmap.Name("shop"), metav1.GetOptions{}); err == nil {
			historyRV = cm.ResourceVersion
		} else if !apierrors.IsNotFound(err) {
			t.Error(err)
		}
		if err := takeLeaseOver(ctx, coord, g.ns, "https://ci.example.com/other-run"); err != nil {
			t.Error(err)
			return
		}
		took <- seenAt{svcRV, historyRV}
	}()

	done := make(chan run, 1)
	go func() {
		done <- faultyExec(ctx, g.ns, g.rc, "https://ci.example.com/this-run", 2*time.Second,
			map[string]string{"IMAGE": v2, "BAKE_TIME": "5m", "SCALE_DOWN_AFTER": "1s"},
			func(o *deploy.Options) { o.Poll = 50 * time.Millisecond })
	}()
	var r run
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute): // a hang guard: the bake alone is 5m
		t.Fatal("the run went on baking after its Lease was taken over")
	}
	before, ok := <-took
	if !ok {
		t.Fatalf("the Lease was never taken over; the test proves nothing\n%s", describeRun(r, nil))
	}

	if !errors.Is(r.err, lock.ErrLost) {
		t.Fatalf("error = %v, want the lock's loss\n%s", r.err, describeRun(r, nil))
	}
	for _, want := range []string{`"https://ci.example.com/other-run"`, "wrote nothing more", "blue runs " + v1, "green runs " + v2} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error does not say %s: %v", want, r.err)
		}
	}
	if got, want := r.res.Outcome, report.Failed; got != want {
		t.Errorf("outcome %q, want %q", got, want)
	}
	if sel, rv := g.selector("shop"); sel != "green" || rv != before.svcRV {
		t.Errorf("Service shop = %s@%s after the takeover, want green@%s untouched (no revert)", sel, rv, before.svcRV)
	}
	cm, err := g.core.ConfigMaps(g.ns).Get(context.Background(), configmap.Name("shop"), metav1.GetOptions{})
	switch {
	case err != nil && !apierrors.IsNotFound(err):
		t.Error(err)
	case err == nil && cm.ResourceVersion != before.historyRV:
		t.Errorf("the history was written after the takeover (resourceVersion %s -> %s): %v", before.historyRV, cm.ResourceVersion, cm.Data)
	}
	blue, err := apps.Deployments(g.ns).Get(context.Background(), "shop-blue", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := blue.Spec.Replicas; n == nil || *n != 2 {
		t.Errorf("blue scaled to %v after the takeover, want 2", n)
	}
	if got, want := g.lockHolder(), "https://ci.example.com/other-run"; got != want {
		t.Errorf("lock holder after the run = %q, want %q (left to it)", got, want)
	}
}

// TestBinaryLeaseTakenOverMidBake runs the binary as a CI would and takes
// its Lease over while it bakes: it must end by itself, with exit status
// 1, naming the new holder on stderr, having written nothing after the
// takeover.
func TestBinaryLeaseTakenOverMidBake(t *testing.T) {
	t.Parallel()
	rc := kubetest.Config(t)
	bin := bluegreenBinary(t)
	kubeconfig := writeKubeconfig(t, rc)
	g := newGround(t)
	if err := firstDeploy(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	coord, err := coordinationclient.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := startBluegreen(bin, t.TempDir(), map[string]string{
		"APP": "shop", "NAMESPACE": g.ns, "KUBECONFIG": kubeconfig, "IMAGE": v2,
		"WAIT_TIMEOUT": "60s", "BAKE_TIME": "10m",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !p.waitLine("baking green for", 2*time.Minute) {
		_, _ = p.wait(time.Second)
		t.Fatalf("the run never started its bake\n%s", p)
	}
	_, svcRV := g.selector("shop")
	holder := "https://ci.example.com/other-run"
	if err := takeLeaseOver(t.Context(), coord, g.ns, holder); err != nil {
		t.Fatal(err)
	}

	// The binary renews every 10s: it sees the takeover within that, far
	// within the hang guard and the 10m bake.
	code, ok := p.wait(2 * time.Minute)
	if !ok {
		t.Fatalf("the run went on after its Lease was taken over\n%s", p)
	}
	if code != 1 {
		t.Errorf("exit status %d, want 1\n%s", code, p)
	}
	if !strings.Contains(p.stderr.String(), holder) {
		t.Errorf("stderr does not name the new holder %q\n%s", holder, p)
	}
	if sel, rv := g.selector("shop"); sel != "green" || rv != svcRV {
		t.Errorf("Service shop = %s@%s after the takeover, want green@%s untouched", sel, rv, svcRV)
	}
	if got := g.lockHolder(); got != holder {
		t.Errorf("lock holder after the run = %q, want %q", got, holder)
	}
	res, err := p.resultFile()
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != report.Failed || len(res.Colors) != 2 {
		t.Errorf("result file: outcome %q with %d colors, want failed with both colors read", res.Outcome, len(res.Colors))
	}
}

// takeLeaseOver writes the deploy lock's Lease as a run that took it over
// would: another holder, a fresh renew time. The holder's renewals may
// come between its read and its write.
func takeLeaseOver(ctx context.Context, coord coordinationclient.CoordinationV1Interface, ns, holder string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		le, err := coord.Leases(ns).Get(ctx, lockName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.NewMicroTime(time.Now())
		le.Spec.HolderIdentity, le.Spec.AcquireTime, le.Spec.RenewTime = &holder, &now, &now
		_, err = coord.Leases(ns).Update(ctx, le, metav1.UpdateOptions{})
		return err
	})
}
