package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// ErrNoSessionPersistence is returned by CheckSessionPersistence when the
// cluster's HTTPRoute has no sessionPersistence field.
var ErrNoSessionPersistence = errors.New("this cluster's HTTPRoute CRD has no sessionPersistence")

// PersistenceAnnotation, on an HTTPRoute, holds the sessionPersistence
// bluegreen last wrote into the route's rules, as JSON without the
// sessionName: it tells bluegreen's own persistence from the route
// owner's. It is compared by value, not by rule, so that it survives the
// owner reordering, adding or naming rules; a rule whose persistence the
// owner has since edited no longer matches, and is the owner's again.
const PersistenceAnnotation = "bluegreen.dev/session-persistence"

// WithSessionPersistence keeps a client on the backend it first reached
// for d while the route splits traffic: each weighted write sets every
// rule's sessionPersistence (a permanent cookie that lives d), and a write
// that sends all traffic to one color removes every rule's, so that no
// client stays on the color being left. Without it a split keeps each
// rule's sessionPersistence as read, and a write that sends all traffic
// to one color removes only the persistence bluegreen wrote (see
// PersistenceAnnotation): one the route's owner set is left alone, since
// it may keep clients on one pod of a Service rather than on a color.
// sessionPersistence is in the HTTPRoute CRDs of the Gateway API's
// experimental channel only; see CheckSessionPersistence.
func WithSessionPersistence(d time.Duration) Option { return func(r *Router) { r.sticky = d } }

// persistence is the sessionPersistence a rule gets for w; nil for none.
func (r *Router) persistence(w router.Weights) map[string]any {
	if r.sticky <= 0 || !w.Split() {
		return nil
	}
	return map[string]any{
		"type":            "Cookie",
		"absoluteTimeout": duration(r.sticky),
		"cookieConfig":    map[string]any{"lifetimeType": "Permanent"},
	}
}

// mark is how PersistenceAnnotation writes p: JSON, map keys sorted,
// without the sessionName. "" for none.
func mark(p map[string]any) string {
	if p == nil {
		return ""
	}
	b, err := json.Marshal(normal(p))
	if err != nil {
		return "" // unreachable: p holds strings and maps of strings
	}
	return string(b)
}

// normal leaves out sessionName, which is the route owner's to choose
// (it names the cookie) and does not change which color a client stays
// on. The API server stores the rest as written: the experimental
// channel's defaults (type Cookie, lifetimeType Session) are the values
// persistence writes or overrides.
func normal(p map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range p {
		if k != "sessionName" {
			out[k] = v
		}
	}
	return out
}

// persistence returns the rule's sessionPersistence; nil for none.
func (rl *rule) persistence() map[string]any {
	p, _ := rl.obj["sessionPersistence"].(map[string]any)
	return p
}

// stickyUpToDate reports whether the rules' sessionPersistence, and the
// route's PersistenceAnnotation, are already what w asks for.
func (r *Router) stickyUpToDate(route *unstructured.Unstructured, rules []*rule, w router.Weights) bool {
	ours, marked := route.GetAnnotations()[PersistenceAnnotation]
	switch {
	case w.Split() && r.sticky > 0:
		want := mark(r.persistence(w))
		if ours != want {
			return false
		}
		for _, rl := range rules {
			if mark(rl.persistence()) != want {
				return false
			}
		}
		return true
	case w.Split():
		return !r.restorable(route, rules)
	case r.sticky > 0:
		for _, rl := range rules {
			if rl.persistence() != nil {
				return false
			}
		}
		return !marked
	}
	// All to one color without the option: bluegreen's own persistence,
	// and its annotation, must be gone; the owner's stays.
	return !marked
}

// setSticky writes w's sessionPersistence into the rules, keeping the
// session name a rule's owner gave, and records in PersistenceAnnotation
// what it wrote; a write that sends all traffic to one color removes the
// persistence stickyUpToDate finds in the way, and the annotation. A
// split without WithSessionPersistence keeps the rules' persistence as
// read, unless this router removed its own at a switch (see keepEnded).
func (r *Router) setSticky(route *unstructured.Unstructured, rules []*rule, w router.Weights) {
	annotations := route.GetAnnotations()
	ours, marked := annotations[PersistenceAnnotation]
	switch {
	case w.Split() && r.sticky > 0:
		for _, rl := range rules {
			p := r.persistence(w)
			if old := rl.persistence(); old != nil && old["sessionName"] != nil {
				p["sessionName"] = old["sessionName"]
			}
			rl.obj["sessionPersistence"] = p
		}
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[PersistenceAnnotation] = mark(r.persistence(w))
		route.SetAnnotations(annotations)
		return
	case w.Split():
		r.putBack(route, rules)
		return
	}
	r.keepEnded(rules, ours)
	for _, rl := range rules {
		if r.sticky > 0 || (marked && mark(rl.persistence()) == ours) {
			delete(rl.obj, "sessionPersistence")
		}
	}
	if marked {
		delete(annotations, PersistenceAnnotation)
		route.SetAnnotations(annotations)
	}
}

// fieldValidation makes the API server refuse, rather than silently drop,
// a field its CRD lacks: a sessionPersistence the cluster does not know
// must fail the write, not leave a split without stickiness.
func (r *Router) fieldValidation() string {
	if r.sticky > 0 {
		return metav1.FieldValidationStrict
	}
	return ""
}

// CheckSessionPersistence asks the API server, with a server-side dry run
// that stores nothing, whether the HTTPRoute accepts sessionPersistence on
// its rules. It fails, naming what to install, where the CRD lacks the
// field (the standard channel's HTTPRoute does). Call it before any write.
func (r *Router) CheckSessionPersistence(ctx context.Context) error {
	if r.sticky <= 0 {
		return nil // a router without WithSessionPersistence never writes it
	}
	route, rules, err := r.getRules(ctx)
	if err != nil {
		return err
	}
	// What a sticky split writes: the same field, the same values.
	p := r.persistence(router.Share(color.Blue, 50))
	for _, rl := range rules {
		rl.obj["sessionPersistence"] = p
	}
	_, err = r.routes().Update(ctx, route, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict})
	switch {
	case err == nil:
		return nil
	case (apierrors.IsBadRequest(err) || apierrors.IsInvalid(err)) && strings.Contains(err.Error(), "sessionPersistence"):
		return fmt.Errorf("HTTPRoute %q: %w (the Gateway API standard channel lacks it; the experimental channel has it), so a split cannot be sticky here: %v", r.cfg.Route, ErrNoSessionPersistence, err)
	case apierrors.IsConflict(err):
		return nil // the route changed meanwhile; the field itself was not refused
	}
	return fmt.Errorf("checking that HTTPRoute %q accepts sessionPersistence: %w", r.cfg.Route, err)
}

// duration writes d as a Gateway API duration (GEP-2257): hours, minutes
// and seconds, each with at most 5 digits, zero parts left out.
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var b strings.Builder
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}
