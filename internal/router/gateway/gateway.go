package gateway

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/util/retry"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

var _ router.Router = (*Router)(nil)

// Type names this router in the router input.
const Type = "gateway"

// HTTPRoutes is the resource this router reads and writes.
var HTTPRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// backoff paces the re-reads after a Conflict that did not touch the
// rules, typically a gateway controller writing the route's status.
var backoff = wait.Backoff{Duration: 20 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 6, Cap: time.Second}

// Config holds what the router needs.
type Config struct {
	// Client reads and writes the HTTPRoute.
	Client dynamic.Interface
	// Namespace holds the HTTPRoute and the per-color Services.
	Namespace string
	// Route names the HTTPRoute.
	Route string
	// App names the application: its colors are the Services
	// "<App>-blue" and "<App>-green".
	App string
	// ServicesClient, when set, lets Verify check that the color's
	// Service exists and exposes the port the route sends to.
	ServicesClient coreclient.ServicesGetter
}

// Option tunes a Router.
type Option func(*Router)

// DryRun reports whether Set sends server-side dry runs.
func (r *Router) DryRun() bool { return len(r.dryRun) > 0 }

// WithDryRun makes Set send its write as a server-side dry run when on:
// the API server validates it but stores nothing.
func WithDryRun(on bool) Option {
	return func(r *Router) {
		r.dryRun = nil
		if on {
			r.dryRun = []string{metav1.DryRunAll}
		}
	}
}

// Router implements router.Router with the backendRef weights of one
// HTTPRoute. One run uses it from one goroutine at a time.
type Router struct {
	cfg    Config
	dryRun []string
	// sticky, when set, is the session persistence of a split.
	sticky time.Duration
	// ended is bluegreen's persistence a write to one color removed; see
	// keepEnded.
	ended *ended
}

// New returns the router for cfg.
func New(cfg Config, opts ...Option) (*Router, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("gateway router: no dynamic client")
	case cfg.Namespace == "":
		return nil, errors.New("gateway router: no namespace")
	case cfg.Route == "":
		return nil, errors.New("gateway router: no HTTPRoute name")
	case cfg.App == "":
		return nil, errors.New("gateway router: no app name")
	}
	r := &Router{cfg: cfg}
	for _, opt := range opts {
		opt(r)
	}
	return r, nil
}

func (r *Router) routes() dynamic.ResourceInterface {
	return r.cfg.Client.Resource(HTTPRoutes).Namespace(r.cfg.Namespace)
}

// get reads the HTTPRoute, telling a missing route from a cluster that
// does not serve HTTPRoutes at all.
func (r *Router) get(ctx context.Context) (*unstructured.Unstructured, error) {
	route, err := r.routes().Get(ctx, r.cfg.Route, metav1.GetOptions{})
	if err == nil {
		return route, nil
	}
	var status apierrors.APIStatus
	if apierrors.IsNotFound(err) && errors.As(err, &status) {
		if d := status.Status().Details; d != nil && d.Name == r.cfg.Route {
			return nil, fmt.Errorf("HTTPRoute %q not found in namespace %q: create it, attached to your Gateway, with backendRefs to the Services %q and %q",
				r.cfg.Route, r.cfg.Namespace, kube.Name(r.cfg.App, color.Blue), kube.Name(r.cfg.App, color.Green))
		}
		return nil, fmt.Errorf("reading HTTPRoute %q: the cluster does not serve %s; install the Gateway API CRDs: %w", r.cfg.Route, HTTPRoutes, err)
	}
	return nil, fmt.Errorf("reading HTTPRoute %q: %w", r.cfg.Route, err)
}

// getRules reads the route and the rules of it that send to the app.
func (r *Router) getRules(ctx context.Context) (*unstructured.Unstructured, []*rule, error) {
	route, err := r.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	rules, err := r.parse(route)
	if err != nil {
		return nil, nil, err
	}
	return route, rules, nil
}

// Read implements router.Router. Every rule of the route must send to the
// app's colors and all rules must agree on the split.
func (r *Router) Read(ctx context.Context) (router.Weights, error) {
	_, rules, err := r.getRules(ctx)
	if err != nil {
		return nil, err
	}
	w := rules[0].weights()
	for i, rl := range rules[1:] {
		if got := rl.weights(); got[color.Blue] != w[color.Blue] || got[color.Green] != w[color.Green] {
			return nil, fmt.Errorf("HTTPRoute %q: rule %d sends %s but rule 0 sends %s; make the rules agree (or let bluegreen set them)",
				r.cfg.Route, i+1, got, w)
		}
	}
	return w, nil
}

// Set implements router.Router: every rule's backendRefs become exactly
// the two colors with the weights w, in one Update. A Conflict caused by
// a change elsewhere in the route (its status, labels) is retried on a
// fresh read; a change to the rules themselves is not overwritten but
// returned wrapped in router.ErrConflict.
func (r *Router) Set(ctx context.Context, w router.Weights) error {
	if err := w.Check(); err != nil {
		return fmt.Errorf("setting HTTPRoute %q: %w", r.cfg.Route, err)
	}
	var seen []any // spec.rules as first read
	read := false
	return retry.RetryOnConflict(backoff, func() error {
		route, rules, err := r.getRules(ctx)
		if err != nil {
			return err
		}
		now, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
		if !read {
			seen, read = now, true
		} else if !reflect.DeepEqual(seen, now) {
			return fmt.Errorf("HTTPRoute %q: its rules changed while bluegreen was updating them: %w", r.cfg.Route, router.ErrConflict)
		}
		if upToDate(rules, w) && r.stickyUpToDate(route, rules, w) {
			return nil
		}
		for _, rl := range rules {
			rl.set(r.cfg.App, w)
		}
		r.setSticky(route, rules, w)
		// route carries the resourceVersion just read: a write made since
		// makes this a Conflict, and RetryOnConflict reads again.
		if _, err := r.routes().Update(ctx, route, metav1.UpdateOptions{DryRun: r.dryRun, FieldValidation: r.fieldValidation()}); err != nil {
			if apierrors.IsConflict(err) {
				return fmt.Errorf("updating HTTPRoute %q: %w: %w", r.cfg.Route, router.ErrConflict, err)
			}
			return fmt.Errorf("updating HTTPRoute %q: %w", r.cfg.Route, err)
		}
		if w.Split() {
			r.ended = nil // put back, or superseded by this split
		}
		return nil
	})
}

func upToDate(rules []*rule, w router.Weights) bool {
	for _, rl := range rules {
		got := rl.weights()
		if got[color.Blue] != w[color.Blue] || got[color.Green] != w[color.Green] {
			return false
		}
	}
	return true
}

// Verify implements router.Router. It fails when a parent Gateway reports
// that it cannot resolve the route's backends, or when the Service of
// color c is missing or lacks the port the route sends to. Without a
// ServicesClient the Service cannot be checked and the error wraps
// errors.ErrUnsupported.
func (r *Router) Verify(ctx context.Context, c color.Color) error {
	if c != color.Blue && c != color.Green {
		return fmt.Errorf("verifying HTTPRoute %q: unknown color %q", r.cfg.Route, c)
	}
	route, err := r.get(ctx)
	if err != nil {
		return err
	}
	if err := r.checkResolved(route); err != nil {
		return err
	}
	rules, err := r.parse(route)
	if err != nil {
		return err
	}
	name := kube.Name(r.cfg.App, c)
	if r.cfg.ServicesClient == nil {
		return fmt.Errorf("checking Service %q behind HTTPRoute %q: no core client: %w", name, r.cfg.Route, errors.ErrUnsupported)
	}
	svc, err := r.cfg.ServicesClient.Services(r.cfg.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("no Service %q in namespace %q: HTTPRoute %q cannot send traffic to %s", name, r.cfg.Namespace, r.cfg.Route, c)
	}
	if err != nil {
		return fmt.Errorf("reading Service %q: %w", name, err)
	}
	for _, rl := range rules {
		port, ok := rl.port(c)
		if !ok {
			continue
		}
		found := false
		for _, p := range svc.Spec.Ports {
			found = found || int64(p.Port) == port
		}
		if !found {
			return fmt.Errorf("service %q has no port %d, which HTTPRoute %q sends %s's traffic to", name, port, r.cfg.Route, c)
		}
	}
	return nil
}

// checkResolved returns the reason a parent Gateway gives for not
// resolving the route's backendRefs. Conditions older than the route's
// current generation are skipped: they describe rules that are gone.
func (r *Router) checkResolved(route *unstructured.Unstructured) error {
	parents, _, _ := unstructured.NestedSlice(route.Object, "status", "parents")
	for _, p := range parents {
		parent, _ := p.(map[string]any)
		name, _, _ := unstructured.NestedString(parent, "parentRef", "name")
		conds, _, _ := unstructured.NestedSlice(parent, "conditions")
		for _, c := range conds {
			cond, _ := c.(map[string]any)
			if cond["type"] != "ResolvedRefs" || cond["status"] != "False" {
				continue
			}
			if gen, ok, _ := unstructured.NestedInt64(cond, "observedGeneration"); ok && gen < route.GetGeneration() {
				continue
			}
			return fmt.Errorf("HTTPRoute %q: Gateway %q cannot resolve its backendRefs (%v): %v", r.cfg.Route, name, cond["reason"], cond["message"])
		}
	}
	return nil
}
