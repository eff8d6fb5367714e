package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/gateway"
)

// TestSessionPersistenceNeedsTheCRDField: the local plane installs the
// Gateway API's standard channel, whose HTTPRoute has no
// sessionPersistence. The check made before any write refuses sticky
// sessions, naming the field and the channel that has it, and a sticky
// split is refused by the API server (strict field validation) instead of
// being stored without its stickiness.
func TestSessionPersistenceNeedsTheCRDField(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.createRoute(t, "shop", rule(ref("shop-blue", 1)))
	before := p.getRoute(t, "shop").GetResourceVersion()
	r, err := gateway.New(gateway.Config{Client: p.dyn, Namespace: p.ns, Route: "shop", App: app}, gateway.WithSessionPersistence(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	err = r.CheckSessionPersistence(t.Context())
	if err == nil || !strings.Contains(err.Error(), "sessionPersistence") || !strings.Contains(err.Error(), "experimental channel") {
		t.Fatalf("CheckSessionPersistence on the standard channel = %v, want a refusal naming sessionPersistence and the experimental channel", err)
	}
	if err := r.Set(t.Context(), router.Weights{color.Blue: 90, color.Green: 10}); err == nil {
		t.Error("a sticky split was stored by a cluster whose HTTPRoute has no sessionPersistence")
	}
	if got := p.getRoute(t, "shop").GetResourceVersion(); got != before {
		t.Errorf("the route was written (resourceVersion %s -> %s)", before, got)
	}
	// All traffic to one color needs no stickiness: the write is made.
	if err := r.Set(t.Context(), router.All(color.Blue)); err != nil {
		t.Errorf("a switch without a split under WithSessionPersistence: %v", err)
	}
}
