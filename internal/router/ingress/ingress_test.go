package ingress_test

import (
	"errors"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/ingress"
)

const app = "shop"

func backend(svc string) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"},
	}}
}

func path(p, svc string) networkingv1.HTTPIngressPath {
	pt := networkingv1.PathTypePrefix
	return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: backend(svc)}
}

// newIngress makes an Ingress with a default backend and two hosts: the
// app's paths name svc, /api names a Service of another team.
func newIngress(name, svc string) *networkingv1.Ingress {
	def := backend(svc)
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.IngressSpec{
			DefaultBackend: &def,
			Rules: []networkingv1.IngressRule{
				{Host: "shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{path("/", svc), path("/api", "payments")},
				}}},
				{Host: "www.shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{path("/", svc)},
				}}},
			},
		},
	}
}

func services(ing *networkingv1.Ingress) []string {
	out := []string{ing.Spec.DefaultBackend.Service.Name}
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			out = append(out, p.Backend.Service.Name)
		}
	}
	return out
}

// TestSwitchOnThePlane reads and switches the backends of a real Ingress:
// every backend of the app's colors moves, the other team's backend stays,
// a second Set writes nothing, and a dry run stores nothing.
func TestSwitchOnThePlane(t *testing.T) {
	t.Parallel()
	cfg := kubetest.Config(t)
	ns := kubetest.Namespace(t, cfg)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ings := cs.NetworkingV1().Ingresses(ns)
	if _, err := ings.Create(t.Context(), newIngress("shop", "shop-blue"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := ingress.New(ingress.Config{Client: cs.NetworkingV1(), Namespace: ns, Name: "shop", App: app})
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Live(); got != color.Blue {
		t.Fatalf("live color %s, want blue", got)
	}

	dry, err := ingress.New(ingress.Config{Client: cs.NetworkingV1(), Namespace: ns, Name: "shop", App: app}, ingress.WithDryRun(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := dry.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if w, _ := r.Read(t.Context()); w.Live() != color.Blue {
		t.Fatalf("a dry run moved traffic: %s", w)
	}

	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	got, err := ings.Get(t.Context(), "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"shop-green", "shop-green", "payments", "shop-green"}
	if s := services(got); strings.Join(s, ",") != strings.Join(want, ",") {
		t.Errorf("backends after the switch %v, want %v", s, want)
	}
	rv := got.ResourceVersion
	if err := r.Set(t.Context(), router.All(color.Green)); err != nil {
		t.Fatal(err)
	}
	if again, _ := ings.Get(t.Context(), "shop", metav1.GetOptions{}); again.ResourceVersion != rv {
		t.Errorf("a Set to the live color wrote the Ingress (resourceVersion %s -> %s)", rv, again.ResourceVersion)
	}
	if w, _ := r.Read(t.Context()); w.Live() != color.Green {
		t.Errorf("live color after the switch %s, want green", w.Live())
	}
}

// TestRefusals covers what the router must not guess: a split, an Ingress
// that is missing or names no color, backends that disagree.
func TestRefusals(t *testing.T) {
	t.Parallel()
	cfg := kubetest.Config(t)
	ns := kubetest.Namespace(t, cfg)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ings := cs.NetworkingV1().Ingresses(ns)
	other := newIngress("other", "payments")
	mixed := newIngress("mixed", "shop-blue")
	mixed.Spec.Rules[1].HTTP.Paths[0].Backend = backend("shop-green")
	for _, ing := range []*networkingv1.Ingress{other, mixed} {
		if _, err := ings.Create(t.Context(), ing, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, ingress, want string
	}{
		{"missing", "absent", `Ingress "absent" not found`},
		{"no color backend", "other", `no backend naming the Service "shop-blue"`},
		{"backends disagree", "mixed", "2 backends to blue and 1 to green"},
	}
	for _, tc := range cases {
		r, err := ingress.New(ingress.Config{Client: cs.NetworkingV1(), Namespace: ns, Name: tc.ingress, App: app})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(t.Context()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Read error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	r, err := ingress.New(ingress.Config{Client: cs.NetworkingV1(), Namespace: ns, Name: "mixed", App: app})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Set(t.Context(), router.Weights{color.Blue: 50, color.Green: 50}); !errors.Is(err, router.ErrSplitUnsupported) {
		t.Errorf("a split: %v, want ErrSplitUnsupported", err)
	}
	if err := r.Verify(t.Context(), color.Green); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Verify without discovery: %v, want ErrUnsupported", err)
	}
}

// TestConflictNotOverwritten: a change made between the router's read and
// its write fails the write with router.ErrConflict.
func TestConflictNotOverwritten(t *testing.T) {
	t.Parallel()
	cfg := kubetest.Config(t)
	ns := kubetest.Namespace(t, cfg)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ings := cs.NetworkingV1().Ingresses(ns)
	if _, err := ings.Create(t.Context(), newIngress("shop", "shop-blue"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	racing := &racer{IngressesGetter: cs.NetworkingV1(), ns: ns, t: t, cs: cs}
	r, err := ingress.New(ingress.Config{Client: racing, Namespace: ns, Name: "shop", App: app})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Set(t.Context(), router.All(color.Green)); !errors.Is(err, router.ErrConflict) {
		t.Fatalf("Set after a concurrent change: %v, want ErrConflict", err)
	}
	got, _ := ings.Get(t.Context(), "shop", metav1.GetOptions{})
	if got.Labels["changed-by"] != "someone" || got.Spec.DefaultBackend.Service.Name != "shop-blue" {
		t.Errorf("the concurrent change was overwritten: labels %v, default backend %s", got.Labels, got.Spec.DefaultBackend.Service.Name)
	}
}
