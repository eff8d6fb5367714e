package setup

import (
	"context"
	"errors"
	"os/exec"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/haproxymap"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/local"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/hosts"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/haproxy"
)

// RuntimeTimeout bounds each command to HAProxy's Runtime API.
var RuntimeTimeout = 5 * time.Second

// hostsPlatform builds platform hosts, which is driven through its router:
// the colors are the servers of router haproxy's backend.
func hostsPlatform(ctx context.Context, e *buildEnv) error {
	cfg, h := e.cfg, e.cfg.Hosts
	if err := newRouter(ctx, e); err != nil {
		return err
	}
	r, ok := e.deps.Router.(*haproxy.Router)
	if !ok {
		return config.Errorf("router", "platform hosts needs router haproxy, but router is %q", cfg.Router)
	}
	if cfg.Deploys() && len(h.DeployCommand) > 0 {
		if _, err := exec.LookPath(h.DeployCommand[0]); err != nil {
			return config.Errorf("deploy-command", "%q cannot be run: %v", h.DeployCommand[0], err)
		}
	}
	var err error
	e.deps.Platform, err = hosts.New(hosts.Config{Fleet: fleet{r}, App: cfg.App, DeployCommand: h.DeployCommand, VersionPath: h.VersionPath}, hosts.WithLog(e.rep.Info))
	if err != nil {
		return err
	}
	if len(cfg.MigrateBefore) > 0 || len(cfg.MigrateAfter) > 0 {
		e.deps.Migrator = &local.Migrator{App: cfg.App, Image: cfg.Image}
	}
	return nil
}

// haproxyRouter builds router haproxy: the weights of a backend's servers,
// through HAProxy's Runtime API. Everything it needs from HAProxy is
// checked here, before any write: the API at admin level, the backends and
// their colored servers, the cookie persistence sticky-duration relies on,
// the history map, which is kept through the same API.
func haproxyRouter(ctx context.Context, e *buildEnv) error {
	h, deps := e.cfg.Hosts, e.deps
	api, err := haproxy.Dial(h.RuntimeAPI, RuntimeTimeout)
	if err != nil {
		return config.Errorf("haproxy-runtime-api", "%v", err)
	}
	r, err := haproxy.New(haproxy.Config{API: api, Backend: h.Backend}, haproxy.WithSticky(e.cfg.StickyDuration.D()))
	if err != nil {
		return err
	}
	if err := haproxyInputErr(r.Check(ctx), "haproxy-backend"); err != nil {
		return err
	}
	if e.cfg.StickyDuration > 0 {
		// HAProxy keeps clients by the cookie haproxy.cfg configures;
		// without one there is no stickiness to give.
		if err := r.CheckCookies(ctx); errors.Is(err, haproxy.ErrNoCookies) {
			return config.Errorf("sticky-duration", "%v", err)
		} else if err != nil {
			return haproxyInputErr(err, "haproxy-backend")
		}
	}
	deps.Router = r
	if h.PreviewBackend != "" {
		pr, err := haproxy.New(haproxy.Config{API: api, Backend: h.PreviewBackend})
		if err != nil {
			return err
		}
		if err := haproxyInputErr(pr.Check(ctx), "haproxy-preview-backend"); err != nil {
			return err
		}
		deps.Preview = pr
	}
	if h.HistoryMap != "" {
		store := haproxymap.New(api, h.HistoryMap, e.cfg.App)
		if err := store.Check(ctx); err != nil {
			return config.Errorf("haproxy-history-map", "%v", err)
		}
		deps.History = store
	}
	return nil
}

// haproxyInputErr names the input at fault in a failed check: the
// Runtime API when it does not answer at admin level, else the backend.
func haproxyInputErr(err error, backendInput string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, haproxy.ErrUnreachable), errors.Is(err, haproxy.ErrNotAdmin):
		return config.Errorf("haproxy-runtime-api", "%v", err)
	default:
		return config.Errorf(backendInput, "%v", err)
	}
}

// fleet shows the platform the backend's servers of each color.
type fleet struct{ r *haproxy.Router }

var _ hosts.Rechecker = fleet{}

func (f fleet) Recheck(ctx context.Context, c color.Color) error { return f.r.Recheck(ctx, c) }

func (f fleet) Servers(ctx context.Context, c color.Color) ([]hosts.Server, error) {
	list, err := f.r.Servers(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]hosts.Server, len(list))
	for i, s := range list {
		out[i] = hosts.Server{Name: s.Name, Addr: s.Addr, Up: s.Up, State: s.State, OutOfService: s.Maint}
	}
	return out, nil
}
