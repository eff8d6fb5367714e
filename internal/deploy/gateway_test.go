package deploy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen-dev/bluegreen-action/internal/report"
)

var httpRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// routeWeights returns the weights of shop-blue and shop-green in the
// HTTPRoute's first rule.
func (g *ground) routeWeights(dyn dynamic.Interface) map[string]int64 {
	g.t.Helper()
	route, err := dyn.Resource(httpRoutes).Namespace(g.ns).Get(g.t.Context(), "shop", metav1.GetOptions{})
	if err != nil {
		g.t.Fatal(err)
	}
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	refs, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
	out := map[string]int64{}
	for _, r := range refs {
		m := r.(map[string]any)
		w, found, _ := unstructured.NestedInt64(m, "weight")
		if !found {
			w = 1
		}
		out[m["name"].(string)] = w
	}
	return out
}

// TestGatewayDeploy runs the deploy with router gateway: the HTTPRoute's
// weights move to the new color's Service, in steps, and the preview
// Service points at the new color before that.
func TestGatewayDeploy(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first() // colors and Services exist; the Service router made blue live
	dyn, err := dynamic.NewForConfig(g.rc)
	if err != nil {
		t.Fatal(err)
	}
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "shop"},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "public"}},
			"rules": []any{map[string]any{"backendRefs": []any{
				map[string]any{"name": "shop-blue", "port": int64(80), "weight": int64(1)},
			}}},
		},
	}}
	if _, err := dyn.Resource(httpRoutes).Namespace(g.ns).Create(t.Context(), route, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	r := g.exec(t.Context(), map[string]string{
		"IMAGE": v2, "ROUTER": "gateway", "ROUTE": "shop", "TRAFFIC_STEPS": "25,100", "TRAFFIC_STEP_PAUSE": "100ms",
	}, nil).mustSucceed(t)
	if got := g.routeWeights(dyn); got["shop-green"] == 0 || got["shop-blue"] != 0 {
		t.Errorf("route weights %v, want all on shop-green", got)
	}
	if r.res.ActiveColor != "green" {
		t.Errorf("active color %q, want green", r.res.ActiveColor)
	}
	contains(t, r.log.String(), "25% of traffic on green")

	r = g.exec(t.Context(), map[string]string{"COMMAND": "rollback", "ROUTER": "gateway", "ROUTE": "shop"}, nil).mustSucceed(t)
	if got := g.routeWeights(dyn); got["shop-blue"] == 0 || got["shop-green"] != 0 {
		t.Errorf("after rollback route weights %v, want all on shop-blue", got)
	}
}

// TestVerifyGatesTheSwitch checks the preview route before the switch: a
// release whose check never passes is not switched to, and one whose
// check passes is.
func TestVerifyGatesTheSwitch(t *testing.T) {
	t.Parallel()
	g := newGround(t)
	g.first()
	_, rv := g.selector("shop")

	var healthy atomic.Bool
	var hits atomic.Int32
	preview := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		if !healthy.Load() {
			http.Error(w, "migrations pending", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer preview.Close()

	r := g.exec(t.Context(), map[string]string{"IMAGE": v2, "VERIFY_URL": preview.URL, "VERIFY_TIMEOUT": "300ms"}, nil)
	if r.err == nil {
		t.Fatalf("deploy whose verification never passed succeeded:\n%s", r.log)
	}
	if r.res.Outcome != report.Failed || !strings.Contains(r.err.Error(), "503") {
		t.Errorf("outcome %s, error %v; want failed naming the 503", r.res.Outcome, r.err)
	}
	if sel, rv2 := g.selector("shop"); sel != "blue" || rv2 != rv {
		t.Errorf("Service shop = %s@%s, want untouched blue@%s", sel, rv2, rv)
	}
	if sel, _ := g.selector("shop-preview"); sel != "green" {
		t.Errorf("preview selects %q, want green (the color under test)", sel)
	}
	if hits.Load() == 0 {
		t.Fatal("the verify URL was never requested")
	}

	healthy.Store(true)
	g.exec(t.Context(), map[string]string{"IMAGE": v2, "VERIFY_URL": preview.URL, "VERIFY_TIMEOUT": "5s"}, nil).mustSucceed(t)
	if sel, _ := g.selector("shop"); sel != "green" {
		t.Errorf("after a passing verification Service shop selects %q, want green", sel)
	}
}
