package gateway_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/gateway"
)

// setResolvedRefs writes the status a Gateway controller would: parent
// "public" reports ResolvedRefs with the given status, observed at the
// route's generation plus lag (negative: a stale condition).
func (p plane) setResolvedRefs(t *testing.T, name, status string, lag int64) {
	t.Helper()
	route := p.getRoute(t, name)
	cond := map[string]any{
		"type":               "ResolvedRefs",
		"status":             status,
		"reason":             "BackendNotFound",
		"message":            "Service shop-green not found",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		"observedGeneration": route.GetGeneration() + lag,
	}
	if status == "True" {
		cond["reason"], cond["message"] = "ResolvedRefs", "all references resolved"
	}
	parents := []any{map[string]any{
		"parentRef":      map[string]any{"name": "public"},
		"controllerName": "example.com/gateway-controller",
		"conditions":     []any{cond},
	}}
	if err := unstructured.SetNestedSlice(route.Object, parents, "status", "parents"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.routes().UpdateStatus(t.Context(), route, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("writing route status: %v", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.createService(t, "shop-blue", 8080)
	p.createService(t, "shop-green", 9999) // not the port the route uses

	cases := []struct {
		name     string
		services bool // whether the router gets a core client
		status   string
		lag      int64
		color    color.Color
		wantErr  string // "" for success
		unsupp   bool   // want errors.ErrUnsupported
	}{
		{name: "no core client", color: color.Blue, unsupp: true, wantErr: "no core client"},
		{name: "service ready", services: true, color: color.Blue},
		{name: "resolved", services: true, status: "True", color: color.Blue},
		{name: "unresolved", services: true, status: "False", color: color.Blue,
			wantErr: `Gateway "public" cannot resolve its backendRefs (BackendNotFound): Service shop-green not found`},
		{name: "unresolved without core client", status: "False", color: color.Blue, wantErr: "cannot resolve"},
		{name: "stale unresolved", services: true, status: "False", lag: -1, color: color.Blue},
		{name: "wrong port", services: true, color: color.Green,
			wantErr: `service "shop-green" has no port 8080`},
		{name: "unknown color", services: true, color: color.None, wantErr: "unknown color"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := strings.ReplaceAll(tc.name, " ", "-")
			p.createRoute(t, name, rule(ref("shop-blue", nil)))
			if tc.lag < 0 {
				// Bump the generation so that the status written below is
				// one generation behind.
				route := p.getRoute(t, name)
				_ = unstructured.SetNestedStringSlice(route.Object, []string{"shop.example"}, "spec", "hostnames")
				if _, err := p.routes().Update(t.Context(), route, metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.status != "" {
				p.setResolvedRefs(t, name, tc.status, tc.lag)
			}
			cfg := gateway.Config{Client: p.dyn, Namespace: p.ns, Route: name, App: app}
			if tc.services {
				cfg.ServicesClient = p.core
			}
			r, err := gateway.New(cfg)
			if err != nil {
				t.Fatal(err)
			}

			err = r.Verify(t.Context(), tc.color)
			if got := errors.Is(err, errors.ErrUnsupported); got != tc.unsupp {
				t.Errorf("Verify = %v: wraps errors.ErrUnsupported = %t, want %t", err, got, tc.unsupp)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Verify: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Verify = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestVerifyMissingService(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.createRoute(t, "shop", rule(ref("shop-blue", nil)))
	r, err := gateway.New(gateway.Config{Client: p.dyn, Namespace: p.ns, Route: "shop", App: app, ServicesClient: p.core})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Verify(t.Context(), color.Green)
	want := `no Service "shop-green" in namespace "` + p.ns + `"`
	if err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Verify = %v, want an error containing %q", err, want)
	}
}
