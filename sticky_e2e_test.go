package main

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// TestBinaryGatewayStickySplit runs the built binary, as a GitHub Action,
// on a control plane of the test's own whose HTTPRoute CRD is the Gateway
// API experimental channel's (the shared plane keeps the standard one): a
// split with sticky-duration ends with result split and the route's rule
// holding a permanent session cookie of that lifetime; the switch that
// finishes a split, and the rollback that drops one, run without
// sticky-duration, send all traffic to one release and take the
// stickiness away.
func TestBinaryGatewayStickySplit(t *testing.T) {
	t.Parallel()
	own := kubetest.StartPlane(t, kubetest.PlaneOptions{Gateway: kubetest.Experimental, Workloads: true})
	ns := own.Namespace(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	dyn, err := dynamic.NewForConfig(own.Config)
	if err != nil {
		t.Fatal(err)
	}
	createRoute(t, dyn, ns, "cart")
	output := filepath.Join(dir, "output")
	base := []string{"CI=true", "GITHUB_ACTIONS=true", "GITHUB_OUTPUT=" + output,
		"BLUEGREEN_NAMESPACE=" + ns, "BLUEGREEN_KUBECONFIG=" + own.Kubeconfig,
		"BLUEGREEN_APP=cart", "BLUEGREEN_ROUTER=gateway", "BLUEGREEN_ROUTE=cart"}
	run := func(name string, env ...string) map[string]string {
		t.Helper()
		if err := os.WriteFile(output, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runBinary(t, bin, dir, append(append([]string{}, base...), env...))
		if code != exitOK {
			t.Fatalf("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, exitOK, stdout, stderr)
		}
		return readOutputs(t, output)
	}

	run("first deploy", "BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0", manifestFor(t, dir, "cart"))
	if got := weights(t, dyn, ns, "cart"); got != "blue 0 green 1" && got != "blue 0 green 100" {
		t.Fatalf("after the first deploy the route sends %s, want all to green", got)
	}

	outputs := run("sticky split", "BLUEGREEN_COMMAND=split", "BLUEGREEN_SPLIT_WEIGHT=30",
		"BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0", "BLUEGREEN_STICKY_DURATION=1h")
	if outputs["result"] != "split" || outputs["image"] != "registry.example.com/shop:2.0.0" {
		t.Errorf("sticky split outputs %q, want result split and the new image", outputs)
	}
	if got := weights(t, dyn, ns, "cart"); got != "blue 30 green 70" {
		t.Errorf("after the sticky split 30 the route sends %s, want blue 30 green 70", got)
	}
	want := map[string]any{"type": "Cookie", "absoluteTimeout": "1h", "cookieConfig": map[string]any{"lifetimeType": "Permanent"}}
	if diff := cmp.Diff(want, sessionPersistence(t, dyn, ns, "cart")); diff != "" {
		t.Errorf("the route's sessionPersistence after the sticky split (-want +got):\n%s", diff)
	}

	// The runs that end a split do not repeat sticky-duration: moving all
	// traffic to one color removes the persistence the split wrote.
	outputs = run("switch", "BLUEGREEN_COMMAND=switch")
	if got := weights(t, dyn, ns, "cart"); got != "blue 100 green 0" {
		t.Errorf("after the switch the route sends %s, want all to blue, the split's release", got)
	}
	if outputs["result"] != "success" || outputs["active-color"] != "blue" {
		t.Errorf("switch outputs %q, want success, blue", outputs)
	}
	if got := sessionPersistence(t, dyn, ns, "cart"); got != nil {
		t.Errorf("after the switch the route keeps sessionPersistence %v: clients holding the cookie stay on the release left", got)
	}

	run("sticky split 50", "BLUEGREEN_COMMAND=split", "BLUEGREEN_SPLIT_WEIGHT=50",
		"BLUEGREEN_IMAGE=registry.example.com/shop:3.0.0", "BLUEGREEN_STICKY_DURATION=90m")
	want["absoluteTimeout"] = "1h30m"
	if diff := cmp.Diff(want, sessionPersistence(t, dyn, ns, "cart")); diff != "" {
		t.Errorf("the route's sessionPersistence after a split sticky for 90m (-want +got):\n%s", diff)
	}
	outputs = run("rollback", "BLUEGREEN_COMMAND=rollback")
	if got := weights(t, dyn, ns, "cart"); got != "blue 100 green 0" {
		t.Errorf("after rolling back the split the route sends %s, want all to blue", got)
	}
	if outputs["result"] != "success" || outputs["image"] != "registry.example.com/shop:2.0.0" {
		t.Errorf("rollback outputs %q, want success, shop:2.0.0", outputs)
	}
	if got := sessionPersistence(t, dyn, ns, "cart"); got != nil {
		t.Errorf("after the rollback the route keeps sessionPersistence %v", got)
	}

	// Traffic steps: every version of the route the deploy writes is
	// watched; the step at 25 is sticky, the last step at 100 is not.
	seen := watchRoute(t, dyn, ns, "cart")
	run("sticky deploy in steps", "BLUEGREEN_IMAGE=registry.example.com/shop:4.0.0",
		"BLUEGREEN_TRAFFIC_STEPS=25,100", "BLUEGREEN_TRAFFIC_STEP_PAUSE=100ms", "BLUEGREEN_STICKY_DURATION=1h")
	versions := seen()
	want["absoluteTimeout"] = "1h"
	var stepped bool
	for _, v := range versions {
		if v.weights == "blue 75 green 25" {
			stepped = true
			if diff := cmp.Diff(want, v.persistence); diff != "" {
				t.Errorf("the route at the step to 25 (-want +got sessionPersistence):\n%s", diff)
			}
		}
	}
	if !stepped {
		t.Errorf("no version of the route sent 25 to green; versions seen: %v", versions)
	}
	if n := len(versions); n == 0 || versions[n-1].weights != "blue 0 green 100" || versions[n-1].persistence != nil {
		t.Errorf("the last version of the route is not all to green without sessionPersistence; versions seen: %v", versions)
	}
}

// routeVersion is what a test compares of one version of a route.
type routeVersion struct {
	weights     string
	persistence map[string]any
}

// watchRoute watches the route from its current version on; the function
// it returns waits until the watch has delivered the route's version of
// that moment, stops it, and lists every version written since, in order.
func watchRoute(t *testing.T, dyn dynamic.Interface, ns, name string) func() []routeVersion {
	t.Helper()
	routes := dyn.Resource(httpRoutes).Namespace(ns)
	now, err := routes.Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := routes.Watch(t.Context(), metav1.ListOptions{
		FieldSelector: "metadata.name=" + name, ResourceVersion: now.GetResourceVersion(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		versions []routeVersion
		seen     = map[string]bool{now.GetResourceVersion(): true}
	)
	go func() {
		for ev := range w.ResultChan() {
			route, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
			p, _ := rules[0].(map[string]any)["sessionPersistence"].(map[string]any)
			mu.Lock()
			versions = append(versions, routeVersion{weightsOf(route, name), p})
			seen[route.GetResourceVersion()] = true
			mu.Unlock()
		}
	}()
	return func() []routeVersion {
		t.Helper()
		defer w.Stop()
		last, err := routes.Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// A hang guard, not a measure: the API server sends a watched
		// write at once.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			done := seen[last.GetResourceVersion()]
			out := slices.Clone(versions)
			mu.Unlock()
			if done {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("the watch of HTTPRoute %q never delivered version %s; versions seen: %v", name, last.GetResourceVersion(), out)
			}
		}
	}
}

// sessionPersistence reads the sessionPersistence of the route's first
// rule; nil when it has none.
func sessionPersistence(t *testing.T, dyn dynamic.Interface, ns, name string) map[string]any {
	t.Helper()
	route, err := dyn.Resource(httpRoutes).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	p, _ := rules[0].(map[string]any)["sessionPersistence"].(map[string]any)
	return p
}
