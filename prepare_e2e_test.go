package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	discoveryclient "k8s.io/client-go/kubernetes/typed/discovery/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
)

// approvalPlane is one namespace of the local plane with the clients the
// approval tests read it with, and the binary's environment.
type approvalPlane struct {
	t     *testing.T
	bin   string
	dir   string
	base  []string
	apps  appsclient.AppsV1Interface
	core  coreclient.CoreV1Interface
	disc  discoveryclient.DiscoveryV1Interface
	coord coordinationclient.CoordinationV1Interface
	ns    string
}

func newApprovalPlane(t *testing.T) *approvalPlane {
	t.Helper()
	rc := kubetest.Config(t)
	ns := kubetest.Namespace(t, rc)
	p := &approvalPlane{t: t, bin: buildBinary(t), dir: t.TempDir(), ns: ns}
	var err error
	if p.apps, err = appsclient.NewForConfig(rc); err != nil {
		t.Fatal(err)
	}
	if p.core, err = coreclient.NewForConfig(rc); err != nil {
		t.Fatal(err)
	}
	if p.disc, err = discoveryclient.NewForConfig(rc); err != nil {
		t.Fatal(err)
	}
	if p.coord, err = coordinationclient.NewForConfig(rc); err != nil {
		t.Fatal(err)
	}
	p.base = []string{
		"CI=true", "BLUEGREEN_APP=shop", "BLUEGREEN_NAMESPACE=" + ns,
		"BLUEGREEN_KUBECONFIG=" + kubetest.KubeconfigPath(t), "BLUEGREEN_WAIT_TIMEOUT=60s",
	}
	return p
}

// ran is what one run of the binary left.
type ran struct {
	code           int
	stdout, stderr string
	result         string
	notes          []string
}

// run runs the binary with the base environment and env.
func (p *approvalPlane) run(env ...string) ran {
	p.t.Helper()
	return p.runIn(p.t, env...)
}

func (p *approvalPlane) runIn(t *testing.T, env ...string) ran {
	t.Helper()
	file := filepath.Join(t.TempDir(), "result.json")
	e := append(append([]string{"BLUEGREEN_RESULT_FILE=" + file}, p.base...), env...)
	code, stdout, stderr := runBinary(t, p.bin, p.dir, e)
	r := ran{code: code, stdout: stdout, stderr: stderr}
	if b, err := os.ReadFile(file); err == nil {
		var res struct {
			Result string   `json:"result"`
			Notes  []string `json:"notes"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("decoding the result file: %v\n%s", err, b)
		}
		r.result, r.notes = res.Result, res.Notes
	}
	return r
}

// must fails the test unless r ended with code and result.
func (p *approvalPlane) must(what string, r ran, code int, result string) ran {
	p.t.Helper()
	if r.code != code || r.result != result {
		p.t.Fatalf("%s: exit %d result %q, want %d %q\nstdout:\n%s\nstderr:\n%s", what, r.code, r.result, code, result, r.stdout, r.stderr)
	}
	return r
}

// refused checks that r failed with exit 1 saying want.
func (p *approvalPlane) refused(what string, r ran, want string) {
	p.t.Helper()
	p.must(what, r, exitFailed, "failed")
	if !strings.Contains(r.stderr, want) {
		p.t.Errorf("%s: stderr does not say %q:\n%s", what, want, r.stderr)
	}
}

// service returns the color a Service selects and its resourceVersion.
func (p *approvalPlane) service(name string) (string, string) {
	p.t.Helper()
	svc, err := p.core.Services(p.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		p.t.Fatalf("reading Service %s: %v", name, err)
	}
	return svc.Spec.Selector[kube.ColorLabel], svc.ResourceVersion
}

// replicas returns the replicas asked of a color's Deployment.
func (p *approvalPlane) replicas(c string) int32 {
	p.t.Helper()
	d, err := p.apps.Deployments(p.ns).Get(context.Background(), "shop-"+c, metav1.GetOptions{})
	if err != nil {
		p.t.Fatal(err)
	}
	return *d.Spec.Replicas
}

// previewEndpoints waits until the preview Service's EndpointSlices list
// want ready endpoints and returns the colors of the pods behind all of
// its endpoints, ready or not.
func (p *approvalPlane) previewEndpoints(want int) map[string]int {
	p.t.Helper()
	colors := map[string]int{}
	// The EndpointSlice controller follows a selector change within
	// moments; the wait only bounds a broken plane.
	err := wait.PollUntilContextTimeout(p.t.Context(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		slices, err := p.disc.EndpointSlices(p.ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=shop-preview"})
		if err != nil {
			return false, err
		}
		colors = map[string]int{}
		ready := 0
		for _, s := range slices.Items {
			for _, ep := range s.Endpoints {
				if ep.TargetRef == nil {
					colors["?"]++
					continue
				}
				pod, err := p.core.Pods(p.ns).Get(ctx, ep.TargetRef.Name, metav1.GetOptions{})
				if err != nil {
					colors["gone"]++
					continue
				}
				colors[pod.Labels[kube.ColorLabel]]++
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					ready++
				}
			}
		}
		return ready == want && len(colors) == 1, nil
	})
	if err != nil {
		p.t.Fatalf("preview endpoints never settled on %d ready: %v (last seen %v)", want, err, colors)
	}
	return colors
}

// TestBinaryPrepareSwitchAbort runs the approval flow through the binary
// on the local plane, each command a separate run as separate CI jobs
// would: prepare leaves production untouched while the preview serves
// only the new, ready pods; switch moves production; a second switch
// finds nothing prepared; abort scales the prepared color to 0 and
// leaves production alone; switch refuses an image other than the
// prepared one and a Deployment changed by hand.
func TestBinaryPrepareSwitchAbort(t *testing.T) {
	t.Parallel()
	p := newApprovalPlane(t)
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p.must("first deploy", p.run("BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0",
		"BLUEGREEN_MANIFEST="+filepath.Join(root, "testdata/demo/shop.yaml")), exitOK, "success")
	_, prodVersion := p.service("shop")

	r := p.must("prepare", p.run("BLUEGREEN_COMMAND=prepare", "BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0"), exitOK, "prepared")
	if got := strings.Join(r.notes, "\n"); !strings.Contains(got, "`command: switch` and `image: registry.example.com/shop:2.0.0`") || !strings.Contains(got, "`command: abort`") {
		t.Errorf("prepare does not say how to finish or drop it:\n%s", got)
	}
	if c, v := p.service("shop"); c != "blue" || v != prodVersion {
		t.Errorf("production Service after prepare selects %s (resourceVersion %s, was %s), want blue, untouched", c, v, prodVersion)
	}
	if c, _ := p.service("shop-preview"); c != "green" {
		t.Errorf("preview Service after prepare selects %s, want green", c)
	}
	if colors := p.previewEndpoints(3); colors["green"] != 3 {
		t.Errorf("preview endpoints after prepare are pods of %v, want 3 green ones only", colors)
	}

	p.must("switch", p.run("BLUEGREEN_COMMAND=switch", "BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0"), exitOK, "success")
	c, prodVersion := p.service("shop")
	if c != "green" {
		t.Fatalf("production Service after switch selects %s, want green", c)
	}
	p.refused("second switch", p.run("BLUEGREEN_COMMAND=switch"), "nothing is prepared")
	if _, v := p.service("shop"); v != prodVersion {
		t.Errorf("a refused switch wrote the production Service")
	}

	p.must("prepare 3.0.0", p.run("BLUEGREEN_COMMAND=prepare", "BLUEGREEN_IMAGE=registry.example.com/shop:3.0.0"), exitOK, "prepared")
	p.must("abort", p.run("BLUEGREEN_COMMAND=abort"), exitOK, "success")
	if n := p.replicas("blue"); n != 0 {
		t.Errorf("blue after abort asks for %d replicas, want 0", n)
	}
	if c, v := p.service("shop"); c != "green" || v != prodVersion {
		t.Errorf("production Service after abort selects %s (resourceVersion %s, was %s), want green, untouched", c, v, prodVersion)
	}
	if c, _ := p.service("shop-preview"); c != "green" {
		t.Errorf("preview Service after abort selects %s, want the live green", c)
	}

	p.must("prepare 4.0.0", p.run("BLUEGREEN_COMMAND=prepare", "BLUEGREEN_IMAGE=registry.example.com/shop:4.0.0"), exitOK, "prepared")
	p.refused("switch to another image", p.run("BLUEGREEN_COMMAND=switch", "BLUEGREEN_IMAGE=registry.example.com/shop:9.9.9"),
		`input image "registry.example.com/shop:9.9.9" is not the prepared release`)
	d, err := p.apps.Deployments(p.ns).Get(t.Context(), "shop-blue", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "registry.example.com/shop:hotfix" // kubectl set image
	if _, err := p.apps.Deployments(p.ns).Update(t.Context(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	p.refused("switch after a hand change", p.run("BLUEGREEN_COMMAND=switch"), "blue was changed since")
	if c, v := p.service("shop"); c != "green" || v != prodVersion {
		t.Errorf("production Service after refused switches selects %s (resourceVersion %s, was %s), want green, untouched", c, v, prodVersion)
	}
}

// TestBinaryPrepareMeetsDeployLock starts a deploy and, while it holds the
// deploy lock (seen on the Lease), a prepare: the prepare is refused,
// naming the deploy's run, and the deploy finishes.
func TestBinaryPrepareMeetsDeployLock(t *testing.T) {
	t.Parallel()
	p := newApprovalPlane(t)
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p.must("first deploy", p.run("BLUEGREEN_IMAGE=registry.example.com/shop:1.0.0",
		"BLUEGREEN_MANIFEST="+filepath.Join(root, "testdata/demo/shop.yaml")), exitOK, "success")

	// The deploy bakes long enough that the prepare certainly starts
	// while it holds the lock; the test waits for the Lease, not a clock.
	deploy := exec.Command(p.bin)
	deploy.Dir = p.dir
	deploy.Env = append(append([]string{}, p.base...), "BLUEGREEN_IMAGE=registry.example.com/shop:2.0.0",
		"BLUEGREEN_BAKE_TIME=20s", "BLUEGREEN_RUN_URL=https://ci.example.com/deploy/1")
	var out strings.Builder
	deploy.Stdout, deploy.Stderr = &out, &out
	if err := deploy.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- deploy.Wait() }()
	t.Cleanup(func() { _ = deploy.Process.Kill() })
	err = wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := p.coord.Leases(p.ns).Get(ctx, "shop-bluegreen-lock", metav1.GetOptions{})
		return err == nil && l.Spec.HolderIdentity != nil && strings.Contains(*l.Spec.HolderIdentity, "deploy/1"), nil
	})
	if err != nil {
		t.Fatalf("the deploy never held the lock: %v\n%s", err, out.String())
	}
	r := p.run("BLUEGREEN_COMMAND=prepare", "BLUEGREEN_IMAGE=registry.example.com/shop:3.0.0", "BLUEGREEN_RUN_URL=https://ci.example.com/prepare/1")
	p.refused("prepare during a deploy", r, "https://ci.example.com/deploy/1")
	if err := <-done; err != nil {
		t.Fatalf("the deploy failed: %v\n%s", err, out.String())
	}
	if c, _ := p.service("shop"); c != "green" {
		t.Errorf("production after the deploy selects %s, want green", c)
	}
	if n := p.replicas("blue"); n != 3 {
		t.Errorf("blue (the old color) asks for %d replicas, want 3: the refused prepare must not have touched it", n)
	}
}
