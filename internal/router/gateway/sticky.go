package gateway

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// ErrNoSessionPersistence is returned by CheckSessionPersistence when the
// cluster's HTTPRoute has no sessionPersistence field.
var ErrNoSessionPersistence = errors.New("this cluster's HTTPRoute CRD has no sessionPersistence")

// WithSessionPersistence keeps a client on the backend it first reached
// for d while the route splits traffic: each weighted write sets every
// rule's sessionPersistence (a permanent cookie that lives d), and a write
// that sends all traffic to one color removes it, so that no client stays
// on the color being left. Without it a rule's sessionPersistence is kept
// as read. sessionPersistence is in the HTTPRoute CRDs of the Gateway
// API's experimental channel only; see CheckSessionPersistence.
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

// stickyUpToDate reports whether every rule already has the
// sessionPersistence w asks for; always true without the option.
func (r *Router) stickyUpToDate(rules []*rule, w router.Weights) bool {
	if r.sticky <= 0 {
		return true
	}
	want := r.persistence(w)
	for _, rl := range rules {
		got, _ := rl.obj["sessionPersistence"].(map[string]any)
		if (want == nil) != (got == nil) || (want != nil && !reflect.DeepEqual(normal(got), normal(want))) {
			return false
		}
	}
	return true
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

// setSticky writes w's sessionPersistence into the rules, keeping the
// session name a rule's owner gave.
func (r *Router) setSticky(rules []*rule, w router.Weights) {
	if r.sticky <= 0 {
		return
	}
	for _, rl := range rules {
		p := r.persistence(w)
		if p == nil {
			delete(rl.obj, "sessionPersistence")
			continue
		}
		if old, ok := rl.obj["sessionPersistence"].(map[string]any); ok && old["sessionName"] != nil {
			p["sessionName"] = old["sessionName"]
		}
		rl.obj["sessionPersistence"] = p
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
	route, err := r.get(ctx)
	if err != nil {
		return err
	}
	rules, err := r.parse(route)
	if err != nil {
		return err
	}
	for _, rl := range rules {
		rl.obj["sessionPersistence"] = map[string]any{
			"type": "Cookie", "absoluteTimeout": duration(r.sticky), "cookieConfig": map[string]any{"lifetimeType": "Permanent"},
		}
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
