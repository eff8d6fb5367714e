package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	// EnvKubeconfig names a kubeconfig to use instead of the one written by scripts/kube-local.
	EnvKubeconfig = "BLUEGREEN_TEST_KUBECONFIG"
	// EnvIntegration, set to "1", turns a missing control plane into a test failure.
	EnvIntegration = "BLUEGREEN_INTEGRATION"

	// NamespacePrefix starts the name of every namespace created by Namespace.
	NamespacePrefix = "bg-test-"
	// TestNameAnnotation records on each namespace the test that created it, to trace leftovers.
	TestNameAnnotation = "bluegreen.dev/test"

	localKubeconfig = ".kube-local/kubeconfig"
	notRunning      = "local control plane not running; scripts/kube-local up"

	// The controller-manager creates a namespace's default ServiceAccount within a second or so.
	serviceAccountTimeout = 30 * time.Second
	cleanupTimeout        = 30 * time.Second
)

// Config returns a client configuration for the test control plane. It skips the test when no
// plane is configured, or fails it when BLUEGREEN_INTEGRATION=1.
func Config(t testing.TB) *rest.Config {
	t.Helper()
	path, err := kubeconfigPath()
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	if path == "" {
		if os.Getenv(EnvIntegration) == "1" {
			t.Fatalf("kubetest: %s (%s=1 requires a control plane)", notRunning, EnvIntegration)
		}
		t.Skip(notRunning)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("kubetest: loading kubeconfig %s: %v", path, err)
	}
	// client-go's default of 5 requests per second throttles tests that poll while they create
	// objects; the local plane serves far more.
	if cfg.QPS == 0 {
		cfg.QPS = 100
	}
	if cfg.Burst == 0 {
		cfg.Burst = 200
	}
	return cfg
}

// KubeconfigPath returns the kubeconfig file of the test control plane,
// for tests that run the binary. It skips or fails as Config does.
func KubeconfigPath(t testing.TB) string {
	t.Helper()
	Config(t)
	path, err := kubeconfigPath()
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return path
}

// kubeconfigPath returns the kubeconfig to use, or "" when there is none.
// An explicitly named file that does not exist is an error, not a reason to skip.
func kubeconfigPath() (string, error) {
	if p := os.Getenv(EnvKubeconfig); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvKubeconfig, err)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", nil // not inside the module (e.g. a copied test binary): nothing to find
	}
	p := filepath.Join(root, localKubeconfig)
	if _, err := os.Stat(p); err != nil {
		return "", nil
	}
	return p, nil
}

// repoRoot walks up from the working directory (the package directory under go test) to the
// directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// Namespace creates a namespace with a unique name starting with NamespacePrefix, waits until
// its default ServiceAccount exists (pods are rejected before that), and deletes it when the
// test ends. It returns the namespace's name.
func Namespace(t testing.TB, cfg *rest.Config) string {
	t.Helper()
	return namespace(t, cfg, true)
}

// namespace is Namespace; withPods false skips the wait for the default
// ServiceAccount, on a plane with no controller-manager to create it.
func namespace(t testing.TB, cfg *rest.Config, withPods bool) string {
	t.Helper()
	client, err := corev1client.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("kubetest: core client: %v", err)
	}
	ctx := t.Context()

	ns, err := client.Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: NamespacePrefix,
			Annotations:  map[string]string{TestNameAnnotation: t.Name()},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: creating namespace: %v", err)
	}
	name := ns.Name

	// Registered before waiting, so a namespace whose wait fails is still removed.
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		policy := metav1.DeletePropagationBackground
		err := client.Namespaces().Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("kubetest: deleting namespace %s: %v", name, err)
		}
	})

	if !withPods {
		return name
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, serviceAccountTimeout, true,
		func(ctx context.Context) (bool, error) {
			_, err := client.ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
			switch {
			case err == nil:
				return true, nil
			case apierrors.IsNotFound(err):
				return false, nil
			default:
				return false, err
			}
		})
	if err != nil {
		t.Fatalf("kubetest: waiting for the default ServiceAccount in %s "+
			"(is kube-controller-manager running?): %v", name, err)
	}
	return name
}
