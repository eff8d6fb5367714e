// Package ingress switches traffic by the backends of a Kubernetes Ingress
// (networking.k8s.io/v1). Each color is a Service, "<app>-blue" and
// "<app>-green"; every backend of the Ingress that names one of them is a
// color backend, and a switch rewrites all of them to the other color's
// Service in one Update. Backends naming other Services, or resources, are
// the user's and stay as they are.
//
// No annotation of any controller is used, so any Ingress controller
// follows the switch. An Ingress cannot split traffic: steps and splits are
// refused with router.ErrSplitUnsupported. The Ingress itself, with its
// class, hosts and TLS, is the user's and must exist before the first
// deploy.
package ingress

import (
	"context"
	"errors"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	discoveryclient "k8s.io/client-go/kubernetes/typed/discovery/v1"
	networkingclient "k8s.io/client-go/kubernetes/typed/networking/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// Type names this router in the router input.
const Type = "ingress"

var _ router.Router = (*Router)(nil)

// Config holds what the router needs.
type Config struct {
	Client    networkingclient.IngressesGetter
	Namespace string
	// Name is the Ingress whose backends carry the traffic.
	Name string
	// App names the application: its colors are the Services
	// "<App>-blue" and "<App>-green".
	App string
	// Discovery, when set, lets Verify count the color's ready endpoints.
	Discovery discoveryclient.EndpointSlicesGetter
}

// Router implements router.Router with the backends of one Ingress.
type Router struct {
	cfg    Config
	dryRun bool
}

// Option tunes a Router.
type Option func(*Router)

// WithDryRun makes writes server-side dry runs.
func WithDryRun(on bool) Option { return func(r *Router) { r.dryRun = on } }

// DryRun reports whether writes are server-side dry runs.
func (r *Router) DryRun() bool { return r.dryRun }

// New returns the router for cfg.
func New(cfg Config, opts ...Option) (*Router, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("ingress router: no networking client")
	case cfg.Namespace == "":
		return nil, errors.New("ingress router: no namespace")
	case cfg.Name == "":
		return nil, errors.New("ingress router: no Ingress name")
	case cfg.App == "":
		return nil, errors.New("ingress router: no app name")
	}
	r := &Router{cfg: cfg}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

func (r *Router) get(ctx context.Context) (*networkingv1.Ingress, error) {
	ing, err := r.cfg.Client.Ingresses(r.cfg.Namespace).Get(ctx, r.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("Ingress %q not found in namespace %q: create it with backends naming the Service %q (or %q)",
			r.cfg.Name, r.cfg.Namespace, kube.Name(r.cfg.App, color.Blue), kube.Name(r.cfg.App, color.Green))
	}
	if err != nil {
		return nil, fmt.Errorf("reading Ingress %q: %w", r.cfg.Name, err)
	}
	return ing, nil
}

// Read implements router.Router: the color every color backend names gets
// all traffic. Backends that disagree are an error, not a guess.
func (r *Router) Read(ctx context.Context) (router.Weights, error) {
	ing, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	c, err := r.liveOf(ing)
	if err != nil {
		return nil, err
	}
	return router.All(c), nil
}

// liveOf returns the one color the Ingress's color backends send to.
func (r *Router) liveOf(ing *networkingv1.Ingress) (color.Color, error) {
	seen := map[color.Color]int{}
	for _, b := range backends(ing) {
		if c, ok := r.colorOf(b); ok {
			seen[c]++
		}
	}
	switch {
	case len(seen) == 0:
		return color.None, fmt.Errorf("Ingress %q has no backend naming the Service %q or %q: point the paths that serve %s at one of them",
			r.cfg.Name, kube.Name(r.cfg.App, color.Blue), kube.Name(r.cfg.App, color.Green), r.cfg.App)
	case len(seen) > 1:
		return color.None, fmt.Errorf("Ingress %q sends %d backends to blue and %d to green: an Ingress cannot split traffic, so bluegreen cannot tell which color is live; make them agree",
			r.cfg.Name, seen[color.Blue], seen[color.Green])
	}
	for c := range seen {
		return c, nil
	}
	return color.None, nil
}

// colorOf tells whether backend b is one of the app's colors, and which.
func (r *Router) colorOf(b *networkingv1.IngressBackend) (color.Color, bool) {
	if b.Service == nil {
		return color.None, false
	}
	for _, c := range color.All {
		if b.Service.Name == kube.Name(r.cfg.App, c) {
			return c, true
		}
	}
	return color.None, false
}

// backends returns pointers to every backend of ing, the default one
// first, so that a switch can rewrite them in place.
func backends(ing *networkingv1.Ingress) []*networkingv1.IngressBackend {
	var out []*networkingv1.IngressBackend
	if ing.Spec.DefaultBackend != nil {
		out = append(out, ing.Spec.DefaultBackend)
	}
	for i := range ing.Spec.Rules {
		http := ing.Spec.Rules[i].HTTP
		if http == nil {
			continue
		}
		for j := range http.Paths {
			out = append(out, &http.Paths[j].Backend)
		}
	}
	return out
}

// Set implements router.Router: every color backend names the Service of
// w's live color, in one Update that carries the resourceVersion just read,
// so that a change made in between fails with router.ErrConflict instead of
// being overwritten.
func (r *Router) Set(ctx context.Context, w router.Weights) error {
	if w.Split() {
		return fmt.Errorf("Ingress %q: %w (asked for %s)", r.cfg.Name, router.ErrSplitUnsupported, w)
	}
	to := w.Live()
	if to == color.None {
		return fmt.Errorf("Ingress %q: asked to route no traffic at all (%s)", r.cfg.Name, w)
	}
	ing, err := r.get(ctx)
	if err != nil {
		return err
	}
	if from, err := r.liveOf(ing); err == nil && from == to {
		return nil
	} else if err != nil && !r.hasColorBackend(ing) {
		return err
	}
	name := kube.Name(r.cfg.App, to)
	for _, b := range backends(ing) {
		if _, ok := r.colorOf(b); ok {
			b.Service.Name = name
		}
	}
	var dry []string
	if r.dryRun {
		dry = []string{metav1.DryRunAll}
	}
	if _, err := r.cfg.Client.Ingresses(r.cfg.Namespace).Update(ctx, ing, metav1.UpdateOptions{DryRun: dry}); err != nil {
		if apierrors.IsConflict(err) {
			return fmt.Errorf("updating Ingress %q: %w: %w", r.cfg.Name, router.ErrConflict, err)
		}
		return fmt.Errorf("updating Ingress %q: %w", r.cfg.Name, err)
	}
	return nil
}

func (r *Router) hasColorBackend(ing *networkingv1.Ingress) bool {
	for _, b := range backends(ing) {
		if _, ok := r.colorOf(b); ok {
			return true
		}
	}
	return false
}

// Verify implements router.Router: the color's pods must be ready
// endpoints of its per-color Service, the Service the Ingress will name.
// Without an EndpointSlice client it cannot tell.
func (r *Router) Verify(ctx context.Context, c color.Color) error {
	if r.cfg.Discovery == nil {
		return fmt.Errorf("ingress router without an EndpointSlice client: %w", errors.ErrUnsupported)
	}
	return kube.CheckReadyEndpoints(ctx, r.cfg.Discovery, r.cfg.Namespace, kube.Name(r.cfg.App, c))
}
