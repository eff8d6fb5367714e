package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// GatewayChannel names a release channel of the Gateway API CRDs.
type GatewayChannel string

const (
	// Standard is the channel the shared plane installs.
	Standard GatewayChannel = "standard"
	// Experimental adds fields the standard channel lacks, such as an
	// HTTPRoute rule's sessionPersistence.
	Experimental GatewayChannel = "experimental"
)

// PlaneOptions says what StartPlane starts.
type PlaneOptions struct {
	// Gateway picks the channel of the Gateway API CRDs to install.
	Gateway GatewayChannel
	// Workloads adds the controller-manager, the scheduler and a kwok
	// node, so that Deployments roll out and their pods turn Ready; without
	// it the plane is etcd and kube-apiserver only, which is all that
	// writing objects needs.
	Workloads bool
}

// Plane is a control plane of one test's own, stopped when the test ends.
type Plane struct {
	// Config reaches its API server as a cluster admin.
	Config *rest.Config
	// Kubeconfig is a file holding the same, for the binary.
	Kubeconfig string
	workloads  bool
}

// Namespace is kubetest.Namespace on this plane. Without Workloads there
// is no controller-manager to make the namespace's default ServiceAccount,
// so it is not waited for (and pods cannot be made there).
func (p *Plane) Namespace(t testing.TB) string {
	t.Helper()
	return namespace(t, p.Config, p.workloads)
}

const (
	// How long the pieces get to come up. Generous: the machines that run
	// the suite are small and busy, and this is not what tests measure.
	planeStartTimeout = 3 * time.Minute
	planeStopTimeout  = 10 * time.Second
	kwokNode          = "kwok-node-0"
)

// StartPlane starts a control plane of the test's own from the binaries
// scripts/kube-local built: its own etcd (data in a temporary folder), its
// own kube-apiserver on a free port with fresh keys, and the Gateway API
// CRDs of the channel asked for. It exists for what the shared plane must
// not change: CRDs are cluster-scoped, and tests running beside this one
// rely on the shared plane's.
//
// It skips or fails the test as Config does, so it runs exactly where the
// other plane tests run; when the plane runs but the binaries or CRDs are
// not in the cache, it fails, naming the command that fetches them.
func StartPlane(t testing.TB, o PlaneOptions) *Plane {
	t.Helper()
	Config(t)
	paths, err := cachePaths()
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	crds := paths["CRD_DIR"]
	if o.Gateway == Experimental {
		crds = paths["EXPERIMENTAL_CRD_DIR"]
	}
	bin := paths["BIN_DIR"]
	for _, need := range []string{filepath.Join(bin, "kube-apiserver"), filepath.Join(bin, "etcd"), filepath.Join(bin, "kubectl"), crds} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("kubetest: %v (scripts/kube-local up builds and fetches what a control plane needs)", err)
		}
	}

	began := time.Now()
	dir := t.TempDir()
	s := &starter{t: t, bin: bin, dir: dir}
	ports := freePorts(t, 3)
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	apiPort := ports[2]

	pki := writePKI(t, filepath.Join(dir, "pki"))
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeKubeconfig(t, kubeconfig, apiPort, pki)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("kubetest: loading %s: %v", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 100, 200

	ctx, cancel := context.WithTimeout(t.Context(), planeStartTimeout)
	defer cancel()

	// The same flags as scripts/kube-local, which says why each is there.
	s.start("etcd",
		"--name=kubetest", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL,
		"--unsafe-no-fsync", "--heartbeat-interval=20", "--election-timeout=200", "--log-level=warn")
	s.wait(ctx, "etcd", func(ctx context.Context) error { return httpOK(ctx, http.DefaultClient, etcdURL+"/health") })

	s.start("kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		"--endpoint-reconciler-type=none",
		"--cert-dir="+pki.dir, "--tls-cert-file="+pki.cert, "--tls-private-key-file="+pki.key,
		"--token-auth-file="+pki.tokens, "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki.saPub, "--service-account-signing-key-file="+pki.saKey,
		"--service-cluster-ip-range=10.96.0.0/16", "--allow-privileged=true")
	rc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	api := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	s.wait(ctx, "kube-apiserver", func(ctx context.Context) error { return httpOK(ctx, rc, api+"/readyz") })

	// Server-side apply: the CRDs are too large for client-side apply's
	// last-applied annotation.
	s.run(ctx, "kubectl", "--kubeconfig="+kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", crds)
	s.run(ctx, "kubectl", "--kubeconfig="+kubeconfig, "wait", "--for=condition=Established", "--timeout=120s",
		"crd/httproutes.gateway.networking.k8s.io")

	if o.Workloads {
		s.startWorkloads(ctx, kubeconfig, paths["STAGE_DIR"], pki)
	}
	t.Logf("kubetest: own control plane (%s channel, workloads %t) up in %s, API %s", o.Gateway, o.Workloads, time.Since(began).Round(time.Millisecond), api)
	return &Plane{Config: cfg, Kubeconfig: kubeconfig, workloads: o.Workloads}
}

// startWorkloads starts what makes Deployments roll out, as
// scripts/kube-local does, and waits for the node and for the default
// ServiceAccount (pods are refused before it exists).
func (s *starter) startWorkloads(ctx context.Context, kubeconfig, stages string, pki pkiFiles) {
	s.t.Helper()
	files, err := filepath.Glob(filepath.Join(stages, "*.yaml"))
	if err != nil || len(files) == 0 {
		s.t.Fatalf("kubetest: no kwok stages in %s (scripts/kube-local up builds them)", stages)
	}
	s.start("kube-controller-manager", "--kubeconfig="+kubeconfig, "--secure-port=0", "--leader-elect=false",
		"--service-account-private-key-file="+pki.saKey, "--root-ca-file="+pki.ca, "--cluster-name=kubetest")
	s.start("kube-scheduler", "--kubeconfig="+kubeconfig, "--secure-port=0", "--leader-elect=false")
	s.start("kwok", "--kubeconfig="+kubeconfig, "--config="+strings.Join(files, ","),
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--manage-nodes-with-label-selector=", "--node-lease-duration-seconds=40")
	node := filepath.Join(s.dir, "node.yaml")
	if err := os.WriteFile(node, []byte(nodeManifest), 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.run(ctx, "kubectl", "--kubeconfig="+kubeconfig, "apply", "-f", node)
	s.run(ctx, "kubectl", "--kubeconfig="+kubeconfig, "wait", "--for=condition=Ready", "--timeout=120s", "node/"+kwokNode)
	s.wait(ctx, "the default ServiceAccount", func(ctx context.Context) error {
		return exec.CommandContext(ctx, filepath.Join(s.bin, "kubectl"), "--kubeconfig="+kubeconfig,
			"-n", "default", "get", "serviceaccount", "default").Run()
	})
}

// nodeManifest is scripts/kube-local's fake node: kwok manages only
// nodes with its annotation; no taint and a large capacity.
const nodeManifest = `apiVersion: v1
kind: Node
metadata:
  name: ` + kwokNode + `
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: ` + kwokNode + `
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "1000"}
  capacity: {cpu: "64", memory: 256Gi, pods: "1000"}
`

// starter starts the plane's processes and stops them, last started
// first, when the test ends.
type starter struct {
	t   testing.TB
	bin string
	dir string
}

func (s *starter) log(name string) string { return filepath.Join(s.dir, name+".log") }

func (s *starter) start(name string, args ...string) {
	s.t.Helper()
	out, err := os.Create(s.log(name))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		out.Close()
		s.t.Fatalf("kubetest: starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); out.Close(); close(exited) }()
	s.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(planeStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
}

// wait polls ready until it succeeds, failing the test with the end of
// name's log when the plane's start time runs out.
func (s *starter) wait(ctx context.Context, name string, ready func(context.Context) error) {
	s.t.Helper()
	for {
		err := ready(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("kubetest: %s did not come up: %v\n%s", name, err, tail(s.log(name)))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// run runs one of the cached binaries to the end.
func (s *starter) run(ctx context.Context, name string, args ...string) {
	s.t.Helper()
	out, err := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("kubetest: %s %s: %v\n%s\nkube-apiserver:\n%s", name, strings.Join(args, " "), err, out, tail(s.log("kube-apiserver")))
	}
}

func httpOK(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// tail is the end of a log, where the reason a process failed is.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freePorts asks the kernel for n free ports on loopback. Another process
// could take one before the plane binds it; the plane then fails to
// start, with the reason in its log.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("kubetest: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// cachePaths asks scripts/kube-local where its cache keeps the binaries,
// the kwok stages and the CRDs, so that the versions are named in one
// place.
func cachePaths() (map[string]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "kube-local"), "paths").Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			err = fmt.Errorf("%w: %s", err, exitErr.Stderr)
		}
		return nil, fmt.Errorf("scripts/kube-local paths: %w", err)
	}
	paths := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			paths[k] = v
		}
	}
	return paths, nil
}
