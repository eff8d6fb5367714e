package deploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/lease"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/report/plain"
	"github.com/bluegreen-dev/bluegreen-action/internal/setup"
	"github.com/bluegreen-dev/bluegreen-action/internal/testkit"
)

// ground is one test's namespace on the local control plane.
type ground struct {
	t    *testing.T
	rc   *rest.Config
	ns   string
	core coreclient.CoreV1Interface
}

func newGround(t *testing.T) *ground {
	t.Helper()
	rc := kubetest.Config(t)
	ns := kubetest.Namespace(t, rc)
	core, err := coreclient.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return &ground{t: t, rc: rc, ns: ns, core: core}
}

// syncBuffer is a log that the run and the test may touch at once.
type syncBuffer struct{ testkit.SyncBuffer }

// warn writes a warning line, as the plain reporter does.
func (s *syncBuffer) warn(msg string) { _, _ = s.Write([]byte("warning: " + msg + "\n")) }

// run is one bluegreen command against the ground, built the way main
// builds it: inputs through config.Load and Validate, systems by setup.
type run struct {
	res report.Result
	err error
	log *syncBuffer
}

// inputs are BLUEGREEN_* variables without the prefix; tweak adjusts the
// options inputs do not reach (poll intervals).
func (g *ground) exec(ctx context.Context, inputs map[string]string, tweak func(*deploy.Options)) run {
	g.t.Helper()
	return g.execLog(ctx, &syncBuffer{}, inputs, tweak)
}

// execLog is exec writing the run's log to log, which the test may read
// while the run goes on.
func (g *ground) execLog(ctx context.Context, log *syncBuffer, inputs map[string]string, tweak func(*deploy.Options)) run {
	g.t.Helper()
	env := map[string]string{
		"BLUEGREEN_APP":          "shop",
		"BLUEGREEN_NAMESPACE":    g.ns,
		"BLUEGREEN_WAIT_TIMEOUT": "60s",
	}
	for k, v := range inputs {
		env["BLUEGREEN_"+k] = v
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(ctx, config.Lookuper(getenv))
	if err != nil {
		return run{err: err}
	}
	if err := cfg.Validate(); err != nil {
		return run{err: err}
	}
	rep := plain.New(log, plain.WithProgressInterval(0))
	opts := setup.Options(cfg, getenv)
	opts.Grace = 10 * time.Second
	if tweak != nil {
		tweak(&opts)
	}
	deps := deploy.Deps{Reporter: rep, Checker: setup.Checker()}
	if err := setup.SQLMigrations(cfg, rep, &deps); err != nil {
		return run{err: err, log: log}
	}
	if err := setup.Kubernetes(ctx, cfg, g.rc, &deps); err != nil {
		return run{err: err, log: log}
	}
	res, err := deploy.New(cfg.Command, opts, deps).Execute(ctx)
	return run{res: res, err: err, log: log}
}

// mustSucceed fails the test unless r succeeded.
func (r run) mustSucceed(t *testing.T) run {
	t.Helper()
	if r.err != nil {
		log := ""
		if r.log != nil {
			log = r.log.String()
		}
		t.Fatalf("run failed: %v\n%s", r.err, log)
	}
	if r.res.Outcome != report.Success {
		t.Fatalf("outcome %q, want success", r.res.Outcome)
	}
	return r
}

// selector returns the color the Service name selects and its resourceVersion.
func (g *ground) selector(name string) (string, string) {
	g.t.Helper()
	svc, err := g.core.Services(g.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		g.t.Fatalf("reading Service %s: %v", name, err)
	}
	return svc.Spec.Selector[kube.ColorLabel], svc.ResourceVersion
}

// lockHolder returns who holds the deploy lock, "" when free.
func (g *ground) lockHolder() string {
	g.t.Helper()
	c, err := coordinationclient.NewForConfig(g.rc)
	if err != nil {
		g.t.Fatal(err)
	}
	l, err := c.Leases(g.ns).Get(context.Background(), "shop-bluegreen-lock", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// holdLock takes the deploy lock as another run would.
func (g *ground) holdLock(owner string) func() {
	g.t.Helper()
	c, err := coordinationclient.NewForConfig(g.rc)
	if err != nil {
		g.t.Fatal(err)
	}
	l, err := lease.New(lease.Config{Client: c, Namespace: g.ns, Name: "shop-bluegreen-lock"})
	if err != nil {
		g.t.Fatal(err)
	}
	release, err := l.Acquire(g.t.Context(), owner, 0)
	if err != nil {
		g.t.Fatal(err)
	}
	return func() { _ = release.Release(context.Background()) }
}

func stepStatus(res report.Result, name string) string {
	for _, s := range res.Steps {
		if s.Name == name {
			return string(s.Status)
		}
	}
	return "absent"
}

func colorState(res report.Result, c string) report.ColorState {
	for _, s := range res.Colors {
		if s.Color == c {
			return s
		}
	}
	return report.ColorState{}
}

func contains(t *testing.T, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Errorf("%q does not contain %q", s, want)
	}
}
