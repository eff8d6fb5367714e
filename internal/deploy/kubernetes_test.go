package deploy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
)

const (
	v1 = "registry.example.com/shop:1.0.0"
	v2 = "registry.example.com/shop:2.0.0"
)

// first deploys v1 from the manifest: the first color, blue, goes live.
func (g *ground) first() run {
	g.t.Helper()
	return g.exec(g.t.Context(), map[string]string{"IMAGE": v1, "MANIFEST": "testdata/shop.yaml"}, nil).mustSucceed(g.t)
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	ctx := t.Context()

	r := g.first()
	if got, want := r.res.ActiveColor, "blue"; got != want {
		t.Errorf("after first deploy active color = %q, want %q", got, want)
	}
	if sel, _ := g.selector("shop"); sel != "blue" {
		t.Errorf("Service shop selects %q, want blue", sel)
	}

	r = g.exec(ctx, map[string]string{"IMAGE": v2, "GIT_SHA": "abc123"}, nil).mustSucceed(t)
	if got, want := r.res.ActiveColor, "green"; got != want {
		t.Errorf("after second deploy active color = %q, want %q\n%s", got, want, r.log)
	}
	if !r.res.Changed || r.res.PreviousColor != "blue" {
		t.Errorf("changed=%v previous=%q, want true and blue", r.res.Changed, r.res.PreviousColor)
	}
	if sel, _ := g.selector("shop"); sel != "green" {
		t.Errorf("Service shop selects %q, want green", sel)
	}
	if sel, _ := g.selector("shop-preview"); sel != "green" {
		t.Errorf("Service shop-preview selects %q, want green (the color just verified)", sel)
	}
	blue, green := colorState(r.res, "blue"), colorState(r.res, "green")
	if green.Image != v2 || !green.Live || green.Ready != 2 {
		t.Errorf("green = %+v, want live with %s and 2 ready", green, v2)
	}
	if blue.Image != v1 || blue.Live || blue.Ready != 2 {
		t.Errorf("blue = %+v, want idle, warm (2 ready) with %s", blue, v1)
	}

	// The same image again changes nothing.
	r = g.exec(ctx, map[string]string{"IMAGE": v2}, nil).mustSucceed(t)
	if r.res.Changed {
		t.Errorf("redeploying the live image changed something: %+v", r.res.Steps)
	}
	if got := stepStatus(r.res, "switch traffic"); got != "skipped" {
		t.Errorf("switch step %s, want skipped", got)
	}

	// Rollback to the warm color is one routing write: no scale, no wait.
	r = g.exec(ctx, map[string]string{"COMMAND": "rollback"}, nil).mustSucceed(t)
	if got, want := r.res.ActiveColor, "blue"; got != want {
		t.Errorf("after rollback active color = %q, want %q", got, want)
	}
	for _, step := range []string{"scale up", "wait until ready"} {
		if got := stepStatus(r.res, step); got != "skipped" {
			t.Errorf("rollback step %q %s, want skipped (blue is warm)", step, got)
		}
	}
	if r.res.Image != v1 {
		t.Errorf("rollback image = %q, want %q", r.res.Image, v1)
	}

	r = g.exec(ctx, map[string]string{"COMMAND": "status"}, nil).mustSucceed(t)
	if got := colorState(r.res, "green"); got.Image != v2 || got.Live {
		t.Errorf("status green = %+v, want idle with %s", got, v2)
	}

	r = g.exec(ctx, map[string]string{"COMMAND": "history"}, nil).mustSucceed(t)
	if got, want := len(r.res.Notes), 3; got != want {
		t.Fatalf("history has %d entries, want %d (2 deploys and a rollback; the no-op is not recorded): %q", got, want, r.res.Notes)
	}
	contains(t, r.res.Notes[0], "rollback")
	contains(t, r.res.Notes[1], v2)
	contains(t, r.res.Notes[1], "sha abc123")
	if g.lockHolder() != "" {
		t.Errorf("lock still held by %q after the runs", g.lockHolder())
	}
}

func TestNeverReadyLeavesTrafficAlone(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	_, rv := g.selector("shop")

	r := g.exec(t.Context(), map[string]string{"IMAGE": v2, "MANIFEST": "testdata/unschedulable.yaml", "WAIT_TIMEOUT": "2s"}, nil)
	if r.err == nil {
		t.Fatalf("deploy of an unschedulable color succeeded:\n%s", r.log)
	}
	if !errors.Is(r.err, context.DeadlineExceeded) && !strings.Contains(r.err.Error(), "not ready") {
		t.Errorf("error %q does not say the color is not ready", r.err)
	}
	contains(t, r.err.Error(), "Unschedulable")
	if r.res.Outcome != report.Failed {
		t.Errorf("outcome %q, want failed", r.res.Outcome)
	}
	if sel, rv2 := g.selector("shop"); sel != "blue" || rv2 != rv {
		t.Errorf("Service shop = %s@%s, want untouched blue@%s", sel, rv2, rv)
	}
	if h := g.lockHolder(); h != "" {
		t.Errorf("lock still held by %q", h)
	}
	if got := colorState(r.res, "green").State; !strings.Contains(got, "not ready") {
		t.Errorf("report says green is %q, want it to say not ready", got)
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	_, rv := g.selector("shop")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan run, 1)
	log := &syncBuffer{}
	go func() {
		done <- g.execLog(ctx, log, map[string]string{"IMAGE": v2, "MANIFEST": "testdata/unschedulable.yaml", "WAIT_TIMEOUT": "5m"}, nil)
	}()
	// Cancel once the run waits for the new color, as a CI cancel would.
	for !strings.Contains(log.String(), "==> wait until ready") {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	var r run
	select {
	case r = <-done:
	case <-time.After(30 * time.Second): // a hang guard, not a speed assertion
		t.Fatal("run did not stop after cancellation")
	}
	if r.err == nil || !errors.Is(r.err, context.Canceled) {
		t.Errorf("error = %v, want it to wrap context.Canceled", r.err)
	}
	if got := stepStatus(r.res, "wait until ready"); got != "cancelled" {
		t.Errorf("wait step %s, want cancelled", got)
	}
	if sel, rv2 := g.selector("shop"); sel != "blue" || rv2 != rv {
		t.Errorf("Service shop = %s@%s, want untouched blue@%s", sel, rv2, rv)
	}
	if h := g.lockHolder(); h != "" {
		t.Errorf("lock still held by %q", h)
	}
	if got := colorState(r.res, "blue").State; got != "serving" {
		t.Errorf("report says blue is %q, want serving", got)
	}
}

func TestBakeFailureSwitchesBack(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken release", http.StatusBadGateway)
	}))
	defer prod.Close()

	r := g.exec(t.Context(), map[string]string{"IMAGE": v2, "BAKE_TIME": "5s", "PRODUCTION_URL": prod.URL},
		func(o *deploy.Options) { o.Poll = 10 * time.Millisecond })
	if r.err == nil {
		t.Fatalf("deploy with a failing bake succeeded:\n%s", r.log)
	}
	if got, want := r.res.Outcome, report.RolledBack; got != want {
		t.Errorf("outcome %q, want %q", got, want)
	}
	contains(t, r.err.Error(), "bake")
	if sel, _ := g.selector("shop"); sel != "blue" {
		t.Errorf("Service shop selects %q after a failed bake, want blue", sel)
	}
	if got, want := r.res.ActiveColor, "blue"; got != want {
		t.Errorf("active color %q, want %q", got, want)
	}
	if got := stepStatus(r.res, "switch traffic"); got != "reverted" {
		t.Errorf("switch step %s, want reverted", got)
	}
}

func TestLockHeldByAnotherRun(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	_, rv := g.selector("shop")

	// Another run holds the lock, taken through the same Lease.
	release := g.holdLock("https://ci.example.com/run/41")
	defer release()
	r := g.exec(t.Context(), map[string]string{"IMAGE": v2}, nil)
	var held *lock.HeldError
	if !errors.As(r.err, &held) {
		t.Fatalf("error = %v, want a HeldError", r.err)
	}
	contains(t, r.err.Error(), "https://ci.example.com/run/41")
	if sel, rv2 := g.selector("shop"); sel != "blue" || rv2 != rv {
		t.Errorf("Service shop = %s@%s, want untouched blue@%s", sel, rv2, rv)
	}
	if got := g.lockHolder(); got != "https://ci.example.com/run/41" {
		t.Errorf("lock holder after refusal = %q, want the other run still", got)
	}
}

func TestConcurrentDeploys(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	images := []string{v2, "registry.example.com/shop:3.0.0", "registry.example.com/shop:4.0.0"}
	runs := make(chan run, len(images))
	for _, img := range images {
		go func() { runs <- g.exec(t.Context(), map[string]string{"IMAGE": img}, nil) }()
	}
	var won []string
	for range images {
		r := <-runs
		if r.err == nil {
			won = append(won, r.res.Image)
			continue
		}
		var held *lock.HeldError
		if !errors.As(r.err, &held) {
			t.Errorf("a concurrent deploy failed with %v, want success or a HeldError", r.err)
		}
	}
	if len(won) == 0 {
		t.Fatal("no concurrent deploy succeeded")
	}
	r := g.exec(t.Context(), map[string]string{"COMMAND": "status"}, nil).mustSucceed(t)
	live := colorState(r.res, r.res.ActiveColor)
	found := false
	for _, w := range won {
		found = found || live.Image == w
	}
	if !found || live.State != "serving" {
		t.Errorf("live color %s runs %q (%s), want one of the winners %q, serving", r.res.ActiveColor, live.Image, live.State, won)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	_, rv := g.selector("shop")
	apps, err := appsclient.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}
	before, err := apps.Deployments(g.ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}

	r := g.exec(t.Context(), map[string]string{"IMAGE": v2, "DRY_RUN": "true"}, nil).mustSucceed(t)
	if len(r.res.Notes) == 0 {
		t.Errorf("dry run lists no planned changes")
	}
	contains(t, strings.Join(r.res.Notes, "\n"), "switch traffic from blue to green")

	after, err := apps.Deployments(g.ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := after.ResourceVersion, before.ResourceVersion; len(after.Items) != len(before.Items) {
		t.Errorf("dry run changed the Deployments: %d -> %d (list rv %s -> %s)", len(before.Items), len(after.Items), want, got)
	}
	for i := range after.Items {
		if after.Items[i].ResourceVersion != before.Items[i].ResourceVersion {
			t.Errorf("dry run wrote Deployment %s", after.Items[i].Name)
		}
	}
	if sel, rv2 := g.selector("shop"); sel != "blue" || rv2 != rv {
		t.Errorf("Service shop = %s@%s, want untouched blue@%s", sel, rv2, rv)
	}
}

func TestBadInputsWriteNothing(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	cases := []struct {
		name   string
		inputs map[string]string
		input  string // the input the error must name
	}{
		{"missing namespace", map[string]string{"IMAGE": v1, "NAMESPACE": "no-such-namespace", "MANIFEST": "testdata/shop.yaml"}, "namespace"},
		{"first deploy without manifest", map[string]string{"IMAGE": v1}, "manifest"},
		{"manifest without Deployment", map[string]string{"IMAGE": v1, "MANIFEST": "testdata/no-deployment.yaml"}, "manifest"},
		{"unknown container", map[string]string{"IMAGE": v1, "MANIFEST": "testdata/shop.yaml", "CONTAINER": "nope"}, "container"},
		{"invalid image", map[string]string{"IMAGE": "Not An Image", "MANIFEST": "testdata/shop.yaml"}, "image"},
		{"unknown router", map[string]string{"IMAGE": v1, "ROUTER": "haproxy"}, "router"},
	}
	for _, tc := range cases {
		r := g.exec(t.Context(), tc.inputs, nil)
		if !config.IsInputError(r.err) {
			t.Errorf("%s: error %v is not an input error", tc.name, r.err)
			continue
		}
		contains(t, r.err.Error(), `input "`+tc.input+`"`)
	}
	// The kubeconfig is read by setup.Build, which the harness bypasses.
	for _, kc := range []string{"testdata/no-such-kubeconfig", "apiVersion: v1\nclusters: [not, a, map]"} {
		env := map[string]string{"BLUEGREEN_APP": "shop", "BLUEGREEN_IMAGE": v1, "BLUEGREEN_KUBECONFIG": kc}
		getenv := func(k string) string { return env[k] }
		cfg, err := config.Load(t.Context(), config.Lookuper(getenv))
		if err != nil {
			t.Fatal(err)
		}
		_, err = setup.Build(t.Context(), cfg, plain.New(io.Discard), getenv)
		if !config.IsInputError(err) || !strings.Contains(err.Error(), `input "kubeconfig"`) {
			t.Errorf("kubeconfig %q: error %v, want an input error naming kubeconfig", kc, err)
		}
	}
	apps, err := appsclient.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := apps.Deployments(g.ns).List(t.Context(), metav1.ListOptions{}); err != nil || len(d.Items) > 0 {
		t.Errorf("bad inputs created %d Deployments (err %v)", len(d.Items), err)
	}
	if s, err := g.core.Services(g.ns).List(t.Context(), metav1.ListOptions{}); err != nil || len(s.Items) > 0 {
		t.Errorf("bad inputs created %d Services (err %v)", len(s.Items), err)
	}
	if h := g.lockHolder(); h != "" {
		t.Errorf("bad inputs took the lock: %q", h)
	}
}

// TestSwitchConflict changes the production Service between the switch's
// read and its write, through the real API server: the write must fail on
// the stale resourceVersion, and the switch must re-check and retry rather
// than overwrite blindly.
func TestSwitchConflict(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()

	// The interloper edits the Service (an annotation, as a human or
	// another tool might) right before bluegreen's first PUT of it.
	interfered := false
	g.rc = rest.CopyConfig(g.rc)
	g.rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/services/shop") && !interfered {
				interfered = true
				svc, err := g.core.Services(g.ns).Get(req.Context(), "shop", metav1.GetOptions{})
				if err != nil {
					return nil, err
				}
				if svc.Annotations == nil {
					svc.Annotations = map[string]string{}
				}
				svc.Annotations["example.com/touched"] = "yes"
				if _, err := g.core.Services(g.ns).Update(req.Context(), svc, metav1.UpdateOptions{}); err != nil {
					return nil, err
				}
			}
			return rt.RoundTrip(req)
		})
	})

	r := g.exec(t.Context(), map[string]string{"IMAGE": v2}, nil).mustSucceed(t)
	if !interfered {
		t.Fatal("the Service was never written; the test proves nothing")
	}
	contains(t, r.log.String(), "the route changed while switching")
	svc, err := g.core.Services(g.ns).Get(t.Context(), "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Spec.Selector["bluegreen.dev/color"]; got != "green" {
		t.Errorf("Service selects %q, want green", got)
	}
	if got := svc.Annotations["example.com/touched"]; got != "yes" {
		t.Errorf("the other writer's change was lost: annotations %v", svc.Annotations)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
