package kube

import (
	"context"
	"fmt"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	discoveryclient "k8s.io/client-go/kubernetes/typed/discovery/v1"
)

// CheckReadyEndpoints returns an error unless the Service name in ns has at
// least one ready endpoint in its EndpointSlices: what a router sees of a
// color before it sends traffic there.
func CheckReadyEndpoints(ctx context.Context, disc discoveryclient.EndpointSlicesGetter, ns, name string) error {
	list, err := disc.EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return fmt.Errorf("listing endpoints of Service %q: %w", name, err)
	}
	ready, notReady := 0, 0
	for _, sl := range list.Items {
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
				ready++
			} else {
				notReady++
			}
		}
	}
	if ready == 0 {
		return fmt.Errorf("service %q has no ready endpoints (%d not ready)", name, notReady)
	}
	return nil
}
