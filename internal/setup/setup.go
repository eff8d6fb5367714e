package setup

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/command"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/sqlmigrate"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/registry/promoter"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// Getenv reads the CI's own variables (run URL, commit); os.Getenv in
// production.
type Getenv func(string) string

// Built is what a run needs, as Build made it.
type Built struct {
	Options deploy.Options
	Deps    deploy.Deps
	// AWS counts the AWS API calls of the run, for the report.
	AWS *awsapi.Counter
}

// Build returns the options and systems of a run of cfg. It masks every
// credential it reads through rep before using it.
func Build(ctx context.Context, cfg *config.Config, rep report.Reporter, getenv Getenv) (*Built, error) {
	maskURL(rep, cfg.DatabaseURL)
	b := &Built{
		Options: Options(cfg, getenv),
		Deps:    deploy.Deps{Reporter: rep, Checker: Checker()},
		AWS:     awsapi.NewCounter(),
	}
	checks, err := VerifyChecks(cfg, rep.Mask)
	if err != nil {
		return nil, err
	}
	b.Options.VerifyChecks = checks
	p, err := promoter.New(cfg, rep, b.AWS, b.Options.Release.GitSHA)
	if err != nil {
		return nil, err
	}
	if p != nil {
		b.Deps.Promoter = p
	}
	if cfg.Command == command.Promote {
		return b, nil
	}
	if err := SQLMigrations(cfg, rep, &b.Deps); err != nil {
		return nil, err
	}
	err = newPlatform(ctx, &buildEnv{cfg: cfg, rep: rep, deps: &b.Deps, counter: b.AWS})
	if err == nil && b.Deps.History == nil && cfg.Command.Approval() {
		// The prepared release is recorded in the history: without one,
		// a switch could not find what a prepare left.
		err = config.Errorf("command", "%s needs the history kept in the target system, and this application has none yet (on ECS: give task-definition, or create the services first)", cfg.Command)
	}
	if err == nil && cfg.Command.Gated() {
		b.Deps.Gates, err = gates(ctx, cfg, b.AWS, nil)
	}
	return b, err
}

// SQLMigrations adds the built-in SQL migrations of a deploy to deps.
func SQLMigrations(cfg *config.Config, rep report.Reporter, deps *deploy.Deps) error {
	if cfg.MigrationsDir == "" || !cfg.Deploys() {
		return nil
	}
	maskURL(rep, cfg.DatabaseURL)
	m, err := sqlmigrate.New(sqlmigrate.Config{Dir: cfg.MigrationsDir, DatabaseURL: cfg.DatabaseURL}, sqlmigrate.WithMask(rep.Mask))
	switch {
	case errors.Is(err, sqlmigrate.ErrInvalidURL):
		return config.Errorf("database-url", "%v", err)
	case err != nil:
		return config.Errorf("migrations-dir", "%v", err)
	}
	deps.SQL = m
	return nil
}

// maskURL masks a URL that may hold a password, and the password alone,
// since a driver's error may quote either.
func maskURL(rep report.Reporter, raw string) {
	if raw == "" {
		return
	}
	rep.Mask(raw)
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			rep.Mask(p)
			rep.Mask(url.QueryEscape(p))
		}
	}
}

// Checker is the HTTP checker of verify-url and production-url.
func Checker() *verify.Checker {
	return &verify.Checker{Client: &http.Client{Timeout: 10 * time.Second}}
}

// Options turns inputs into the run's tunables.
func Options(cfg *config.Config, getenv Getenv) deploy.Options {
	steps, _ := cfg.Percentages() // validated already
	runURL := firstOf(cfg.RunURL, RunURL(getenv))
	return deploy.Options{
		App: cfg.App,
		Release: platform.Release{
			Image:      cfg.Image,
			Digest:     digestOf(cfg.Image),
			GitSHA:     firstOf(cfg.GitSHA, getenv("GITHUB_SHA"), getenv("CIRCLE_SHA1"), getenv("TRAVIS_COMMIT"), getenv("CI_COMMIT_SHA")),
			RunURL:     runURL,
			DeployedAt: time.Now().UTC(),
		},
		Owner:          lock.Owner(runURL),
		WaitTimeout:    cfg.WaitTimeout.D(),
		VerifyURL:      cfg.VerifyURL,
		VerifyTimeout:  cfg.VerifyTimeout.D(),
		ProductionURL:  cfg.ProductionURL,
		BakeTime:       cfg.BakeTime.D(),
		TrafficSteps:   steps,
		SplitWeight:    cfg.SplitPercent(),
		StepPause:      cfg.TrafficStepPause.D(),
		ScaleDownAfter: cfg.ScaleDownAfter.D(),
		LockTimeout:    cfg.LockTimeout.D(),
		MigrateBefore:  cfg.MigrateBefore,
		MigrateAfter:   cfg.MigrateAfter,

		RollbackOnMigrateFailure: bool(cfg.RollbackOnMigrateFailure),
		DryRun:                   bool(cfg.DryRun),
		FromManifest:             cfg.Platform == "kubernetes" && cfg.Kubernetes.Manifest != "",
	}
}

// RunURL is the link to the CI run, where the CI tells it.
func RunURL(getenv Getenv) string {
	if s, r, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"); s != "" && r != "" && id != "" {
		u := s + "/" + r + "/actions/runs/" + id
		if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" && a != "1" {
			u += "/attempts/" + a
		}
		return u
	}
	return firstOf(getenv("CIRCLE_BUILD_URL"), getenv("TRAVIS_JOB_WEB_URL"), getenv("CI_JOB_URL"), getenv("BUILD_URL"))
}

// digestOf returns the digest of an image given by digest, "" for a tag.
func digestOf(image string) string {
	if d, err := name.NewDigest(image); err == nil {
		return d.DigestStr()
	}
	return ""
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// inputErr wraps err as a bad input, unless it already is one.
func inputErr(input string, err error) error {
	if config.IsInputError(err) {
		return err
	}
	return config.Errorf(input, "%v", err)
}
