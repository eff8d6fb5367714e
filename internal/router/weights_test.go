package router

import (
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

func TestWeightsCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		w    Weights
		ok   bool
	}{
		{"all blue", All(color.Blue), true},
		{"a share", Share(color.Green, 10), true},
		{"short of 100", Weights{color.Blue: 50, color.Green: 40}, false},
		{"negative", Weights{color.Blue: 110, color.Green: -10}, false},
		{"unknown color", Weights{color.Blue: 100, "red": 0}, false},
		{"empty", Weights{}, false},
	}
	for _, tc := range cases {
		if err := tc.w.Check(); (err == nil) != tc.ok {
			t.Errorf("%s: %s.Check() = %v, want ok %t", tc.name, tc.w, err, tc.ok)
		}
	}
}

func TestWeightsEqual(t *testing.T) {
	t.Parallel()
	if !All(color.Blue).Equal(Weights{color.Blue: 100}) {
		t.Error("a missing color must count as 0")
	}
	if Share(color.Green, 10).Equal(Share(color.Green, 20)) {
		t.Error("different shares compare equal")
	}
	if got, want := Share(color.Green, 10), (Weights{color.Green: 10, color.Blue: 90}); !got.Equal(want) {
		t.Errorf("Share(green, 10) = %s, want %s", got, want)
	}
}
