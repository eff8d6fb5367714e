package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// Deploys reports whether the command starts a new image on the idle
// color; see command.Name.Deploys.
func (c *Config) Deploys() bool { return c.Command.Deploys() }

// Percentages returns traffic-steps as percentages of traffic for the new
// color: whole numbers from 1 to 100, rising, ending with 100 (added when
// missing, since a deploy ends with all traffic on the new color).
func (c *Config) Percentages() ([]int, error) {
	var out []int
	for _, s := range c.TrafficSteps {
		p, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "%"))
		if err != nil || p < 1 || p > 100 {
			return nil, Errorf("traffic-steps", "%q is not a percentage from 1 to 100, e.g. 10,50,100", s)
		}
		if len(out) > 0 && p <= out[len(out)-1] {
			return nil, Errorf("traffic-steps", "%q must be rising, e.g. 10,50,100", strings.Join(c.TrafficSteps, ","))
		}
		out = append(out, p)
	}
	if len(out) > 0 && out[len(out)-1] != 100 {
		out = append(out, 100)
	}
	return out, nil
}

// maxAppLen keeps "<app>-preview", the longest name derived from app, within
// the 63 characters of a Kubernetes Service name.
const maxAppLen = 55

var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// dns1123Subdomain is the name rule of most Kubernetes objects (Ingress among them).
var dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// Validate checks every input and how they fit together, without touching
// the network. It returns every problem found, each an *Error, so that a
// user fixes them all in one go.
func (c *Config) Validate() error {
	var errs []error
	add := func(input, format string, args ...any) {
		errs = append(errs, Errorf(input, format, args...))
	}

	if !c.Command.Known() {
		add("command", "unknown command %q, valid commands are %q", c.Command, command.All())
	}
	if !oneOf(c.Platform, PlatformNames()) {
		add("platform", "unknown platform %q, valid platforms are %q", c.Platform, PlatformNames())
	}
	errs = append(errs, c.validateFamilies()...)

	// promote and verify act on an image or a URL, not on an app.
	switch {
	case c.App == "" && c.Command.Standalone():
	case c.App == "":
		add("app", "is required: the application's name, e.g. shop")
	case len(c.App) > maxAppLen || !dns1035.MatchString(c.App):
		add("app", "%q is not a valid name: lower-case letters, digits and '-', starting with a letter, at most %d characters", c.App, maxAppLen)
	}

	if c.Deploys() && c.Image == "" && c.Promote.SourceImage == "" {
		add("image", "is required to %s: the image to run, e.g. ghcr.io/acme/shop:1.4.2 or ghcr.io/acme/shop@sha256:...", c.Command)
	}
	if c.Image != "" {
		if _, err := name.ParseReference(c.Image); err != nil {
			add("image", "%q is not an image reference, e.g. ghcr.io/acme/shop:1.4.2 or ghcr.io/acme/shop@sha256:...", c.Image)
		}
	}
	if c.WaitTimeout <= 0 {
		add("wait-timeout", "must be more than 0, e.g. 10m")
	}
	if c.RequestTimeout <= 0 {
		add("request-timeout", "must be more than 0, e.g. 30s")
	}
	if c.VerifyTimeout <= 0 {
		add("verify-timeout", "must be more than 0, e.g. 2m")
	}
	for input, u := range map[string]string{"verify-url": c.VerifyURL, "production-url": c.ProductionURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			add(input, "%q is not an http or https URL, e.g. https://shop-preview.example.com/healthz", RedactURL(u))
		}
	}
	if _, err := c.Percentages(); err != nil {
		errs = append(errs, err)
	} else if r, _ := routerNamed(c.Router); len(c.TrafficSteps) > 0 && !r.Split {
		add("traffic-steps", "router %q sends all traffic to one color; traffic steps need router %q", c.Router, RoutersOf(c.Platform, canSplit))
	}
	errs = append(errs, c.validateSplit()...)
	if _, err := verify.ParseStatus(c.VerifyStatus); err != nil {
		add("verify-status", "%v", err)
	}
	if _, err := verify.ParseBody(c.VerifyBody); err != nil {
		add("verify-body", "%v", err)
	}
	if _, err := verify.ParseHeaders(c.VerifyHeaders); err != nil {
		add("verify-headers", "%v", err)
	}
	if c.Command == command.Verify {
		if c.VerifyURL == "" {
			add("verify-url", "is required by command verify: the URL to check, e.g. https://shop.example.com/healthz")
		}
		sortErrors(errs)
		return errors.Join(errs...)
	}
	if c.Platform == "kubernetes" {
		errs = append(errs, c.Kubernetes.validate(c)...)
	}
	errs = append(errs, c.validateMigrations()...)
	errs = append(errs, c.AWS.validate(c)...)
	errs = append(errs, c.Hosts.validate(c)...)
	errs = append(errs, c.Gates.validate()...)
	errs = append(errs, c.Promote.validate(c)...)
	if err := resultFileProblem(c.ResultFile); err != nil {
		errs = append(errs, err)
	}
	sortErrors(errs)
	return errors.Join(errs...)
}

func (k *Kubernetes) validate(c *Config) []error {
	var errs []error
	add := func(input, format string, args ...any) {
		errs = append(errs, Errorf(input, format, args...))
	}
	if !dns1123.MatchString(k.Namespace) || len(k.Namespace) > 63 {
		add("namespace", "%q is not a valid namespace name", k.Namespace)
	}
	derived := map[string]string{"service": c.App, "preview-service": c.App + "-preview"}
	for input, v := range map[string]string{"service": k.Service, "preview-service": k.PreviewService} {
		// A name derived from a bad app is reported once, under app.
		if v != "" && v != derived[input] && (!dns1035.MatchString(v) || len(v) > 63) {
			add(input, "%q is not a valid Service name: lower-case letters, digits and '-', starting with a letter, at most 63 characters", v)
		}
	}
	if k.Service != "" && k.Service == k.PreviewService {
		add("preview-service", "%q is also the production service; the preview Service must be another one", k.PreviewService)
	}
	if k.Ingress != "" && c.Router == "ingress" && (!dns1123Subdomain.MatchString(k.Ingress) || len(k.Ingress) > 253) {
		add("ingress", "%q is not a valid Ingress name: lower-case letters, digits, '-' and '.', at most 253 characters", k.Ingress)
	}
	if k.Manifest != "" {
		if st, err := os.Stat(k.Manifest); err != nil || st.IsDir() {
			add("manifest", "%q is not a readable file", k.Manifest)
		}
	}
	return errs
}

func oneOf(v string, set []string) bool { return slices.Contains(set, v) }

// sortErrors orders errors by input name so the message is stable.
func sortErrors(errs []error) {
	key := func(e error) string {
		var ce *Error
		if errors.As(e, &ce) {
			return ce.Input
		}
		return fmt.Sprint(e)
	}
	sort.SliceStable(errs, func(i, j int) bool { return key(errs[i]) < key(errs[j]) })
}

func (c *Config) validateMigrations() []error {
	var errs []error
	add := func(input, format string, args ...any) { errs = append(errs, Errorf(input, format, args...)) }
	switch {
	case c.MigrationsDir != "" && c.DatabaseURL == "":
		add("database-url", "is required with migrations-dir: the PostgreSQL URL the migrations apply to")
	case c.DatabaseURL != "" && c.MigrationsDir == "":
		add("migrations-dir", "is required with database-url: the folder of SQL migration files")
	}
	if c.MigrationsDir != "" {
		if st, err := os.Stat(c.MigrationsDir); err != nil || !st.IsDir() {
			add("migrations-dir", "%q is not a folder", c.MigrationsDir)
		}
	}
	if c.DatabaseURL != "" {
		// Never echo the URL: it holds a password.
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			add("database-url", "is not a PostgreSQL URL, e.g. postgres://user:password@host:5432/db (the value is not shown: it may hold a password)")
		}
	}
	if c.RollbackOnMigrateFailure && len(c.MigrateAfter) == 0 {
		add("rollback-on-migrate-failure", "is only used with migrate-after")
	}
	return errs
}
