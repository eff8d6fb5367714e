package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/gateway"
)

// offline is a client for tests that must fail before any request: its
// server does not exist.
func offline(t *testing.T) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	dyn := offline(t)
	cases := []struct {
		name string
		cfg  gateway.Config
	}{
		{name: "no client", cfg: gateway.Config{Namespace: "shop", Route: "shop", App: app}},
		{name: "no namespace", cfg: gateway.Config{Client: dyn, Route: "shop", App: app}},
		{name: "no route", cfg: gateway.Config{Client: dyn, Namespace: "shop", App: app}},
		{name: "no app", cfg: gateway.Config{Client: dyn, Namespace: "shop", Route: "shop"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := gateway.New(tc.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestSetRejectsBadWeights(t *testing.T) {
	t.Parallel()
	r, err := gateway.New(gateway.Config{Client: offline(t), Namespace: "shop", Route: "shop", App: app})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		w    router.Weights
		want string
	}{
		{name: "short of 100", w: router.Weights{color.Blue: 50, color.Green: 40}, want: "add up to 90%"},
		{name: "nothing", w: router.Weights{}, want: "add up to 0%"},
		{name: "negative", w: router.Weights{color.Blue: -10, color.Green: 110}, want: "not a percentage"},
		{name: "unknown color", w: router.Weights{color.None: 100}, want: "unknown color"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := r.Set(t.Context(), tc.w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Set(%v) = %v, want an error containing %q", tc.w, err, tc.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	p := setup(t)
	cases := []struct {
		name    string
		rules   []map[string]any // nil: no route at all
		want    router.Weights
		wantErr string
	}{
		{name: "weight absent", rules: []map[string]any{rule(ref("shop-blue", nil))},
			want: router.Weights{color.Blue: 100, color.Green: 0}},
		{name: "all green", rules: []map[string]any{rule(ref("shop-blue", 0), ref("shop-green", 100))},
			want: router.Weights{color.Blue: 0, color.Green: 100}},
		{name: "weights normalised", rules: []map[string]any{rule(ref("shop-blue", 1), ref("shop-green", 3))},
			want: router.Weights{color.Blue: 25, color.Green: 75}},
		{name: "weights rounded", rules: []map[string]any{rule(ref("shop-blue", 1), ref("shop-green", 2))},
			want: router.Weights{color.Blue: 33, color.Green: 67}},
		{name: "no traffic", rules: []map[string]any{rule(ref("shop-blue", 0), ref("shop-green", 0))},
			want: router.Weights{color.Blue: 0, color.Green: 0}},
		{name: "rules agree", rules: []map[string]any{
			rule(ref("shop-blue", 1), ref("shop-green", 1)),
			rule(ref("shop-blue", 500), ref("shop-green", 500)),
		}, want: router.Weights{color.Blue: 50, color.Green: 50}},
		{name: "other backends ignored", rules: []map[string]any{rule(ref("shop-green", 3), ref("mirror", 1))},
			want: router.Weights{color.Blue: 0, color.Green: 100}},
		{name: "rule without app backends", rules: []map[string]any{
			rule(ref("shop-blue", nil)),
			rule(ref("billing", nil)),
		}, wantErr: `rule 1 sends to neither Service "shop-blue" nor "shop-green"`},
		{name: "another app's services", rules: []map[string]any{rule(ref("shop2-blue", nil))},
			wantErr: "sends to neither"},
		{name: "service in another namespace", rules: []map[string]any{
			rule(map[string]any{"name": "shop-blue", "namespace": "elsewhere", "port": int64(8080)}),
		}, wantErr: "sends to neither"},
		{name: "rules disagree", rules: []map[string]any{
			rule(ref("shop-blue", 1)),
			rule(ref("shop-green", 1)),
		}, wantErr: "rule 1 sends blue 0% / green 100% but rule 0 sends blue 100% / green 0%"},
		{name: "missing", wantErr: `HTTPRoute "missing" not found in namespace "` + p.ns + `": create it`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := strings.ReplaceAll(tc.name, " ", "-")
			name = strings.ReplaceAll(name, "'", "")
			if tc.rules != nil {
				p.createRoute(t, name, tc.rules...)
			}
			got, err := p.router(t, name).Read(t.Context())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.createRoute(t, "shop", rule(ref("shop-blue", nil)))
	r := p.router(t, "shop")

	steps := []struct {
		name  string
		w     router.Weights
		want  []backend
		write bool // whether the step changes the stored route
	}{
		{name: "all to green", w: router.All(color.Green), write: true,
			want: []backend{{"shop-blue", 8080, 0}, {"shop-green", 8080, 100}}},
		{name: "again", w: router.All(color.Green), write: false,
			want: []backend{{"shop-blue", 8080, 0}, {"shop-green", 8080, 100}}},
		{name: "split", w: router.Weights{color.Blue: 10, color.Green: 90}, write: true,
			want: []backend{{"shop-blue", 8080, 10}, {"shop-green", 8080, 90}}},
		{name: "back to blue", w: router.All(color.Blue), write: true,
			want: []backend{{"shop-blue", 8080, 100}, {"shop-green", 8080, 0}}},
	}
	// Steps run in order on one route: no t.Parallel inside.
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			before := p.getRoute(t, "shop").GetResourceVersion()
			if err := r.Set(t.Context(), tc.w); err != nil {
				t.Fatalf("Set(%s): %v", tc.w, err)
			}
			route := p.getRoute(t, "shop")
			if diff := cmp.Diff([][]backend{tc.want}, backends(t, route)); diff != "" {
				t.Errorf("backendRefs (-want +got):\n%s", diff)
			}
			if got := route.GetResourceVersion() != before; got != tc.write {
				t.Errorf("route written = %t, want %t", got, tc.write)
			}
			got, err := r.Read(t.Context())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tc.w, got); diff != "" {
				t.Errorf("Read after Set (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetKeepsRuleAndRefFields(t *testing.T) {
	t.Parallel()
	p := setup(t)
	filtered := ref("shop-blue", nil)
	filtered["filters"] = []any{map[string]any{
		"type":                  "RequestHeaderModifier",
		"requestHeaderModifier": map[string]any{"set": []any{map[string]any{"name": "X-Color", "value": "blue"}}},
	}}
	api := rule(filtered, ref("legacy", 1))
	api["matches"] = []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/api"}}}
	web := rule(map[string]any{"name": "shop-blue", "port": int64(9090)})
	p.createRoute(t, "shop", api, web)

	if err := p.router(t, "shop").Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatalf("Set: %v", err)
	}
	route := p.getRoute(t, "shop")
	want := [][]backend{
		// The ref to "legacy" goes: the rule now sends to exactly the two colors.
		{{"shop-blue", 8080, 0}, {"shop-green", 8080, 100}},
		// The new green ref takes its port from blue's, per rule.
		{{"shop-blue", 9090, 0}, {"shop-green", 9090, 100}},
	}
	if diff := cmp.Diff(want, backends(t, route)); diff != "" {
		t.Errorf("backendRefs (-want +got):\n%s", diff)
	}
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	first := rules[0].(map[string]any)
	if got, _, _ := unstructured.NestedSlice(first, "matches"); !cmp.Equal(api["matches"], got) {
		t.Errorf("matches of rule 0 = %v, want %v", got, api["matches"])
	}
	refs := first["backendRefs"].([]any)
	if _, ok := refs[0].(map[string]any)["filters"]; !ok {
		t.Error("blue's filters were dropped")
	}
	if _, ok := refs[1].(map[string]any)["filters"]; ok {
		t.Error("green was given blue's filters")
	}
}

func TestSetRefusesRuleWithoutAppBackends(t *testing.T) {
	t.Parallel()
	p := setup(t)
	before := p.createRoute(t, "shop", rule(ref("shop-blue", nil)), rule(ref("billing", nil))).GetResourceVersion()
	err := p.router(t, "shop").Set(t.Context(), router.All(color.Green))
	if err == nil || !strings.Contains(err.Error(), "rule 1 sends to neither") {
		t.Errorf("Set = %v, want an error naming rule 1", err)
	}
	if got := p.getRoute(t, "shop").GetResourceVersion(); got != before {
		t.Errorf("route written (resourceVersion %s -> %s), want untouched", before, got)
	}
}

func TestSetDryRun(t *testing.T) {
	t.Parallel()
	p := setup(t)
	before := p.createRoute(t, "shop", rule(ref("shop-blue", nil)))
	if err := p.router(t, "shop", gateway.WithDryRun(true)).Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatalf("dry-run Set: %v", err)
	}
	after := p.getRoute(t, "shop")
	if got, want := after.GetResourceVersion(), before.GetResourceVersion(); got != want {
		t.Errorf("resourceVersion = %s, want %s (unchanged)", got, want)
	}
	if diff := cmp.Diff(backends(t, before), backends(t, after)); diff != "" {
		t.Errorf("backendRefs changed by a dry run (-before +after):\n%s", diff)
	}
}

func TestSetConcurrentChange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// change is what another writer does between Set's read and write.
		change    func(route *unstructured.Unstructured)
		wantErr   error
		wantRefs  [][]backend
		wantLabel bool
	}{
		{
			name: "elsewhere in the route: retried",
			change: func(route *unstructured.Unstructured) {
				route.SetLabels(map[string]string{"team": "payments"})
			},
			wantRefs:  [][]backend{{{"shop-blue", 8080, 0}, {"shop-green", 8080, 100}}},
			wantLabel: true,
		},
		{
			name: "in the rules: not overwritten",
			change: func(route *unstructured.Unstructured) {
				rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
				rules[0].(map[string]any)["backendRefs"] = []any{ref("shop-blue", 50), ref("shop-green", 50)}
				_ = unstructured.SetNestedSlice(route.Object, rules, "spec", "rules")
			},
			wantErr:  router.ErrConflict,
			wantRefs: [][]backend{{{"shop-blue", 8080, 50}, {"shop-green", 8080, 50}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			p.createRoute(t, "shop", rule(ref("shop-blue", nil)))
			client := &interfering{Interface: p.dyn, interfere: func(ctx context.Context) error {
				route, err := p.routes().Get(ctx, "shop", metav1.GetOptions{})
				if err != nil {
					return err
				}
				tc.change(route)
				_, err = p.routes().Update(ctx, route, metav1.UpdateOptions{})
				return err
			}}
			r, err := gateway.New(gateway.Config{Client: client, Namespace: p.ns, Route: "shop", App: app})
			if err != nil {
				t.Fatal(err)
			}

			err = r.Set(t.Context(), router.All(color.Green))
			if failed := client.failed.Load(); failed != nil {
				t.Fatalf("interfering write: %v", failed)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Set = %v, want %v", err, tc.wantErr)
			}
			if got, want := client.updates.Load(), int32(2); tc.wantErr == nil && got != want {
				t.Errorf("Updates sent = %d, want %d (one Conflict, one retry)", got, want)
			}
			route := p.getRoute(t, "shop")
			if diff := cmp.Diff(tc.wantRefs, backends(t, route)); diff != "" {
				t.Errorf("backendRefs (-want +got):\n%s", diff)
			}
			if got := route.GetLabels()["team"] == "payments"; got != tc.wantLabel {
				t.Errorf("other writer's label kept = %t, want %t", got, tc.wantLabel)
			}
		})
	}
}
