package main

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// TestBinaryIngressRouter deploys, switches and rolls back through the
// backends of a real Ingress with the built binary: the live color is read
// from the Ingress on every run, and traffic steps are refused as a bad
// input because an Ingress cannot split traffic.
func TestBinaryIngressRouter(t *testing.T) {
	t.Parallel()
	admin := kubetest.Config(t)
	ns := kubetest.Namespace(t, admin)
	bin := buildBinary(t)
	dir := t.TempDir()
	// The Ingress names a color that does not exist yet: the first release
	// goes to the other one and the switch makes it live.
	createIngress(t, admin, ns, "store", "store-blue")
	base := []string{"CI=true", "BLUEGREEN_NAMESPACE=" + ns, "BLUEGREEN_KUBECONFIG=" + kubetest.KubeconfigPath(t),
		"BLUEGREEN_APP=store", "BLUEGREEN_ROUTER=ingress", "BLUEGREEN_INGRESS=store"}
	cases := []struct {
		name    string
		env     []string
		code    int
		backend string // the Ingress's backend after the run
		out     string // a line the output must hold
	}{
		{"first deploy", []string{"BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0", manifestFor(t, dir, "store")}, exitOK, "store-green", "success"},
		{"second deploy", []string{"BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0"}, exitOK, "store-blue", "live      green -> blue"},
		{"traffic steps", []string{"BLUEGREEN_IMAGE=registry.example.com/shop:3.0.0", "BLUEGREEN_TRAFFIC_STEPS=50,100"}, exitInput, "store-blue", `input "traffic-steps"`},
		{"rollback", []string{"BLUEGREEN_COMMAND=rollback"}, exitOK, "store-green", "live      blue -> green"},
		{"status", []string{"BLUEGREEN_COMMAND=status"}, exitOK, "store-green", "green"},
	}
	for _, tc := range cases {
		code, stdout, stderr := runBinary(t, bin, dir, append(append([]string{}, base...), tc.env...))
		if code != tc.code {
			t.Fatalf("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.name, code, tc.code, stdout, stderr)
		}
		if !strings.Contains(stdout+stderr, tc.out) {
			t.Errorf("%s: output lacks %q:\n%s\n%s", tc.name, tc.out, stdout, stderr)
		}
		if got := ingressBackends(t, admin, ns, "store"); got != tc.backend+","+tc.backend+",payments" {
			t.Errorf("%s: Ingress backends %s, want %s on every color path and payments kept", tc.name, got, tc.backend)
		}
	}
}

// createIngress makes Ingress name with two paths: "/" to the Service
// backend and "/api" to a Service of another team, plus a default backend.
func createIngress(t *testing.T, admin *rest.Config, ns, name, backend string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	pt := networkingv1.PathTypePrefix
	be := func(svc string) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}}
	}
	def := be(backend)
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.IngressSpec{DefaultBackend: &def, Rules: []networkingv1.IngressRule{{
			Host: name + ".example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: "/", PathType: &pt, Backend: be(backend)},
				{Path: "/api", PathType: &pt, Backend: be("payments")},
			}}},
		}}},
	}
	if _, err := cs.NetworkingV1().Ingresses(ns).Create(t.Context(), ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// ingressBackends lists the Services the Ingress names: default, then paths.
func ingressBackends(t *testing.T, admin *rest.Config, ns, name string) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	ing, err := cs.NetworkingV1().Ingresses(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{ing.Spec.DefaultBackend.Service.Name}
	for _, p := range ing.Spec.Rules[0].HTTP.Paths {
		out = append(out, p.Backend.Service.Name)
	}
	return strings.Join(out, ",")
}
