package config_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

// validBase is a deploy that Validate accepts; each case of validationCases
// changes it.
var validBase = env{
	"INPUT_APP":   "shop",
	"INPUT_IMAGE": "ghcr.io/acme/shop:1.4.2",
}

// hostsBase is a valid deploy on platform hosts.
var hostsBase = validBase.with("INPUT_PLATFORM", "hosts", "INPUT_DEPLOY-COMMAND", "./deploy.sh green", "INPUT_HAPROXY-RUNTIME-API", "127.0.0.1:9999")

// validationCases are bad input sets and, in testdata/validation.golden,
// the exact message each one gets. FuzzLoad seeds from them too.
var validationCases = []struct {
	name string
	env  env
}{
	{name: "wait-timeout not a duration", env: validBase.with("INPUT_WAIT-TIMEOUT", "ten minutes")},
	{name: "wait-timeout zero", env: validBase.with("BLUEGREEN_WAIT_TIMEOUT", "0")},
	{name: "dry-run yes", env: validBase.with("INPUT_DRY-RUN", "yes")},
	{name: "unknown command", env: validBase.with("INPUT_COMMAND", "destroy")},
	{name: "unknown platform", env: validBase.with("INPUT_PLATFORM", "nomad")},
	{name: "unknown router", env: validBase.with("INPUT_ROUTER", "alb")},
	{name: "missing app", env: validBase.with("INPUT_APP", "")},
	{name: "bad app", env: validBase.with("INPUT_APP", "Shop_1")},
	{name: "app too long", env: validBase.with("INPUT_APP", strings.Repeat("a", 56))},
	{name: "missing image for deploy", env: validBase.with("INPUT_IMAGE", "")},
	{name: "bad image reference", env: validBase.with("INPUT_IMAGE", "ghcr.io/acme/Shop:1.4.2")},
	{name: "verify-url not http", env: validBase.with("INPUT_VERIFY-URL", "ftp://shop-preview.example.com/healthz")},
	{name: "production-url without host", env: validBase.with("INPUT_PRODUCTION-URL", "https:///healthz")},
	{name: "gateway without route", env: validBase.with("INPUT_ROUTER", "gateway")},
	{name: "route without gateway", env: validBase.with("INPUT_ROUTE", "shop")},
	{name: "ingress router without ingress", env: validBase.with("INPUT_ROUTER", "ingress")},
	{name: "ingress without ingress router", env: validBase.with("INPUT_INGRESS", "shop")},
	{name: "ingress invalid", env: validBase.with("INPUT_ROUTER", "ingress", "INPUT_INGRESS", "Shop_Web")},
	{name: "ingress with traffic-steps", env: validBase.with("INPUT_ROUTER", "ingress", "INPUT_INGRESS", "shop", "INPUT_TRAFFIC-STEPS", "50,100")},
	{name: "namespace invalid", env: validBase.with("INPUT_NAMESPACE", "Shop_Prod")},
	{name: "split without split-weight", env: validBase.with("INPUT_COMMAND", "split", "INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop")},
	{name: "split-weight 100", env: validBase.with("INPUT_COMMAND", "split", "INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop", "INPUT_SPLIT-WEIGHT", "100")},
	{name: "split-weight not a number", env: validBase.with("INPUT_COMMAND", "split", "INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop", "INPUT_SPLIT-WEIGHT", "half")},
	{name: "split-weight with deploy", env: validBase.with("INPUT_SPLIT-WEIGHT", "10")},
	{name: "split on router service", env: validBase.with("INPUT_COMMAND", "split", "INPUT_SPLIT-WEIGHT", "10")},
	{name: "split on router ingress", env: validBase.with("INPUT_COMMAND", "split", "INPUT_SPLIT-WEIGHT", "10", "INPUT_ROUTER", "ingress", "INPUT_INGRESS", "shop")},
	{name: "split on router elb", env: validBase.with("INPUT_COMMAND", "split", "INPUT_SPLIT-WEIGHT", "10", "INPUT_PLATFORM", "ecs", "INPUT_ROUTER", "elb", "INPUT_CLUSTER", "prod", "INPUT_LOAD-BALANCER-NAME", "shop")},
	{name: "split without image", env: validBase.with("INPUT_COMMAND", "split", "INPUT_SPLIT-WEIGHT", "10", "INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop", "INPUT_IMAGE", "")},
	{name: "split with traffic-steps", env: validBase.with("INPUT_COMMAND", "split", "INPUT_SPLIT-WEIGHT", "10", "INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop", "INPUT_TRAFFIC-STEPS", "10,50")},
	{name: "sticky-duration on router service", env: validBase.with("INPUT_STICKY-DURATION", "1h")},
	{name: "sticky-duration on router route53", env: validBase.with("INPUT_STICKY-DURATION", "1h", "INPUT_ROUTER", "route53", "INPUT_HOSTED-ZONE-ID", "Z1", "INPUT_RECORD-NAME", "shop.example.com")},
	{name: "sticky-duration over 7 days on router haproxy", env: hostsBase.with("INPUT_STICKY-DURATION", "169h")},
	{name: "sticky-duration over 7 days", env: validBase.with("INPUT_STICKY-DURATION", "169h", "INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop")},
	{name: "sticky-duration not whole seconds", env: validBase.with("INPUT_STICKY-DURATION", "1500ms", "INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop")},
	{name: "service invalid", env: validBase.with("INPUT_SERVICE", "Shop")},
	{name: "preview-service same as service", env: validBase.with("INPUT_SERVICE", "shop", "INPUT_PREVIEW-SERVICE", "shop")},
	{name: "manifest missing file", env: validBase.with("INPUT_MANIFEST", "testdata/no-such-manifest.yaml")},
	{name: "manifest is a folder", env: validBase.with("INPUT_MANIFEST", "testdata")},
	{name: "traffic-steps not a number", env: validBase.with("INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop", "INPUT_TRAFFIC-STEPS", "10,half")},
	{name: "traffic-steps out of range", env: validBase.with("INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop", "INPUT_TRAFFIC-STEPS", "0,100")},
	{name: "traffic-steps above 100", env: validBase.with("INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop", "INPUT_TRAFFIC-STEPS", "50,150")},
	{name: "traffic-steps not rising", env: validBase.with("INPUT_ROUTER", "gateway", "INPUT_ROUTE", "shop", "INPUT_TRAFFIC-STEPS", "50\n10")},
	{name: "traffic-steps with a router that cannot split", env: validBase.with("INPUT_TRAFFIC-STEPS", "10,50")},
	{name: "traffic-step-pause not a duration", env: validBase.with("INPUT_TRAFFIC-STEP-PAUSE", "1 minute")},
	{name: "hosts without deploy-command or runtime api", env: validBase.with("INPUT_PLATFORM", "hosts")},
	{name: "hosts runtime api not an address", env: hostsBase.with("INPUT_HAPROXY-RUNTIME-API", "haproxy.sock")},
	{name: "hosts runtime api unix without path", env: hostsBase.with("INPUT_HAPROXY-RUNTIME-API", "unix:")},
	{name: "hosts backend name invalid", env: hostsBase.with("INPUT_HAPROXY-BACKEND", "shop web")},
	{name: "hosts preview backend same as backend", env: hostsBase.with("INPUT_HAPROXY-PREVIEW-BACKEND", "shop")},
	{name: "hosts version-path not a path", env: hostsBase.with("INPUT_VERSION-PATH", "version")},
	{name: "hosts with scale-down-after", env: hostsBase.with("INPUT_SCALE-DOWN-AFTER", "10m")},
	{name: "hosts with router service", env: hostsBase.with("INPUT_ROUTER", "service")},
	{name: "haproxy inputs without hosts", env: validBase.with("INPUT_HAPROXY-RUNTIME-API", "127.0.0.1:9999", "INPUT_DEPLOY-COMMAND", "./deploy.sh")},
	{name: "eks-cluster with platform ecs", env: validBase.with("INPUT_PLATFORM", "ecs", "INPUT_ROUTER", "elb", "INPUT_LOAD-BALANCER-NAME", "shop", "INPUT_CLUSTER", "prod", "INPUT_EKS-CLUSTER", "prod")},
	{name: "listener-ports without router elb", env: validBase.with("INPUT_LISTENER-PORTS", "80")},
	{name: "gate-prometheus without prometheus-url", env: validBase.with("INPUT_GATE-PROMETHEUS", "vector(0)")},
	{name: "prometheus-url without gate-prometheus", env: validBase.with("INPUT_PROMETHEUS-URL", "http://prometheus:9090")},
	{name: "prometheus-url not http", env: validBase.with("INPUT_GATE-PROMETHEUS", "vector(0)", "INPUT_PROMETHEUS-URL", "prometheus:9090")},
	{name: "result-file in a missing folder", env: validBase.with("BLUEGREEN_RESULT_FILE", "testdata/no-such-folder/result.json")},
	{name: "result-file is a folder", env: validBase.with("BLUEGREEN_RESULT_FILE", "testdata")},
	{name: "verify-url with a password, not http", env: validBase.with("INPUT_VERIFY-URL", "ftp://probe:hunter2@shop-preview.example.com/healthz")},
	{name: "image of 120 KB", env: validBase.with("INPUT_IMAGE", "ghcr.io/acme/shop:"+strings.Repeat("Ab", 60*1024))},
	{name: "wait-timeout of 120 KB", env: validBase.with("INPUT_WAIT-TIMEOUT", strings.Repeat("ten minutes ", 10*1024))},
	{
		name: "several at once",
		env: env{
			"INPUT_COMMAND":   "deploy",
			"INPUT_APP":       "",
			"INPUT_IMAGE":     "",
			"INPUT_ROUTE":     "shop",
			"INPUT_NAMESPACE": "-",
		},
	},
}

// loadAndValidate runs what main runs before anything is written.
func loadAndValidate(ctx context.Context, e env) error {
	c, err := config.Load(ctx, config.Lookuper(e.getenv))
	if err != nil {
		return err
	}
	return c.Validate()
}

func TestValidBase(t *testing.T) {
	t.Parallel()
	if err := loadAndValidate(t.Context(), validBase); err != nil {
		t.Fatalf("the base of the validation cases is not valid: %v", err)
	}
	if err := loadAndValidate(t.Context(), hostsBase.with("INPUT_TRAFFIC-STEPS", "10,50")); err != nil {
		t.Fatalf("the hosts base of the validation cases is not valid: %v", err)
	}
}

// TestValidationMessages pins every message a user can get for a bad
// input, in testdata/validation.golden: users read them, so a change shows
// up in review. Run with -update to rewrite the file.
func TestValidationMessages(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, tc := range validationCases {
		err := loadAndValidate(t.Context(), tc.env)
		if err == nil {
			t.Errorf("%s: no error, want one", tc.name)
			continue
		}
		for _, e := range leaves(err) {
			if !config.IsInputError(e) {
				t.Errorf("%s: IsInputError(%q) = false, want true", tc.name, e)
			}
		}
		if !config.IsInputError(err) {
			t.Errorf("%s: IsInputError(%q) = false, want true", tc.name, err)
		}
		fmt.Fprintf(&b, "== %s\n%s\n\n", tc.name, err)
	}
	testkit.Golden(t, "validation.golden", []byte(b.String()))
}

// TestValidationWaitTimeoutMessage spells out the one message the action's
// README quotes, independent of the golden file.
func TestValidationWaitTimeoutMessage(t *testing.T) {
	t.Parallel()
	err := loadAndValidate(t.Context(), validBase.with("INPUT_WAIT-TIMEOUT", "ten minutes"))
	if err == nil {
		t.Fatal("no error for wait-timeout \"ten minutes\"")
	}
	if got, want := err.Error(), `input "wait-timeout": "ten minutes" is not a duration, e.g. 90s or 10m`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

// TestValidateReportsAll checks that Validate returns every problem, each
// its own *Error, sorted by input.
func TestValidateReportsAll(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, env{"INPUT_COMMAND": "destroy", "INPUT_APP": "", "INPUT_ROUTER": "alb", "INPUT_NAMESPACE": "-"})
	err := c.Validate()
	var got []string
	for _, e := range leaves(err) {
		var ce *config.Error
		if !errors.As(e, &ce) {
			t.Errorf("%q is not a *config.Error", e)
			continue
		}
		got = append(got, ce.Input)
	}
	want := []string{"app", "command", "namespace", "router"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inputs named (-want +got):\n%s", diff)
	}
}

// leaves returns the errors joined in err, or err alone.
func leaves(err error) []error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		return joined.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// fuzzInputs are the inputs FuzzLoad varies; the others keep validBase's
// values, so any error must name one of these.
var fuzzInputs = map[string]bool{"wait-timeout": true, "dry-run": true, "image": true, "app": true}

func FuzzLoad(f *testing.F) {
	for _, tc := range validationCases {
		f.Add(tc.env["INPUT_WAIT-TIMEOUT"]+tc.env["BLUEGREEN_WAIT_TIMEOUT"], tc.env["INPUT_DRY-RUN"], tc.env["INPUT_IMAGE"], tc.env["INPUT_APP"])
	}
	f.Add("1h30m", "TRUE", "ghcr.io/acme/shop@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "a")
	f.Fuzz(func(t *testing.T, waitTimeout, dryRun, image, app string) {
		e := env{
			"INPUT_WAIT-TIMEOUT": waitTimeout,
			"INPUT_DRY-RUN":      dryRun,
			"INPUT_IMAGE":        image,
			"INPUT_APP":          app,
		}
		c, err := load(t, e)
		if err == nil {
			// A boolean that loaded was one of the two words.
			switch strings.ToLower(strings.TrimSpace(dryRun)) {
			case "true", "false", "":
			default:
				t.Errorf("dry-run %q loaded as %v, want an error", dryRun, c.DryRun)
			}
			err = c.Validate()
		}
		for _, e := range leaves(err) {
			var ce *config.Error
			if !errors.As(e, &ce) {
				t.Fatalf("error %q is not an input error", e)
			}
			if !fuzzInputs[ce.Input] {
				t.Errorf("error %q names input %q, which the fuzzer did not change", e, ce.Input)
			}
			if got, want := e.Error(), fmt.Sprintf("input %q: ", ce.Input); !strings.HasPrefix(got, want) {
				t.Errorf("error %q does not start with %q", got, want)
			}
		}
	})
}
