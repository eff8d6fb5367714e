package zerodowntime_test

import (
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

// TestPreviewDryRunAndStatus: a dry run writes nothing and runs no deploy
// command; a deploy points the preview backend at the new color before
// verify-url is checked through it (it must answer the new release);
// status reads both colors from the live system.
func TestPreviewDryRunAndStatus(t *testing.T) {
	t.Parallel()
	g := newGroundWith(t, false, true)
	before, _ := runtimeDo(g.h.AdminAddr, "show servers state shop")

	dry := g.run(g.inputs("deploy", "shop:1.1", "INPUT_DRY-RUN", "true", "INPUT_HAPROXY-PREVIEW-BACKEND", "shop-preview"), nil)
	if dry.err != nil {
		t.Fatalf("dry run: %v\n%s", dry.err, dry.log)
	}
	after, _ := runtimeDo(g.h.AdminAddr, "show servers state shop")
	if weights(after) != weights(before) || g.apps[color.Green][0].Release() != "shop:0.9" {
		t.Errorf("the dry run changed something: weights %s -> %s, green runs %s", weights(before), weights(after), g.apps[color.Green][0].Release())
	}
	if !strings.Contains(strings.Join(dry.res.Notes, "\n"), "switch traffic from blue to green") {
		t.Errorf("the dry run does not say what it would change: %q", dry.res.Notes)
	}

	r := g.run(g.inputs("deploy", "shop:1.1", "INPUT_HAPROXY-PREVIEW-BACKEND", "shop-preview",
		"INPUT_VERIFY-URL", g.h.URLs["shop-preview"]+"/version", "INPUT_VERIFY-BODY", "shop:1.1"), nil)
	if r.err != nil {
		t.Fatalf("deploy verified through the preview backend: %v\n%s", r.err, r.log)
	}

	st := g.run(g.inputs("status", ""), nil)
	if st.err != nil {
		t.Fatalf("status: %v", st.err)
	}
	if st.res.ActiveColor != "green" || len(st.res.Colors) != 2 {
		t.Fatalf("status: active %q, colors %+v", st.res.ActiveColor, st.res.Colors)
	}
	for _, c := range st.res.Colors {
		want := map[string]string{"blue": "shop:1.0", "green": "shop:1.1"}[c.Color]
		if c.Image != want || c.Ready != 2 {
			t.Errorf("status of %s: %s %d/%d ready, want %s 2/2", c.Color, c.Image, c.Ready, c.Desired, want)
		}
	}
}
