package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

var httpRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// TestBinaryGatewaySplitAndChart runs the built binary on the local plane
// with router gateway, as a GitHub Action: a deploy in traffic steps
// draws its traffic as a mermaid chart in the job summary; command split
// leaves the HTTPRoute at the asked weights with result split; rollback
// returns all traffic to the release that was live; a split at 50 is
// finished by command switch (red/black); sticky sessions are
// refused before any write, since the plane's HTTPRoute (the Gateway API
// standard channel) has no sessionPersistence.
func TestBinaryGatewaySplitAndChart(t *testing.T) {
	t.Parallel()
	admin := kubetest.Config(t)
	ns := kubetest.Namespace(t, admin)
	bin := buildBinary(t)
	dir := t.TempDir()
	dyn, err := dynamic.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	createRoute(t, dyn, ns, "cart")
	output, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	base := []string{"CI=true", "GITHUB_ACTIONS=true", "GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + summary,
		"BLUEGREEN_NAMESPACE=" + ns, "BLUEGREEN_KUBECONFIG=" + kubetest.KubeconfigPath(t),
		"BLUEGREEN_APP=cart", "BLUEGREEN_ROUTER=gateway", "BLUEGREEN_ROUTE=cart"}
	run := func(name string, want int, env ...string) (outputs map[string]string, md string) {
		t.Helper()
		for _, f := range []string{output, summary} {
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, stdout, stderr := runBinary(t, bin, dir, append(append([]string{}, base...), env...))
		if code != want {
			t.Fatalf("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, want, stdout, stderr)
		}
		b, err := os.ReadFile(summary)
		if err != nil {
			t.Fatal(err)
		}
		return readOutputs(t, output), string(b)
	}

	// The route names blue, which does not exist yet: the first release
	// goes to green and takes all traffic.
	run("first deploy", exitOK, "BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0", manifestFor(t, dir, "cart"))
	if got := weights(t, dyn, ns, "cart"); got != "blue 0 green 1" && got != "blue 0 green 100" {
		t.Fatalf("after the first deploy the route sends %s, want all to green", got)
	}

	_, md := run("deploy in steps", exitOK, "BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0",
		"BLUEGREEN_TRAFFIC_STEPS=25,100", "BLUEGREEN_TRAFFIC_STEP_PAUSE=100ms")
	for _, want := range []string{"```mermaid", "xychart-beta", "line [0, 25, 100]", "line [100, 75, 0]", "gantt", "switch traffic :"} {
		if !strings.Contains(md, want) {
			t.Errorf("the summary of a deploy in steps lacks %q:\n%s", want, md)
		}
	}

	outputs, md := run("split", exitOK, "BLUEGREEN_COMMAND=split", "BLUEGREEN_SPLIT_WEIGHT=30", "BLUEGREEN_IMAGE=registry.example.com/shop:3.0.0")
	if got := weights(t, dyn, ns, "cart"); got != "blue 70 green 30" {
		t.Errorf("after split 30 the route sends %s, want blue 70 green 30", got)
	}
	if outputs["result"] != "split" || outputs["active-color"] != "green" || outputs["image"] != "registry.example.com/shop:3.0.0" {
		t.Errorf("split outputs %q, want result split, active-color green, the new image", outputs)
	}
	if !strings.Contains(md, "line [100, 70]") {
		t.Errorf("the summary of the split does not draw blue going 100 -> 70:\n%s", md)
	}

	run("sticky on the standard channel", exitInput, "BLUEGREEN_COMMAND=split", "BLUEGREEN_SPLIT_WEIGHT=50",
		"BLUEGREEN_IMAGE=registry.example.com/shop:3.0.0", "BLUEGREEN_STICKY_DURATION=1h")
	if got := weights(t, dyn, ns, "cart"); got != "blue 70 green 30" {
		t.Errorf("a refused sticky split changed the route to %s", got)
	}

	outputs, _ = run("rollback", exitOK, "BLUEGREEN_COMMAND=rollback")
	if got := weights(t, dyn, ns, "cart"); got != "blue 100 green 0" {
		t.Errorf("after rolling back the split the route sends %s, want all to blue", got)
	}
	if outputs["result"] != "success" || outputs["active-color"] != "blue" || outputs["image"] != "registry.example.com/shop:2.0.0" {
		t.Errorf("rollback outputs %q, want success, blue, shop:2.0.0", outputs)
	}

	// Red/black: at 50/50 the weights cannot tell the new release from
	// the old; the history's split does, and switch finishes it.
	run("split 50", exitOK, "BLUEGREEN_COMMAND=split", "BLUEGREEN_SPLIT_WEIGHT=50", "BLUEGREEN_IMAGE=registry.example.com/shop:4.0.0")
	if got := weights(t, dyn, ns, "cart"); got != "blue 50 green 50" {
		t.Errorf("after split 50 the route sends %s", got)
	}
	outputs, _ = run("switch", exitOK, "BLUEGREEN_COMMAND=switch")
	if got := weights(t, dyn, ns, "cart"); got != "blue 0 green 100" {
		t.Errorf("after the switch the route sends %s, want all to green, the split's release", got)
	}
	if outputs["result"] != "success" || outputs["active-color"] != "green" || outputs["image"] != "registry.example.com/shop:4.0.0" {
		t.Errorf("switch outputs %q, want success, green, shop:4.0.0", outputs)
	}
}

// createRoute makes HTTPRoute name with one rule sending to <name>-blue.
func createRoute(t *testing.T, dyn dynamic.Interface, ns, name string) {
	t.Helper()
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "public"}},
			"rules": []any{map[string]any{"backendRefs": []any{
				map[string]any{"name": name + "-blue", "port": int64(80), "weight": int64(1)},
			}}},
		},
	}}
	if _, err := dyn.Resource(httpRoutes).Namespace(ns).Create(t.Context(), route, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// weights reads the backendRef weights of the route's first rule.
func weights(t *testing.T, dyn dynamic.Interface, ns, name string) string {
	t.Helper()
	route, err := dyn.Resource(httpRoutes).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return weightsOf(route, name)
}

// weightsOf tells the backendRef weights of route's first rule, which
// sends to the Services <name>-blue and <name>-green.
func weightsOf(route *unstructured.Unstructured, name string) string {
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	refs, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
	w := map[string]int64{}
	for _, r := range refs {
		m := r.(map[string]any)
		v, found, _ := unstructured.NestedInt64(m, "weight")
		if !found {
			v = 1
		}
		w[m["name"].(string)] = v
	}
	return fmt.Sprintf("blue %d green %d", w[name+"-blue"], w[name+"-green"])
}
