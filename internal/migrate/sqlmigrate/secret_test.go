package sqlmigrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestSecretsOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		url  string
		want []string // among the secrets, besides the URL itself
	}{
		{name: "plain", url: "postgres://u:pw123@h/db", want: []string{"pw123"}},
		{name: "escaped", url: "postgres://u:p%40ss%2Fw@h/db", want: []string{"p%40ss%2Fw", "p@ss/w"}},
		{name: "unescaped slash", url: "postgres://u:pa/ss@h/db", want: []string{"pa/ss"}},
		{name: "query", url: "postgres://u@h/db?sslmode=disable&password=p%2Bw", want: []string{"p%2Bw", "p+w"}},
		{name: "unparsable", url: "postgres://u:pw 1@h:x/db", want: []string{"pw 1"}},
		{name: "no password", url: "postgres://u@h/db"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := secretsOf(tc.url)
			for _, w := range append([]string{tc.url}, tc.want...) {
				if !slices.Contains(got, w) {
					t.Errorf("secretsOf(%q) = %q; want %q among them", tc.url, got, w)
				}
			}
			if len(tc.want) == 0 && len(got) != 1 {
				t.Errorf("secretsOf(%q) = %q; want the URL only", tc.url, got)
			}
		})
	}
}

func TestScrubbedError(t *testing.T) {
	t.Parallel()
	s := scrubber{secrets: secretsOf("postgres://u:hunter2@h/db")}
	err := s.err(fmt.Errorf("dialing postgres://u:hunter2@h/db as hunter2: %w", context.Canceled))
	if got, want := err.Error(), "dialing *** as ***: context canceled"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false, want true", err)
	}
	if errors.Unwrap(err) != nil {
		t.Errorf("Unwrap(%v) is not nil: the unscrubbed chain must stay out of reach", err)
	}
	if s.err(nil) != nil {
		t.Error("err(nil) is not nil")
	}
}

func TestHasUpAnnotation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body string
		want bool
	}{
		{"-- +goose Up\nSELECT 1;\n", true},
		{"-- comment\n--+goose UP\r\nSELECT 1;", true},
		{"-- +goose   up  \n", true},
		{"  -- +goose Up\n", false}, // goose refuses an indented annotation
		{"-- +goose Down\nSELECT 1;\n", false},
		{"-- +goose Update\n", false},
		{"SELECT 1; -- +goose Up\n", false},
		{"", false},
	}
	for _, tc := range cases {
		if got := hasUpAnnotation([]byte(tc.body)); got != tc.want {
			t.Errorf("hasUpAnnotation(%q) = %t, want %t", tc.body, got, tc.want)
		}
	}
}
