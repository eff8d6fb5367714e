package ingress_test

import (
	"context"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	networkingclient "k8s.io/client-go/kubernetes/typed/networking/v1"
)

// racer hands out Ingress clients whose Get is followed, before the
// caller can write, by someone else's update of the same Ingress.
type racer struct {
	networkingclient.IngressesGetter
	ns string
	t  *testing.T
	cs kubernetes.Interface
}

func (r *racer) Ingresses(ns string) networkingclient.IngressInterface {
	return racingIngresses{IngressInterface: r.IngressesGetter.Ingresses(ns), r: r}
}

type racingIngresses struct {
	networkingclient.IngressInterface
	r *racer
}

func (c racingIngresses) Get(ctx context.Context, name string, opts metav1.GetOptions) (*networkingv1.Ingress, error) {
	ing, err := c.IngressInterface.Get(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	other := ing.DeepCopy()
	other.Labels = map[string]string{"changed-by": "someone"}
	if _, err := c.r.cs.NetworkingV1().Ingresses(c.r.ns).Update(ctx, other, metav1.UpdateOptions{}); err != nil {
		c.r.t.Errorf("the concurrent update: %v", err)
	}
	return ing, nil
}
