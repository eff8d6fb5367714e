package gateway_test

import (
	"context"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/gateway"
)

const app = "shop"

type plane struct {
	dyn  dynamic.Interface
	core coreclient.CoreV1Interface
	ns   string
}

func setup(t *testing.T) plane {
	t.Helper()
	cfg := kubetest.Config(t)
	return setupOn(t, cfg, kubetest.Namespace(t, cfg))
}

// setupOn is setup in namespace ns of the control plane cfg reaches.
func setupOn(t *testing.T, cfg *rest.Config, ns string) plane {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	core, err := coreclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return plane{dyn: dyn, core: core, ns: ns}
}

func (p plane) routes() dynamic.ResourceInterface {
	return p.dyn.Resource(gateway.HTTPRoutes).Namespace(p.ns)
}

// ref is a backendRef to Service name on port 8080; a nil weight is left
// out, as users often do.
func ref(name string, weight any) map[string]any {
	r := map[string]any{"name": name, "port": int64(8080)}
	if weight != nil {
		r["weight"] = int64(weight.(int))
	}
	return r
}

func rule(refs ...map[string]any) map[string]any {
	list := make([]any, len(refs))
	for i, r := range refs {
		list[i] = r
	}
	return map[string]any{
		"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/"}}},
		"backendRefs": list,
	}
}

// createRoute creates an HTTPRoute attached to a Gateway named "public"
// (which need not exist: nothing here reconciles routes).
func (p plane) createRoute(t *testing.T, name string, rules ...map[string]any) *unstructured.Unstructured {
	t.Helper()
	list := make([]any, len(rules))
	for i, r := range rules {
		list[i] = r
	}
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "HTTPRoute",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "public"}},
			"rules":      list,
		},
	}}
	created, err := p.routes().Create(t.Context(), route, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating HTTPRoute %q (are the Gateway API CRDs installed?): %v", name, err)
	}
	return created
}

func (p plane) getRoute(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	route, err := p.routes().Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return route
}

func (p plane) createService(t *testing.T, name string, port int32) {
	t.Helper()
	_, err := p.core.Services(p.ns).Create(t.Context(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app.kubernetes.io/name": app},
			Ports:    []corev1.ServicePort{{Port: port}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func (p plane) router(t *testing.T, route string, opts ...gateway.Option) *gateway.Router {
	t.Helper()
	r, err := gateway.New(gateway.Config{Client: p.dyn, Namespace: p.ns, Route: route, App: app}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// backend is what a test compares of a backendRef.
type backend struct {
	Name   string
	Port   int64
	Weight int64
}

// backends lists the backendRefs of each rule of the stored route.
func backends(t *testing.T, route *unstructured.Unstructured) [][]backend {
	t.Helper()
	rules, _, err := unstructured.NestedSlice(route.Object, "spec", "rules")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]backend
	for _, r := range rules {
		refs, _, _ := unstructured.NestedSlice(r.(map[string]any), "backendRefs")
		var got []backend
		for _, v := range refs {
			m := v.(map[string]any)
			b := backend{Name: m["name"].(string), Weight: -1}
			b.Port, _, _ = unstructured.NestedInt64(m, "port")
			if w, ok, _ := unstructured.NestedInt64(m, "weight"); ok {
				b.Weight = w
			}
			got = append(got, b)
		}
		out = append(out, got)
	}
	return out
}

// interfering wraps a dynamic client so that, just before the first
// Update, another writer changes the route through the real API server:
// the Update then meets a real Conflict.
type interfering struct {
	dynamic.Interface
	interfere func(context.Context) error
	updates   atomic.Int32
	failed    atomic.Value
}

func (c *interfering) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return interferingResource{c.Interface.Resource(gvr), c}
}

type interferingResource struct {
	dynamic.NamespaceableResourceInterface
	c *interfering
}

func (r interferingResource) Namespace(ns string) dynamic.ResourceInterface {
	return interferingNamespaced{r.NamespaceableResourceInterface.Namespace(ns), r.c}
}

type interferingNamespaced struct {
	dynamic.ResourceInterface
	c *interfering
}

func (n interferingNamespaced) Update(ctx context.Context, obj *unstructured.Unstructured, opts metav1.UpdateOptions, sub ...string) (*unstructured.Unstructured, error) {
	if n.c.updates.Add(1) == 1 {
		if err := n.c.interfere(ctx); err != nil {
			n.c.failed.Store(err)
		}
	}
	return n.ResourceInterface.Update(ctx, obj, opts, sub...)
}
