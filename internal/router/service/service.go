// Package service switches traffic by the selector of a Kubernetes
// Service: the Service selects the pods of exactly one color, and a switch
// is one write of its selector, guarded by resourceVersion so that a
// concurrent change is never overwritten.
package service

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	discoveryclient "k8s.io/client-go/kubernetes/typed/discovery/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// Type names this router in the router input.
const Type = "service"

// Config holds what the router needs.
type Config struct {
	Core      coreclient.CoreV1Interface
	Namespace string
	App       string
	// Name is the Service that carries the traffic.
	Name string
	// Template, when set, is the Service created when Name does not exist
	// (its name and selector are replaced). Ports is used otherwise.
	Template *corev1.Service
	Ports    []corev1.ServicePort
	// Discovery, when set, lets Verify count the color's ready endpoints.
	Discovery discoveryclient.EndpointSlicesGetter
}

// Router implements router.Router with a Service selector.
type Router struct {
	cfg    Config
	dryRun bool
}

var _ router.Router = (*Router)(nil)

// Option tunes a Router.
type Option func(*Router)

// WithDryRun makes writes server-side dry runs.
func WithDryRun(on bool) Option { return func(r *Router) { r.dryRun = on } }

// DryRun reports whether writes are server-side dry runs.
func (r *Router) DryRun() bool { return r.dryRun }

// New returns the router for cfg.
func New(cfg Config, opts ...Option) *Router {
	r := &Router{cfg: cfg}
	for _, o := range opts {
		o(r)
	}
	return r
}

func (r *Router) services() coreclient.ServiceInterface { return r.cfg.Core.Services(r.cfg.Namespace) }

func (r *Router) dry() []string {
	if r.dryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// Read implements router.Router: the color in the Service's selector gets
// all traffic. A missing Service means nothing is routed yet.
func (r *Router) Read(ctx context.Context) (router.Weights, error) {
	svc, err := r.services().Get(ctx, r.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return router.Weights{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Service %q: %w", r.cfg.Name, err)
	}
	return r.weightsOf(svc)
}

func (r *Router) weightsOf(svc *corev1.Service) (router.Weights, error) {
	v, ok := svc.Spec.Selector[kube.ColorLabel]
	if !ok {
		return nil, fmt.Errorf("service %q selects %v, which does not pick a color: it would send traffic to both; add %s=blue or green to its selector, or delete it so bluegreen creates it",
			r.cfg.Name, svc.Spec.Selector, kube.ColorLabel)
	}
	c, err := color.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("service %q: %w", r.cfg.Name, err)
	}
	return router.All(c), nil
}

// Set implements router.Router. Only all-or-nothing weights are possible
// with a selector. A Conflict (someone changed the Service since it was
// read) is returned wrapped in router.ErrConflict: the caller re-checks
// the color before trying again.
func (r *Router) Set(ctx context.Context, w router.Weights) error {
	if w.Split() {
		return fmt.Errorf("service %q: %w (asked for %s)", r.cfg.Name, router.ErrSplitUnsupported, w)
	}
	to := w.Live()
	svc, err := r.services().Get(ctx, r.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return r.create(ctx, to)
	}
	if err != nil {
		return fmt.Errorf("reading Service %q: %w", r.cfg.Name, err)
	}
	if svc.Spec.Selector[kube.ColorLabel] == string(to) && svc.Spec.Selector[kube.AppLabel] == r.cfg.App {
		return nil
	}
	// Update, not patch: the update carries the resourceVersion read
	// above, so a change made in between fails instead of being lost.
	svc.Spec.Selector = kube.Selector(r.cfg.App, to)
	if _, err := r.services().Update(ctx, svc, metav1.UpdateOptions{DryRun: r.dry()}); err != nil {
		if apierrors.IsConflict(err) {
			return fmt.Errorf("updating Service %q: %w: %w", r.cfg.Name, router.ErrConflict, err)
		}
		return fmt.Errorf("updating Service %q: %w", r.cfg.Name, err)
	}
	return nil
}

func (r *Router) create(ctx context.Context, to color.Color) error {
	svc := &corev1.Service{Spec: corev1.ServiceSpec{Ports: r.cfg.Ports}}
	if r.cfg.Template != nil {
		svc = r.cfg.Template.DeepCopy()
		svc.ResourceVersion, svc.UID = "", ""
	}
	if len(svc.Spec.Ports) == 0 {
		return fmt.Errorf("creating Service %q: no ports: add a Service to the manifest or declare containerPorts", r.cfg.Name)
	}
	svc.Name, svc.Namespace = r.cfg.Name, r.cfg.Namespace
	svc.Labels = map[string]string{kube.AppLabel: r.cfg.App, kube.ManagedByLabel: kube.ManagedBy}
	svc.Spec.Selector = kube.Selector(r.cfg.App, to)
	if _, err := r.services().Create(ctx, svc, metav1.CreateOptions{DryRun: r.dry()}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating Service %q: %w: %w", r.cfg.Name, router.ErrConflict, err)
		}
		return fmt.Errorf("creating Service %q: %w", r.cfg.Name, err)
	}
	return nil
}

// Verify implements router.Router: the color's pods must be ready
// endpoints of its per-color Service, which selects exactly the pods this
// Service will select after the switch. Without an EndpointSlice client
// it cannot tell.
func (r *Router) Verify(ctx context.Context, c color.Color) error {
	if r.cfg.Discovery == nil {
		return fmt.Errorf("service router without an EndpointSlice client: %w", errors.ErrUnsupported)
	}
	return kube.CheckReadyEndpoints(ctx, r.cfg.Discovery, r.cfg.Namespace, kube.Name(r.cfg.App, c))
}
