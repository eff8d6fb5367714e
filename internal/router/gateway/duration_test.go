package gateway

import (
	"testing"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/router"
)

// TestDuration writes Gateway API durations, ^([0-9]{1,5}(h|m|s|ms)){1,4}$,
// up to the 7 days sticky-duration allows.
func TestDuration(t *testing.T) {
	t.Parallel()
	cases := map[time.Duration]string{
		time.Second:                  "1s",
		90 * time.Second:             "1m30s",
		time.Hour:                    "1h",
		time.Hour + time.Second:      "1h1s",
		7 * 24 * time.Hour:           "168h",
		26*time.Hour + 3*time.Minute: "26h3m",
	}
	for d, want := range cases {
		if got := duration(d); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestPersistenceOnlyWhileSplit: a split gets a permanent cookie that
// lives sticky-duration; all traffic to one color gets none.
func TestPersistenceOnlyWhileSplit(t *testing.T) {
	t.Parallel()
	r := &Router{sticky: 30 * time.Minute}
	p := r.persistence(router.Weights{color.Blue: 50, color.Green: 50})
	if p["type"] != "Cookie" || p["absoluteTimeout"] != "30m" || p["cookieConfig"].(map[string]any)["lifetimeType"] != "Permanent" {
		t.Errorf("persistence of a split = %v", p)
	}
	if p := r.persistence(router.All(color.Green)); p != nil {
		t.Errorf("persistence with all traffic on green = %v, want none", p)
	}
	if p := (&Router{}).persistence(router.Weights{color.Blue: 50, color.Green: 50}); p != nil {
		t.Errorf("persistence without the option = %v, want none", p)
	}
}
