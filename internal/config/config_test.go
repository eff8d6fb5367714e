package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

// env is the environment of one run; getenv reads it as os.Getenv does,
// an unset name reading as "".
type env map[string]string

func (e env) getenv(name string) string { return e[name] }

// with returns a copy of e with the pairs of kv ("NAME", "value", ...) set.
func (e env) with(kv ...string) env {
	out := make(env, len(e)+len(kv)/2)
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func load(t *testing.T, e env) (*config.Config, error) {
	t.Helper()
	return config.Load(t.Context(), config.Lookuper(e.getenv))
}

func mustLoad(t *testing.T, e env) *config.Config {
	t.Helper()
	c, err := load(t, e)
	if err != nil {
		t.Fatalf("Load(%v): %v", e, err)
	}
	return c
}

// TestLoadDefaults pins every default, including the ones computed from
// other inputs: the Services are named after the app.
func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	got := mustLoad(t, env{"INPUT_APP": "shop"})
	want := &config.Config{
		Command:        "deploy",
		Platform:       "kubernetes",
		App:            "shop",
		DryRun:         false,
		WaitTimeout:    config.Duration(10 * time.Minute),
		RequestTimeout: config.Duration(30 * time.Second),
		Router:         "service",
		VerifyTimeout:  config.Duration(2 * time.Minute),
		// TrafficSteps empty: all traffic moves at once.
		TrafficStepPause: config.Duration(time.Minute),
		Kubernetes: config.Kubernetes{
			Namespace:      "default",
			Service:        "shop",
			PreviewService: "shop-preview",
		},
		Promote: config.Promote{ScanOnPush: true},
		Hosts:   config.Hosts{VersionPath: "/version"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load() (-want +got):\n%s", diff)
	}
}

func TestLoadComputedDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                            string
		env                             env
		router, service, previewService string
	}{
		{
			name:   "no app, no service names",
			env:    env{},
			router: "service",
		},
		{
			name:           "given services are kept",
			env:            env{"INPUT_APP": "shop", "INPUT_SERVICE": "web", "INPUT_PREVIEW-SERVICE": "web-next"},
			router:         "service",
			service:        "web",
			previewService: "web-next",
		},
		{
			name:           "given router is kept",
			env:            env{"INPUT_APP": "shop", "INPUT_ROUTER": "gateway"},
			router:         "gateway",
			service:        "shop",
			previewService: "shop-preview",
		},
		{
			name:           "choices are trimmed and lower-cased",
			env:            env{"INPUT_APP": "shop", "INPUT_ROUTER": " Gateway ", "INPUT_PLATFORM": "Kubernetes"},
			router:         "gateway",
			service:        "shop",
			previewService: "shop-preview",
		},
		{
			// Only kubernetes has a default router; elsewhere Validate
			// names the missing choice.
			name:           "no default router on another platform",
			env:            env{"INPUT_APP": "shop", "INPUT_PLATFORM": "nomad"},
			router:         "",
			service:        "shop",
			previewService: "shop-preview",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, tc.env)
			if got, want := c.Router, tc.router; got != want {
				t.Errorf("Router = %q, want %q", got, want)
			}
			if got, want := c.Kubernetes.Service, tc.service; got != want {
				t.Errorf("Kubernetes.Service = %q, want %q", got, want)
			}
			if got, want := c.Kubernetes.PreviewService, tc.previewService; got != want {
				t.Errorf("Kubernetes.PreviewService = %q, want %q", got, want)
			}
		})
	}
}

// TestLoadSpellings checks both ways an input arrives: as the runner sets a
// GitHub Action input (hyphen kept) and as a plain BLUEGREEN_ variable,
// with a non-empty action input winning.
func TestLoadSpellings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  env
		want time.Duration
	}{
		{name: "action input", env: env{"INPUT_WAIT-TIMEOUT": "90s"}, want: 90 * time.Second},
		{name: "plain variable", env: env{"BLUEGREEN_WAIT_TIMEOUT": "90s"}, want: 90 * time.Second},
		{name: "action input wins", env: env{"INPUT_WAIT-TIMEOUT": "90s", "BLUEGREEN_WAIT_TIMEOUT": "5m"}, want: 90 * time.Second},
		// The runner sets every declared input, empty when the workflow
		// did not give it.
		{name: "empty action input falls through", env: env{"INPUT_WAIT-TIMEOUT": "", "BLUEGREEN_WAIT_TIMEOUT": "5m"}, want: 5 * time.Minute},
		{name: "both empty use the default", env: env{"INPUT_WAIT-TIMEOUT": "", "BLUEGREEN_WAIT_TIMEOUT": ""}, want: 10 * time.Minute},
		{name: "neither set uses the default", env: env{}, want: 10 * time.Minute},
		// Underscored action inputs are not how the runner spells them.
		{name: "underscored action input ignored", env: env{"INPUT_WAIT_TIMEOUT": "90s"}, want: 10 * time.Minute},
		{name: "lower-case plain variable ignored", env: env{"bluegreen_wait_timeout": "90s"}, want: 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, tc.env)
			if got, want := c.WaitTimeout.D(), tc.want; got != want {
				t.Errorf("WaitTimeout = %v, want %v", got, want)
			}
		})
	}
}

// TestLoadSpellingsEveryKind repeats the precedence rules for a string, a
// boolean and an input of the nested Kubernetes inputs.
func TestLoadSpellingsEveryKind(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		env   env
		field func(*config.Config) string
		want  string
	}{
		{name: "app from input", env: env{"INPUT_APP": "shop", "BLUEGREEN_APP": "cart"}, field: app, want: "shop"},
		{name: "app from variable", env: env{"INPUT_APP": "", "BLUEGREEN_APP": "cart"}, field: app, want: "cart"},
		{name: "dry-run from input", env: env{"INPUT_DRY-RUN": "true", "BLUEGREEN_DRY_RUN": "false"}, field: dryRun, want: "true"},
		{name: "dry-run from variable", env: env{"INPUT_DRY-RUN": "", "BLUEGREEN_DRY_RUN": "true"}, field: dryRun, want: "true"},
		{name: "dry-run default", env: env{"INPUT_DRY-RUN": ""}, field: dryRun, want: "false"},
		{name: "preview-service from input", env: env{"INPUT_PREVIEW-SERVICE": "a", "BLUEGREEN_PREVIEW_SERVICE": "b"}, field: preview, want: "a"},
		{name: "preview-service from variable", env: env{"INPUT_PREVIEW-SERVICE": "", "BLUEGREEN_PREVIEW_SERVICE": "b"}, field: preview, want: "b"},
		{name: "namespace default", env: env{"INPUT_NAMESPACE": ""}, field: namespace, want: "default"},
		{name: "namespace from variable", env: env{"BLUEGREEN_NAMESPACE": "shop-prod"}, field: namespace, want: "shop-prod"},
		{name: "result-file from variable", env: env{"BLUEGREEN_RESULT_FILE": "out/result.json"}, field: resultFile, want: "out/result.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, tc.env)
			if got, want := tc.field(c), tc.want; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func app(c *config.Config) string        { return c.App }
func dryRun(c *config.Config) string     { return fmt.Sprint(bool(c.DryRun)) }
func preview(c *config.Config) string    { return c.Kubernetes.PreviewService }
func namespace(c *config.Config) string  { return c.Kubernetes.Namespace }
func resultFile(c *config.Config) string { return c.ResultFile }

func TestLoadDuration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		value string
		want  time.Duration
	}{
		{value: "90s", want: 90 * time.Second},
		{value: "10m", want: 10 * time.Minute},
		{value: "1h30m", want: 90 * time.Minute},
		{value: "0", want: 0},
		{value: "0s", want: 0},
		{value: " 5m ", want: 5 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, env{"INPUT_WAIT-TIMEOUT": tc.value})
			if got, want := c.WaitTimeout.D(), tc.want; got != want {
				t.Errorf("wait-timeout %q = %v, want %v", tc.value, got, want)
			}
		})
	}
}

func TestLoadDurationRejected(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		value string
		want  string
	}{
		{name: "words", value: "ten minutes", want: `input "wait-timeout": "ten minutes" is not a duration, e.g. 90s or 10m`},
		{name: "no unit", value: "10", want: `input "wait-timeout": "10" is not a duration, e.g. 90s or 10m`},
		{name: "negative", value: "-5s", want: `input "wait-timeout": "-5s" is not a duration, e.g. 90s or 10m`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, env{"BLUEGREEN_WAIT_TIMEOUT": tc.value})
			if err == nil {
				t.Fatalf("Load(wait-timeout %q) succeeded, want an error", tc.value)
			}
			if got, want := err.Error(), tc.want; got != want {
				t.Errorf("Load() error = %q, want %q", got, want)
			}
			if !config.IsInputError(err) {
				t.Errorf("IsInputError(%v) = false, want true", err)
			}
		})
	}
}

// TestLoadErrorNamesTheInput checks that a bad value is blamed on the
// input that holds it, whichever spelling it came in and wherever the
// field sits in Config.
func TestLoadErrorNamesTheInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		env   env
		input string
	}{
		{name: "action input", env: env{"INPUT_VERIFY-TIMEOUT": "soon"}, input: "verify-timeout"},
		{name: "plain variable", env: env{"BLUEGREEN_BAKE_TIME": "a while"}, input: "bake-time"},
		{name: "field without default", env: env{"BLUEGREEN_SCALE_DOWN_AFTER": "later"}, input: "scale-down-after"},
		{name: "boolean", env: env{"INPUT_DRY-RUN": "maybe"}, input: "dry-run"},
		// Later inputs look good; the error must not name the last one read.
		{name: "first of two", env: env{"INPUT_WAIT-TIMEOUT": "x", "INPUT_LOCK-TIMEOUT": "1m"}, input: "wait-timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.env)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load() error = %v, want a *config.Error", err)
			}
			if got, want := ce.Input, tc.input; got != want {
				t.Errorf("Load() error names input %q, want %q (error: %v)", got, want, err)
			}
		})
	}
}

func TestLoadBool(t *testing.T) {
	t.Parallel()
	cases := []struct {
		value string
		want  bool
	}{
		{value: "true", want: true},
		{value: "false", want: false},
		{value: "TRUE", want: true},
		{value: "False", want: false},
		{value: " true\n", want: true},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, env{"INPUT_DRY-RUN": tc.value})
			if got, want := bool(c.DryRun), tc.want; got != want {
				t.Errorf("dry-run %q = %v, want %v", tc.value, got, want)
			}
		})
	}
}

// TestLoadBoolRejected: "yes" in a workflow must not quietly mean no.
func TestLoadBoolRejected(t *testing.T) {
	t.Parallel()
	cases := []struct {
		value string
		want  string
	}{
		{value: "yes", want: `input "dry-run": "yes" is not a boolean, use true or false`},
		{value: "1", want: `input "dry-run": "1" is not a boolean, use true or false`},
		{value: "on", want: `input "dry-run": "on" is not a boolean, use true or false`},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, env{"BLUEGREEN_DRY_RUN": tc.value})
			if err == nil {
				t.Fatalf("Load(dry-run %q) succeeded, want an error", tc.value)
			}
			if got, want := err.Error(), tc.want; got != want {
				t.Errorf("Load() error = %q, want %q", got, want)
			}
			if !config.IsInputError(err) {
				t.Errorf("IsInputError(%v) = false, want true", err)
			}
		})
	}
}

// TestLoadList loads traffic-steps, a List, in both spellings: a YAML
// block scalar gives one value a line.
func TestLoadList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  env
		want config.List
	}{
		{name: "unset", env: env{}, want: nil},
		{name: "empty action input", env: env{"INPUT_TRAFFIC-STEPS": ""}, want: nil},
		{name: "commas", env: env{"INPUT_TRAFFIC-STEPS": "10,50,100"}, want: config.List{"10", "50", "100"}},
		{name: "block scalar", env: env{"INPUT_TRAFFIC-STEPS": "10\n50\n100\n"}, want: config.List{"10", "50", "100"}},
		{name: "plain variable with blanks", env: env{"BLUEGREEN_TRAFFIC_STEPS": " 10 , ,50,"}, want: config.List{"10", "50"}},
		{name: "only separators", env: env{"BLUEGREEN_TRAFFIC_STEPS": " ,\n,"}, want: nil},
		{name: "action input wins", env: env{"INPUT_TRAFFIC-STEPS": "25", "BLUEGREEN_TRAFFIC_STEPS": "50"}, want: config.List{"25"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, tc.env)
			if diff := cmp.Diff(tc.want, c.TrafficSteps); diff != "" {
				t.Errorf("TrafficSteps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPercentages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		steps config.List
		want  []int
	}{
		{steps: nil, want: nil},
		{steps: config.List{"10", "50", "100"}, want: []int{10, 50, 100}},
		{steps: config.List{"10", "50"}, want: []int{10, 50, 100}},
		{steps: config.List{"100"}, want: []int{100}},
		{steps: config.List{"25%", " 75 "}, want: []int{25, 75, 100}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.steps, ","), func(t *testing.T) {
			t.Parallel()
			c := &config.Config{TrafficSteps: tc.steps}
			got, err := c.Percentages()
			if err != nil {
				t.Fatalf("Percentages(): %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Percentages() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListEnvDecode tests List's decoding alone.
func TestListEnvDecode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		value string
		want  config.List
	}{
		{name: "empty", value: "", want: nil},
		{name: "blank", value: " \n ,\n", want: nil},
		{name: "one", value: "a", want: config.List{"a"}},
		{name: "commas", value: "a,b,c", want: config.List{"a", "b", "c"}},
		{name: "commas and spaces", value: " a , b ", want: config.List{"a", "b"}},
		{name: "newlines", value: "a\nb\n", want: config.List{"a", "b"}},
		{name: "block scalar with CRLF", value: "a\r\nb\r\n", want: config.List{"a", "b"}},
		{name: "mixed with blanks", value: "a,,b\n\n c ,\n", want: config.List{"a", "b", "c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := config.List{"left", "over"}
			if err := l.EnvDecode(tc.value); err != nil {
				t.Fatalf("EnvDecode(%q): %v", tc.value, err)
			}
			if diff := cmp.Diff(tc.want, l); diff != "" {
				t.Errorf("EnvDecode(%q) (-want +got):\n%s", tc.value, diff)
			}
		})
	}
}
