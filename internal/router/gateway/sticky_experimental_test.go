package gateway_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/gateway"
)

// TestSessionPersistenceOnTheExperimentalChannel runs on a control plane
// of its own whose HTTPRoute CRD is the Gateway API experimental
// channel's, the one that has sessionPersistence: the shared plane keeps
// the standard channel, and CRDs are cluster-scoped. It checks what that
// API server really accepts and stores, not what the router means to
// write.
func TestSessionPersistenceOnTheExperimentalChannel(t *testing.T) {
	t.Parallel()
	own := kubetest.StartPlane(t, kubetest.PlaneOptions{Gateway: kubetest.Experimental})

	t.Run("check accepts the field and stores nothing", func(t *testing.T) {
		t.Parallel()
		p := setupOn(t, own.Config, own.Namespace(t))
		p.createRoute(t, "shop", rule(ref("shop-blue", 1)))
		before := p.getRoute(t, "shop")
		if err := p.router(t, "shop", gateway.WithSessionPersistence(time.Hour)).CheckSessionPersistence(t.Context()); err != nil {
			t.Fatalf("CheckSessionPersistence on the experimental channel: %v", err)
		}
		after := p.getRoute(t, "shop")
		if before.GetResourceVersion() != after.GetResourceVersion() {
			t.Errorf("the check wrote the route (resourceVersion %s -> %s)", before.GetResourceVersion(), after.GetResourceVersion())
		}
		if got := persistenceOf(t, after); got[0] != nil {
			t.Errorf("the check left sessionPersistence %v on the route", got[0])
		}
	})

	// Every duration sticky-duration accepts (whole seconds, 1s to 168h)
	// is written in a form the CRD's pattern takes.
	t.Run("durations the CRD takes", func(t *testing.T) {
		t.Parallel()
		p := setupOn(t, own.Config, own.Namespace(t))
		p.createRoute(t, "shop", rule(ref("shop-blue", 1)))
		for _, d := range []time.Duration{time.Second, 59 * time.Second, 90 * time.Second, time.Hour, 3661 * time.Second, 99999 * time.Second, 168*time.Hour - time.Second, 168 * time.Hour} {
			if err := p.router(t, "shop", gateway.WithSessionPersistence(d)).CheckSessionPersistence(t.Context()); err != nil {
				t.Errorf("sticky for %s: %v", d, err)
			}
		}
	})

	t.Run("split, read back, idempotent, switch", func(t *testing.T) {
		t.Parallel()
		p := setupOn(t, own.Config, own.Namespace(t))
		p.createRoute(t, "shop",
			rule(ref("shop-blue", 1)),
			map[string]any{
				"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/api"}}},
				"backendRefs": []any{ref("shop-blue", nil)},
			})
		split := router.Weights{color.Blue: 90, color.Green: 10}
		sticky := gateway.WithSessionPersistence(90 * time.Minute)
		if err := p.router(t, "shop", sticky).Set(t.Context(), split); err != nil {
			t.Fatalf("a sticky split: %v", err)
		}
		stored := p.getRoute(t, "shop")
		want := map[string]any{"type": "Cookie", "absoluteTimeout": "1h30m", "cookieConfig": map[string]any{"lifetimeType": "Permanent"}}
		for i, got := range persistenceOf(t, stored) {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rule %d's sessionPersistence as the API server stored it (-want +got):\n%s", i, diff)
			}
		}

		// A router made afresh reads the split back and finds nothing to
		// write: what the API server stored is what it asks for.
		fresh := p.router(t, "shop", sticky)
		if got, err := fresh.Read(t.Context()); err != nil || got[color.Blue] != 90 || got[color.Green] != 10 {
			t.Fatalf("reading the sticky split back = %v, %v; want blue 90 green 10", got, err)
		}
		if err := fresh.Set(t.Context(), split); err != nil {
			t.Fatal(err)
		}
		if got := p.getRoute(t, "shop").GetResourceVersion(); got != stored.GetResourceVersion() {
			t.Errorf("setting the same sticky split again wrote the route (resourceVersion %s -> %s)", stored.GetResourceVersion(), got)
		}

		// Another duration is written over the one stored.
		if err := p.router(t, "shop", gateway.WithSessionPersistence(2*time.Hour)).Set(t.Context(), split); err != nil {
			t.Fatal(err)
		}
		for i, got := range persistenceOf(t, p.getRoute(t, "shop")) {
			if got["absoluteTimeout"] != "2h" {
				t.Errorf("rule %d after a split sticky for 2h: sessionPersistence %v", i, got)
			}
		}

		// All traffic to one color: no client may stay on the other.
		if err := p.router(t, "shop", sticky).Set(t.Context(), router.All(color.Green)); err != nil {
			t.Fatal(err)
		}
		switched := p.getRoute(t, "shop")
		for i, got := range persistenceOf(t, switched) {
			if got != nil {
				t.Errorf("rule %d after the full switch keeps sessionPersistence %v", i, got)
			}
		}
		for i, got := range backends(t, switched) {
			if want := []backend{{"shop-blue", 8080, 0}, {"shop-green", 8080, 100}}; !cmp.Equal(got, want) {
				t.Errorf("after the full switch rule %d sends to %v, want %v", i, got, want)
			}
		}
	})

	// The owner may name the session (its cookie); a sticky split keeps
	// the name.
	t.Run("the owner's session name is kept", func(t *testing.T) {
		t.Parallel()
		p := setupOn(t, own.Config, own.Namespace(t))
		r := rule(ref("shop-blue", 1))
		r["sessionPersistence"] = map[string]any{"sessionName": "shop-session"}
		p.createRoute(t, "shop", r)
		if err := p.router(t, "shop", gateway.WithSessionPersistence(time.Hour)).Set(t.Context(), router.Weights{color.Blue: 80, color.Green: 20}); err != nil {
			t.Fatal(err)
		}
		got := persistenceOf(t, p.getRoute(t, "shop"))[0]
		want := map[string]any{"type": "Cookie", "sessionName": "shop-session", "absoluteTimeout": "1h", "cookieConfig": map[string]any{"lifetimeType": "Permanent"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sessionPersistence after a sticky split (-want +got):\n%s", diff)
		}
	})

	// Without sticky-duration the router leaves a sessionPersistence set
	// on the route by its owner as it is, and the API server keeps it.
	t.Run("the owner's own persistence is kept", func(t *testing.T) {
		t.Parallel()
		p := setupOn(t, own.Config, own.Namespace(t))
		r := rule(ref("shop-blue", 1))
		r["sessionPersistence"] = map[string]any{"type": "Header", "sessionName": "x-shop-session"}
		p.createRoute(t, "shop", r)
		if err := p.router(t, "shop").Set(t.Context(), router.Weights{color.Blue: 50, color.Green: 50}); err != nil {
			t.Fatal(err)
		}
		got := persistenceOf(t, p.getRoute(t, "shop"))[0]
		if want := map[string]any{"type": "Header", "sessionName": "x-shop-session"}; !cmp.Equal(got, want) {
			t.Errorf("the owner's sessionPersistence became %v, want %v", got, want)
		}
	})

	// The run that ends a split need not repeat sticky-duration: the
	// persistence bluegreen wrote goes at any full switch, or clients
	// holding the cookie would stay on the color left at weight 0.
	t.Run("a switch without sticky-duration removes bluegreen's own", func(t *testing.T) {
		t.Parallel()
		p := setupOn(t, own.Config, own.Namespace(t))
		p.createRoute(t, "shop", rule(ref("shop-blue", 1)), rule(ref("shop-blue", 1)))
		if err := p.router(t, "shop", gateway.WithSessionPersistence(time.Hour)).Set(t.Context(), router.Weights{color.Blue: 70, color.Green: 30}); err != nil {
			t.Fatal(err)
		}
		if got := p.getRoute(t, "shop").GetAnnotations()[gateway.PersistenceAnnotation]; got == "" {
			t.Errorf("a sticky split left no %s annotation", gateway.PersistenceAnnotation)
		}
		plain := p.router(t, "shop")
		if err := plain.Set(t.Context(), router.All(color.Blue)); err != nil {
			t.Fatal(err)
		}
		switched := p.getRoute(t, "shop")
		for i, got := range persistenceOf(t, switched) {
			if got != nil {
				t.Errorf("rule %d after a switch without sticky-duration keeps sessionPersistence %v", i, got)
			}
		}
		if got, ok := switched.GetAnnotations()[gateway.PersistenceAnnotation]; ok {
			t.Errorf("the %s annotation is left after the switch: %q", gateway.PersistenceAnnotation, got)
		}
		if err := plain.Set(t.Context(), router.All(color.Blue)); err != nil {
			t.Fatal(err)
		}
		if got := p.getRoute(t, "shop").GetResourceVersion(); got != switched.GetResourceVersion() {
			t.Errorf("setting the same switch again wrote the route (resourceVersion %s -> %s)", switched.GetResourceVersion(), got)
		}
	})

	// What the owner set, or edited since bluegreen wrote it, is the
	// owner's: a switch without sticky-duration leaves it, as a split
	// without it does.
	t.Run("a switch without sticky-duration keeps the owner's", func(t *testing.T) {
		t.Parallel()
		p := setupOn(t, own.Config, own.Namespace(t))
		owners := rule(ref("shop-blue", 1))
		owners["sessionPersistence"] = map[string]any{"type": "Header", "sessionName": "x-shop-session"}
		p.createRoute(t, "shop", owners)
		plain := p.router(t, "shop")
		for _, w := range []router.Weights{{color.Blue: 50, color.Green: 50}, router.All(color.Green)} {
			if err := plain.Set(t.Context(), w); err != nil {
				t.Fatal(err)
			}
			if got, want := persistenceOf(t, p.getRoute(t, "shop"))[0], owners["sessionPersistence"]; !cmp.Equal(got, want) {
				t.Errorf("after setting %s the owner's sessionPersistence became %v, want %v", w, got, want)
			}
		}

		// A sticky split writes every rule's; the owner then edits that
		// rule's and adds two rules: one with a persistence of its own,
		// one carrying bluegreen's, as a copied rule would. Ownership is
		// told by value, not by a rule's place.
		if err := p.router(t, "shop", gateway.WithSessionPersistence(time.Hour)).Set(t.Context(), router.Weights{color.Blue: 40, color.Green: 60}); err != nil {
			t.Fatal(err)
		}
		route := p.getRoute(t, "shop")
		rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
		edited := map[string]any{"type": "Cookie", "absoluteTimeout": "10m", "cookieConfig": map[string]any{"lifetimeType": "Permanent"}}
		rules[0].(map[string]any)["sessionPersistence"] = edited
		added := rule(ref("shop-blue", 40), ref("shop-green", 60))
		added["matches"] = []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/cart"}}}
		added["sessionPersistence"] = map[string]any{"type": "Header", "sessionName": "x-cart"}
		rules = append(rules, added, rule(ref("shop-blue", 40), ref("shop-green", 60)))
		rules[2].(map[string]any)["matches"] = []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/api"}}}
		rules[2].(map[string]any)["sessionPersistence"] = persistenceOf(t, route)[0]
		if err := unstructured.SetNestedSlice(route.Object, rules, "spec", "rules"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.routes().Update(t.Context(), route, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}

		if err := plain.Set(t.Context(), router.All(color.Green)); err != nil {
			t.Fatal(err)
		}
		got := persistenceOf(t, p.getRoute(t, "shop"))
		want := []map[string]any{edited, {"type": "Header", "sessionName": "x-cart"}, nil}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sessionPersistence of each rule after the switch (-want +got): the owner's stays, bluegreen's goes:\n%s", diff)
		}
	})

	// A switch whose bake fails is reverted by the same router: the split
	// comes back with the persistence the switch removed.
	t.Run("a reverted switch puts bluegreen's back", func(t *testing.T) {
		t.Parallel()
		p := setupOn(t, own.Config, own.Namespace(t))
		named := rule(ref("shop-blue", 1))
		named["sessionPersistence"] = map[string]any{"sessionName": "shop-session"}
		p.createRoute(t, "shop", named, rule(ref("shop-blue", 1)))
		split := router.Weights{color.Blue: 60, color.Green: 40}
		if err := p.router(t, "shop", gateway.WithSessionPersistence(time.Hour)).Set(t.Context(), split); err != nil {
			t.Fatal(err)
		}
		before := p.getRoute(t, "shop")
		r := p.router(t, "shop")
		if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
			t.Fatal(err)
		}
		if got := persistenceOf(t, p.getRoute(t, "shop")); got[0] != nil || got[1] != nil {
			t.Fatalf("the switch left sessionPersistence %v", got)
		}
		if err := r.Set(t.Context(), split); err != nil {
			t.Fatal(err)
		}
		after := p.getRoute(t, "shop")
		if diff := cmp.Diff(persistenceOf(t, before), persistenceOf(t, after)); diff != "" {
			t.Errorf("sessionPersistence after reverting to the split (-before the switch +after):\n%s", diff)
		}
		if got, want := after.GetAnnotations()[gateway.PersistenceAnnotation], before.GetAnnotations()[gateway.PersistenceAnnotation]; got != want {
			t.Errorf("annotation %s after the revert = %q, want %q", gateway.PersistenceAnnotation, got, want)
		}

		// A router that removed nothing writes a split as read.
		if err := r.Set(t.Context(), router.All(color.Blue)); err != nil {
			t.Fatal(err)
		}
		if err := p.router(t, "shop").Set(t.Context(), split); err != nil {
			t.Fatal(err)
		}
		if got := persistenceOf(t, p.getRoute(t, "shop")); got[0] != nil || got[1] != nil {
			t.Errorf("a split by a router that removed nothing wrote sessionPersistence %v", got)
		}
	})
}

// persistenceOf lists each rule's sessionPersistence; nil where it has none.
func persistenceOf(t *testing.T, route *unstructured.Unstructured) []map[string]any {
	t.Helper()
	rules, _, err := unstructured.NestedSlice(route.Object, "spec", "rules")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(rules))
	for i, r := range rules {
		out[i], _ = r.(map[string]any)["sessionPersistence"].(map[string]any)
	}
	return out
}
