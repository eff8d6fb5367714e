package kubetest_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

func TestNamespace(t *testing.T) {
	cfg := kubetest.Config(t)
	client, err := corev1client.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var name string
	t.Run("create", func(t *testing.T) {
		name = kubetest.Namespace(t, cfg)
		if !strings.HasPrefix(name, kubetest.NamespacePrefix) {
			t.Errorf("namespace %q lacks prefix %q", name, kubetest.NamespacePrefix)
		}
		ns, err := client.Namespaces().Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get namespace: %v", err)
		}
		if ns.Status.Phase != corev1.NamespaceActive {
			t.Errorf("namespace %s phase = %q, want %q", name, ns.Status.Phase, corev1.NamespaceActive)
		}
		if got := ns.Annotations[kubetest.TestNameAnnotation]; got != t.Name() {
			t.Errorf("annotation %s = %q, want %q", kubetest.TestNameAnnotation, got, t.Name())
		}
		if _, err := client.ServiceAccounts(name).Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
			t.Errorf("default ServiceAccount: %v", err)
		}
	})
	if name == "" {
		t.FailNow()
	}

	// The subtest's cleanup has run: the namespace is gone or on its way out.
	ns, err := client.Namespaces().Get(t.Context(), name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		t.Fatalf("get namespace after cleanup: %v", err)
	case ns.DeletionTimestamp == nil:
		t.Errorf("namespace %s was not deleted by cleanup", name)
	}
}

func TestNamespacesAreUnique(t *testing.T) {
	cfg := kubetest.Config(t)
	a, b := kubetest.Namespace(t, cfg), kubetest.Namespace(t, cfg)
	if a == b {
		t.Errorf("two calls returned the same namespace %q", a)
	}
}
