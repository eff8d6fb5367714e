package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// TestRBACRoleSuffices runs every Kubernetes command of the binary as a
// service account bound to nothing but the Role of docs/rbac-kubernetes.yaml,
// against the local control plane, which enforces RBAC. A verb or resource
// the code calls and the Role does not grant ends a run with 403, so the
// document users copy cannot fall behind the code: first deploy, migrations
// before and after (Jobs, their pods and logs), a second deploy, status,
// history, rollback, and the Gateway API and Ingress routers.
func TestRBACRoleSuffices(t *testing.T) {
	t.Parallel()
	admin := kubetest.Config(t)
	ns := kubetest.Namespace(t, admin)
	bin := buildBinary(t)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeServiceAccountKubeconfig(t, admin, ns, kubeconfig)
	createHTTPRoute(t, admin, ns, "web", "web-blue")
	createIngress(t, admin, ns, "store", "store-blue")

	base := []string{"CI=true", "BLUEGREEN_NAMESPACE=" + ns, "BLUEGREEN_KUBECONFIG=" + kubeconfig}
	manifest := demoManifest(t)
	runs := []struct {
		name string
		env  []string
	}{
		{"first deploy", []string{"BLUEGREEN_APP=shop", "BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0", manifest}},
		{"deploy with migrations", []string{"BLUEGREEN_APP=shop", "BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0",
			"BLUEGREEN_MIGRATE_BEFORE=bin/migrate expand", "BLUEGREEN_MIGRATE_AFTER=bin/migrate contract"}},
		{"status", []string{"BLUEGREEN_APP=shop", "BLUEGREEN_COMMAND=status"}},
		{"history", []string{"BLUEGREEN_APP=shop", "BLUEGREEN_COMMAND=history"}},
		{"rollback", []string{"BLUEGREEN_APP=shop", "BLUEGREEN_COMMAND=rollback"}},
		{"dry run", []string{"BLUEGREEN_APP=shop", "BLUEGREEN_IMAGE=registry.example.com/shop:3.0.0", "BLUEGREEN_DRY_RUN=true"}},
		{"gateway first deploy", []string{"BLUEGREEN_APP=web", "BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0",
			manifestFor(t, dir, "web"), "BLUEGREEN_ROUTER=gateway", "BLUEGREEN_ROUTE=web"}},
		{"gateway deploy in steps", []string{"BLUEGREEN_APP=web", "BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0",
			"BLUEGREEN_ROUTER=gateway", "BLUEGREEN_ROUTE=web", "BLUEGREEN_TRAFFIC_STEPS=50,100", "BLUEGREEN_TRAFFIC_STEP_PAUSE=100ms"}},
		{"ingress first deploy", []string{"BLUEGREEN_APP=store", "BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0",
			manifestFor(t, dir, "store"), "BLUEGREEN_ROUTER=ingress", "BLUEGREEN_INGRESS=store"}},
		{"ingress deploy", []string{"BLUEGREEN_APP=store", "BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0",
			"BLUEGREEN_ROUTER=ingress", "BLUEGREEN_INGRESS=store"}},
	}
	for _, run := range runs {
		code, stdout, stderr := runBinary(t, bin, dir, append(append([]string{}, base...), run.env...))
		// \b: a step that took 403ms is no refusal.
		if strings.Contains(stdout+stderr, "forbidden") || regexp.MustCompile(`\b403\b`).MatchString(stdout+stderr) {
			t.Errorf("%s: the Role lacks a permission the run needs:\n%s\n%s", run.name, stdout, stderr)
		}
		if code != exitOK {
			t.Fatalf("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", run.name, code, exitOK, stdout, stderr)
		}
	}
}

// TestRBACRoleIsEnforced is the control of TestRBACRoleSuffices: the same
// kind of service account without the Role is refused, so a pass there
// means the Role granted what was needed, not that nothing was checked.
func TestRBACRoleIsEnforced(t *testing.T) {
	t.Parallel()
	admin := kubetest.Config(t)
	ns := kubetest.Namespace(t, admin)
	bin := buildBinary(t)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeServiceAccountKubeconfigWith(t, admin, ns, kubeconfig, nil)
	code, stdout, stderr := runBinary(t, bin, dir, []string{"CI=true", "BLUEGREEN_NAMESPACE=" + ns,
		"BLUEGREEN_KUBECONFIG=" + kubeconfig, "BLUEGREEN_APP=shop", "BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0",
		demoManifest(t)})
	if code == exitOK {
		t.Fatalf("a service account without the Role deployed:\n%s\n%s", stdout, stderr)
	}
	if out := stdout + stderr; !strings.Contains(out, "403 Forbidden") || !strings.Contains(out, "docs/rbac-kubernetes.yaml") {
		t.Errorf("the refusal does not say 403 Forbidden and point to the RBAC document:\n%s\n%s", stdout, stderr)
	}
}

// demoManifest is the manifest input of the demo's shop, by an absolute
// path, since the binary runs in another directory.
func demoManifest(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("testdata/demo/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return "BLUEGREEN_MANIFEST=" + p
}

// manifestFor writes a copy of the demo manifest for another app name.
func manifestFor(t *testing.T, dir, app string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/demo/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, app+".yaml")
	if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte("shop"), []byte(app)), 0o600); err != nil {
		t.Fatal(err)
	}
	return "BLUEGREEN_MANIFEST=" + p
}

// readRBACDocument returns the Role of docs/rbac-kubernetes.yaml.
func readRBACDocument(t *testing.T) *rbacv1.Role {
	t.Helper()
	f, err := os.Open("docs/rbac-kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var role rbacv1.Role
		if err := dec.Decode(&role); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("parsing docs/rbac-kubernetes.yaml: %v", err)
		}
		if role.Kind == "Role" {
			return &role
		}
	}
	t.Fatal("docs/rbac-kubernetes.yaml holds no Role")
	return nil
}

func writeServiceAccountKubeconfig(t *testing.T, admin *rest.Config, ns, path string) {
	t.Helper()
	writeServiceAccountKubeconfigWith(t, admin, ns, path, readRBACDocument(t))
}

// writeServiceAccountKubeconfigWith creates a service account in ns, binds
// it to role when given, and writes a kubeconfig that authenticates as it
// with a short-lived token.
func writeServiceAccountKubeconfigWith(t *testing.T, admin *rest.Config, ns, path string, role *rbacv1.Role) {
	t.Helper()
	ctx := t.Context()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if role != nil {
		role = role.DeepCopy()
		role.Namespace = ns
		if _, err := cs.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating the Role of docs/rbac-kubernetes.yaml: %v", err)
		}
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "bluegreen"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}},
		}
		if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	expiry := int64(3600)
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token for the service account: %v", err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: caData(t, admin)}
	cfg.AuthInfos["deployer"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "deployer", Namespace: ns}
	cfg.CurrentContext = "local"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

func caData(t *testing.T, c *rest.Config) []byte {
	t.Helper()
	if len(c.CAData) > 0 {
		return c.CAData
	}
	b, err := os.ReadFile(c.CAFile)
	if err != nil {
		t.Fatalf("reading the cluster's CA: %v", err)
	}
	return b
}

// createHTTPRoute makes an HTTPRoute name whose one rule sends all traffic
// to the Service backend.
func createHTTPRoute(t *testing.T, admin *rest.Config, ns, name, backend string) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "public"}},
			"rules": []any{map[string]any{"backendRefs": []any{
				map[string]any{"name": backend, "port": int64(80), "weight": int64(1)},
			}}},
		},
	}}
	if _, err := dyn.Resource(gvr).Namespace(ns).Create(t.Context(), route, metav1.CreateOptions{}); err != nil {
		t.Fatal(fmt.Errorf("creating HTTPRoute %q: %w", name, err))
	}
}
