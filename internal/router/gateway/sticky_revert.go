package gateway

import (
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ended is the session persistence of bluegreen's that a write sending
// all traffic to one color removed: the annotation's value and, by rule
// position, each rule's persistence (nil where it had none of ours).
type ended struct {
	mark  string
	rules []map[string]any
}

// keepEnded records the persistence of bluegreen's (mark ours) that a
// write to one color is about to remove from rules, so that a split
// written later by the same router, the revert of a failed switch, puts
// it back: the split is restored as it was, not without its stickiness.
func (r *Router) keepEnded(rules []*rule, ours string) {
	r.ended = nil
	if ours == "" {
		return
	}
	e := &ended{mark: ours, rules: make([]map[string]any, len(rules))}
	found := false
	for i, rl := range rules {
		if p := rl.persistence(); p != nil && mark(p) == ours {
			e.rules[i], found = maps.Clone(p), true
		}
	}
	if found {
		r.ended = e
	}
}

// restorable reports whether a split without WithSessionPersistence
// should put back what keepEnded recorded: the route still has the same
// rules, none of bluegreen's persistence, and no rule that had it holds
// another now (the owner's edit since is the owner's).
func (r *Router) restorable(route *unstructured.Unstructured, rules []*rule) bool {
	if r.ended == nil || len(rules) != len(r.ended.rules) {
		return false
	}
	if _, marked := route.GetAnnotations()[PersistenceAnnotation]; marked {
		return false
	}
	for i, rl := range rules {
		if r.ended.rules[i] != nil && rl.persistence() != nil {
			return false
		}
	}
	return true
}

// putBack writes back what keepEnded recorded, where restorable says so.
func (r *Router) putBack(route *unstructured.Unstructured, rules []*rule) {
	if !r.restorable(route, rules) {
		return
	}
	for i, rl := range rules {
		if p := r.ended.rules[i]; p != nil {
			rl.obj["sessionPersistence"] = maps.Clone(p)
		}
	}
	annotations := route.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[PersistenceAnnotation] = r.ended.mark
	route.SetAnnotations(annotations)
}
