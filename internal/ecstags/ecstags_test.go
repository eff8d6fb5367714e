package ecstags

import (
	"strings"
	"testing"
)

func TestValue(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"ghcr.io/acme/shop:1.4.2", "ghcr.io/acme/shop:1.4.2"},
		{"shop@sha256:abc", "shop@sha256:abc"},
		{"https://ci.example.com/run?id=42&try=1", "https://ci.example.com/run_id=42_try=1"},
		{"émoji ✓", "émoji _"},
		{strings.Repeat("a", 300), strings.Repeat("a", MaxValue)},
	}
	for _, tc := range cases {
		if got := Value(tc.in); got != tc.want {
			t.Errorf("Value(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want bool
	}{
		{"bluegreen:lock:shop", true},
		{"bluegreen:lock:shop*", false},
		{strings.Repeat("k", MaxKey+1), false},
	}
	for _, tc := range cases {
		if got := ValidKey(tc.in); got != tc.want {
			t.Errorf("ValidKey(%q) = %t, want %t", tc.in, got, tc.want)
		}
	}
}
