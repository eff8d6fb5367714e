package setup

import (
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

// TestOptionsOwner: the deploy lock names the run by its URL, whether the
// run-url input gives it or the CI does, and only without one by machine
// and process.
func TestOptionsOwner(t *testing.T) {
	t.Parallel()
	github := map[string]string{
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42",
	}
	cases := []struct {
		name   string
		runURL string
		env    map[string]string
		want   string
	}{
		{name: "run-url input", runURL: "https://ci.example.com/jobs/7", want: "https://ci.example.com/jobs/7"},
		{name: "run-url over the CI's", runURL: "https://ci.example.com/jobs/7", env: github, want: "https://ci.example.com/jobs/7"},
		{name: "from GitHub", env: github, want: "https://github.com/acme/shop/actions/runs/42"},
		{name: "no URL", want: " pid "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := &config.Config{App: "shop", RunURL: tc.runURL}
			opts := Options(cfg, func(k string) string { return tc.env[k] })
			if !strings.Contains(opts.Owner, tc.want) || (tc.want != " pid " && opts.Owner != tc.want) {
				t.Errorf("Owner = %q, want %q", opts.Owner, tc.want)
			}
			if opts.Release.RunURL != "" && opts.Owner != opts.Release.RunURL {
				t.Errorf("Owner = %q, want the recorded run URL %q", opts.Owner, opts.Release.RunURL)
			}
		})
	}
}
