package verify_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    string
		accepts []int
		refuses []int
	}{
		{in: "", want: "2xx", accepts: []int{200, 204, 299}, refuses: []int{199, 301, 404, 500}},
		{in: "200", want: "200", accepts: []int{200}, refuses: []int{201, 204}},
		{in: " 200 , 204 ", want: "200,204", accepts: []int{200, 204}, refuses: []int{201, 203}},
		{in: "200-299", want: "200-299", accepts: []int{200, 250, 299}, refuses: []int{300}},
		{in: "2XX,304", want: "2xx,304", accepts: []int{200, 299, 304}, refuses: []int{301, 404}},
		{in: "401", want: "401", accepts: []int{401}, refuses: []int{200}},
		{in: "200,", want: "200", accepts: []int{200}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			st, err := verify.ParseStatus(tc.in)
			if err != nil {
				t.Fatalf("ParseStatus(%q): %v", tc.in, err)
			}
			if got, want := st.String(), tc.want; got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			for _, code := range tc.accepts {
				if !st.Accepts(code) {
					t.Errorf("Accepts(%d) = false, want true", code)
				}
			}
			for _, code := range tc.refuses {
				if st.Accepts(code) {
					t.Errorf("Accepts(%d) = true, want false", code)
				}
			}
		})
	}
}

func TestParseStatusErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"ok":      `"ok" is not a status code`,
		"20":      `"20" is not a status code`,
		"600":     `"600" is not a status code`,
		"299-200": `"299-200" is a range that ends before it starts`,
		"200-":    `"200-" is not a status code`,
		"6xx":     `"6xx" is not a status code`,
		",":       `"," holds no status code`,
		"200;204": `"200;204" is not a status code`,
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := verify.ParseStatus(in)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("ParseStatus(%q) = %v, want an error containing %q", in, err, want)
			}
		})
	}
}

func TestParseBody(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     string
		want   string
		match  []string
		refuse []string
	}{
		{in: "", want: "with any body", match: []string{"", "anything"}},
		{in: "ok", want: `containing "ok"`, match: []string{"ok", `{"status":"ok"}`}, refuse: []string{"OK", "fail"}},
		{in: `/"status":\s*"(ok|up)"/`, want: `matching /"status":\s*"(ok|up)"/`, match: []string{`{"status": "up"}`}, refuse: []string{`{"status":"down"}`}},
		{in: "/(?i)ok/", want: "matching /(?i)ok/", match: []string{"OK", "ok"}, refuse: []string{"no"}},
		// Too short to be a regular expression: a substring.
		{in: "//", want: `containing "//"`, match: []string{"https://x"}, refuse: []string{"/"}},
		{in: "/", want: `containing "/"`, match: []string{"/"}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			b, err := verify.ParseBody(tc.in)
			if err != nil {
				t.Fatalf("ParseBody(%q): %v", tc.in, err)
			}
			if got, want := b.String(), tc.want; got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			for _, s := range tc.match {
				if !b.Matches([]byte(s)) {
					t.Errorf("Matches(%q) = false, want true", s)
				}
			}
			for _, s := range tc.refuse {
				if b.Matches([]byte(s)) {
					t.Errorf("Matches(%q) = true, want false", s)
				}
			}
		})
	}
	if _, err := verify.ParseBody("/(unclosed/"); err == nil || !strings.Contains(err.Error(), "not a valid regular expression") {
		t.Errorf("ParseBody of a bad regexp = %v, want an error", err)
	}
}

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	got, err := verify.ParseHeaders("authorization: Bearer s3cret\n\n  X-Probe: blue: green \nHost: shop.example.com\n")
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{
		"Authorization": {"Bearer s3cret"},
		"X-Probe":       {"blue: green"},
		"Host":          {"shop.example.com"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseHeaders (-want +got):\n%s", diff)
	}
	if h, err := verify.ParseHeaders(" \n"); err != nil || h != nil {
		t.Errorf("ParseHeaders of blank lines = %v, %v; want nil, nil", h, err)
	}
	for in, want := range map[string]string{
		"Authorization Bearer s3cret": "line 1 is not `Name: value`",
		"X-Ok: 1\nBad Name: s3cret":   "line 2: the text before ':' is not a header name (the line is not shown: it may hold a credential)",
		": s3cret":                    "line 1: the text before ':' is not a header name (the line is not shown: it may hold a credential)",
		"Bearer s3:cret":              "line 1: the text before ':' is not a header name (the line is not shown: it may hold a credential)",
	} {
		_, err := verify.ParseHeaders(in)
		if err == nil || err.Error() != want {
			t.Errorf("ParseHeaders(%q) = %v, want %q", in, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "s3")) {
			t.Errorf("ParseHeaders(%q) error %q quotes a header value", in, err)
		}
	}
}

func TestCheckString(t *testing.T) {
	t.Parallel()
	st, _ := verify.ParseStatus("200,204")
	body, _ := verify.ParseBody("ok")
	chk := verify.Check{
		URL:    "https://probe:hunter2@shop.example.com/healthz",
		Status: st,
		Body:   body,
		Header: http.Header{"Authorization": {"Bearer s3cret"}, "X-Probe": {"1"}},
	}
	got := chk.String()
	want := `GET https://probe:xxxxx@shop.example.com/healthz (headers Authorization, X-Probe) -> 200,204 containing "ok"`
	if got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
