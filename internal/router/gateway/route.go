package gateway

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// rule is one rule of the HTTPRoute, pointing into the route object so
// that set changes the route in place.
type rule struct {
	obj map[string]any
	// refs holds the first backendRef of each color found in the rule.
	refs map[color.Color]map[string]any
	// weight sums each color's weights, should a color be listed twice.
	weight map[color.Color]int64
}

// parse finds the app's colors in every rule of route. A rule that sends
// to neither color is an error: the route is not the app's, or a rule was
// added by hand that bluegreen would silently leave out of every switch.
func (r *Router) parse(route *unstructured.Unstructured) ([]*rule, error) {
	spec, _ := route.Object["spec"].(map[string]any)
	raw, _ := spec["rules"].([]any)
	if len(raw) == 0 {
		return nil, fmt.Errorf("HTTPRoute %q has no rules: add one with backendRefs to the Services %q and %q",
			r.cfg.Route, kube.Name(r.cfg.App, color.Blue), kube.Name(r.cfg.App, color.Green))
	}
	rules := make([]*rule, 0, len(raw))
	for i, v := range raw {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("HTTPRoute %q: rule %d is not an object", r.cfg.Route, i)
		}
		rl := &rule{obj: obj, refs: map[color.Color]map[string]any{}, weight: map[color.Color]int64{}}
		refs, _ := obj["backendRefs"].([]any)
		for _, v := range refs {
			ref, ok := v.(map[string]any)
			if !ok {
				continue
			}
			c, ok := r.colorOf(route.GetNamespace(), ref)
			if !ok {
				continue
			}
			if rl.refs[c] == nil {
				rl.refs[c] = ref
			}
			rl.weight[c] += weightOf(ref)
		}
		if len(rl.refs) == 0 {
			return nil, fmt.Errorf("HTTPRoute %q: rule %d sends to neither Service %q nor %q",
				r.cfg.Route, i, kube.Name(r.cfg.App, color.Blue), kube.Name(r.cfg.App, color.Green))
		}
		rules = append(rules, rl)
	}
	return rules, nil
}

// colorOf tells which color ref points at, if any: a Service (group ""
// and kind Service, both the defaults) in the route's own namespace named
// after one of the app's colors.
func (r *Router) colorOf(namespace string, ref map[string]any) (color.Color, bool) {
	if g, ok := ref["group"]; ok && g != "" {
		return color.None, false
	}
	if k, ok := ref["kind"]; ok && k != "Service" {
		return color.None, false
	}
	if ns, ok := ref["namespace"]; ok && ns != namespace {
		return color.None, false
	}
	for _, c := range color.All {
		if ref["name"] == kube.Name(r.cfg.App, c) {
			return c, true
		}
	}
	return color.None, false
}

// weightOf reads a backendRef's weight; the Gateway API default is 1.
func weightOf(ref map[string]any) int64 {
	switch v := ref["weight"].(type) {
	case int64:
		return v
	case float64: // JSON numbers decoded without the integer hint
		return int64(v)
	case nil:
		return 1
	}
	return 0
}

// weights converts the rule's weights to percent. Weights that are all 0
// send no traffic at all: both colors read 0.
func (rl *rule) weights() router.Weights {
	b, g := rl.weight[color.Blue], rl.weight[color.Green]
	if b+g <= 0 {
		return router.Weights{color.Blue: 0, color.Green: 0}
	}
	blue := int((b*100 + (b+g)/2) / (b + g))
	return router.Weights{color.Blue: blue, color.Green: 100 - blue}
}

// set makes the rule's backendRefs exactly the two colors, weighted by w.
// A color's existing ref keeps its port, filters and other fields; a color
// missing from the rule gets a ref modelled on the other color's.
func (rl *rule) set(app string, w router.Weights) {
	refs := make([]any, 0, 2)
	for _, c := range color.All {
		ref := rl.refs[c]
		if ref == nil {
			ref = map[string]any{"name": kube.Name(app, c)}
			// Only what says where the Service is: the other color's
			// filters are its own business.
			for _, k := range []string{"group", "kind", "namespace", "port"} {
				if v, ok := rl.refs[c.Other()][k]; ok {
					ref[k] = v
				}
			}
		}
		ref["weight"] = int64(w[c])
		refs = append(refs, ref)
	}
	rl.obj["backendRefs"] = refs
}

// port returns the port the rule sends color c's traffic to: its own
// ref's, else the other color's, which set copies.
func (rl *rule) port(c color.Color) (int64, bool) {
	ref := rl.refs[c]
	if ref == nil {
		ref = rl.refs[c.Other()]
	}
	switch v := ref["port"].(type) {
	case int64:
		return v, true
	case float64:
		return int64(v), true
	}
	return 0, false
}
