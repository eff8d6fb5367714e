package kubetest_test

import (
	"net"
	"net/url"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// TestStartPlane: the plane serves the channel's CRDs, and is gone once
// the test that started it ends, so that none outlives its test.
func TestStartPlane(t *testing.T) {
	t.Parallel()
	var addr string
	t.Run("up", func(t *testing.T) {
		p := kubetest.StartPlane(t, kubetest.PlaneOptions{Gateway: kubetest.Standard})
		u, err := url.Parse(p.Config.Host)
		if err != nil {
			t.Fatal(err)
		}
		addr = u.Host
		dyn, err := dynamic.NewForConfig(p.Config)
		if err != nil {
			t.Fatal(err)
		}
		crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
		if _, err := dyn.Resource(crds).Get(t.Context(), "httproutes.gateway.networking.k8s.io", metav1.GetOptions{}); err != nil {
			t.Errorf("the plane's HTTPRoute CRD: %v", err)
		}
		if ns := p.Namespace(t); ns == "" {
			t.Error("no namespace made on the plane")
		}
	})
	if addr == "" {
		t.Skip("no plane was started") // a failure to start has failed the subtest already
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("the plane's API server still accepts connections on %s after its test ended", addr)
	}
}
