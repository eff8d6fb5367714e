package main

// Credentials given to a run must never reach what a CI keeps: the log
// (stdout, stderr), $GITHUB_OUTPUT, the step summary or the result file.
// On GitHub Actions each one is also masked (::add-mask::) before any line
// that could carry it, so that the runner hides it even in text that
// bluegreen does not control, such as an API server's error.
//
// These tests run the built binary the way CIs run it, against the local
// control plane (scripts/kube-local) and the local registry
// (scripts/registry-local), with credentials made for each test: a service
// account token bound to the Role of docs/rbac-kubernetes.yaml, and the
// registry password in a Docker config file.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	rbacv1client "k8s.io/client-go/kubernetes/typed/rbac/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/pgtest"
)

// secret is a credential a run is given.
type secret struct {
	what  string // for messages: "service account token"
	value string
	// mask: on GitHub Actions the run must emit ::add-mask::value, and
	// before every line for which usedBy is true.
	mask   bool
	usedBy func(lines []string, i int) bool
}

// anyLine: a credential read from the inputs is read before the first
// step, and everything after may depend on it, so its mask comes first.
func anyLine(lines []string, i int) bool { return !strings.HasPrefix(lines[i], "::add-mask::") }

// forms returns the spellings of s to look for: itself, and base64 as in a
// Kubernetes Secret, a Docker config or an Authorization header.
func (s secret) forms() []string {
	return []string{
		s.value,
		base64.StdEncoding.EncodeToString([]byte(s.value)),
		base64.RawURLEncoding.EncodeToString([]byte(s.value)),
	}
}

// ciRun is one run of the binary and everything it left behind.
type ciRun struct {
	github bool
	code   int
	stdout string
	// files are what the CI keeps besides stdout: stderr, and
	// $GITHUB_OUTPUT and the step summary, or the result file.
	files map[string]string
}

// runAsCI runs bin with inputs (action input names, kebab-case) as a
// GitHub Action when github is set, else as any other CI does (BLUEGREEN_
// variables and a result file). extra is added to the environment.
func runAsCI(t *testing.T, bin string, github bool, inputs map[string]string, extra ...string) ciRun {
	t.Helper()
	dir := t.TempDir()
	// No credentials of the machine running the tests: an empty home, and
	// no Docker config but the one a test gives.
	e := append([]string{"CI=true", "HOME=" + t.TempDir()}, extra...)
	var output, summary, result string
	if github {
		output, summary = filepath.Join(dir, "output"), filepath.Join(dir, "step_summary")
		for _, f := range []string{output, summary} {
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		e = append(e, runnerInputs(t, inputs)...)
		e = append(e, "GITHUB_ACTIONS=true", "GITHUB_OUTPUT="+output, "GITHUB_STEP_SUMMARY="+summary)
	} else {
		result = filepath.Join(dir, "result.json")
		for k, v := range inputs {
			e = append(e, "BLUEGREEN_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))+"="+v)
		}
		e = append(e, "BLUEGREEN_RESULT_FILE="+result)
	}
	code, stdout, stderr := runBinary(t, bin, dir, e)
	r := ciRun{github: github, code: code, stdout: stdout, files: map[string]string{"stderr": stderr}}
	for what, path := range map[string]string{"$GITHUB_OUTPUT": output, "the step summary": summary, "the result file": result} {
		if path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s: %v", what, err)
		}
		r.files[what] = string(b)
	}
	return r
}

// dump returns all of r for a failure message, with every form of every
// secret replaced by its description: the test's own log must not carry
// them either. Long lines are cut.
func (r ciRun) dump(secrets []secret) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit status %d\nstdout:\n%s", r.code, redact(r.stdout, secrets))
	for _, what := range []string{"stderr", "$GITHUB_OUTPUT", "the step summary", "the result file"} {
		if s, ok := r.files[what]; ok {
			fmt.Fprintf(&b, "%s:\n%s", what, redact(s, secrets))
		}
	}
	return b.String()
}

func redact(s string, secrets []secret) string {
	for _, sec := range secrets {
		for _, form := range sec.forms() {
			s = strings.ReplaceAll(s, form, "<"+sec.what+">")
		}
	}
	var b strings.Builder
	for line := range strings.Lines(s) {
		if len(line) > 400 {
			line = line[:400] + "...(cut)\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

// checkSecrets fails t if any form of any secret is anywhere in r but on
// an ::add-mask:: line on GitHub Actions, or, there, if a secret to mask
// is not masked before its first use.
func checkSecrets(t *testing.T, r ciRun, secrets ...secret) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for _, s := range secrets {
		if s.value == "" {
			t.Fatalf("%s is empty", s.what)
		}
		for _, form := range s.forms() {
			for i, line := range lines {
				// The mask of a longer secret may hold this one; outside
				// GitHub Actions there are no masks to hold anything.
				if strings.Contains(line, form) && !(r.github && strings.HasPrefix(line, "::add-mask::")) {
					t.Errorf("%s shows on stdout line %d: %s", s.what, i+1, redact(line, secrets))
				}
			}
			for what, content := range r.files {
				if strings.Contains(content, form) {
					t.Errorf("%s shows in %s:\n%s", s.what, what, redact(content, secrets))
				}
			}
		}
		if !r.github || !s.mask {
			continue
		}
		masked := slices.Index(lines, "::add-mask::"+s.value)
		if masked < 0 {
			t.Errorf("%s was never masked: no ::add-mask:: line for it\nstdout:\n%s", s.what, redact(r.stdout, secrets))
			continue
		}
		usedBy := s.usedBy
		if usedBy == nil {
			usedBy = anyLine
		}
		for i := range lines[:masked] {
			if usedBy(lines, i) {
				t.Errorf("%s is masked on stdout line %d, after line %d, which may depend on it\nstdout:\n%s", s.what, masked+1, i+1, redact(r.stdout, secrets))
				break
			}
		}
	}
}

// ciModes are the two ways CIs run the binary: as a GitHub Action, and as
// a plain container step anywhere else.
var ciModes = []struct {
	name   string
	github bool
}{{"github", true}, {"plain", false}}

// TestSecretsKubeconfigContent deploys with the kubeconfig input holding a
// kubeconfig's content, as a CI secret does: in the YAML kubectl writes,
// and in the JSON of `kubectl config view --raw -o json`.
func TestSecretsKubeconfigContent(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cfg := kubetest.Config(t)
	manifest := absFile(t, "testdata/demo/shop.yaml")
	for _, format := range []string{"yaml", "json"} {
		for _, mode := range ciModes {
			t.Run(format+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				ns := kubetest.Namespace(t, cfg)
				token := deployerToken(t, cfg, ns)
				secrets := []secret{{what: "the service account token", value: token, mask: true}}
				r := runAsCI(t, bin, mode.github, map[string]string{
					"app":          "shop-" + randomHex(t, 4),
					"image":        "registry.example.com/shop:1.0.1",
					"namespace":    ns,
					"kubeconfig":   kubeconfigContent(t, cfg, cfg.Host, token, format),
					"manifest":     manifest,
					"wait-timeout": "25s",
				})
				if got, want := r.code, exitOK; got != want {
					t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(secrets))
				}
				checkSecrets(t, r, secrets...)
			})
		}
	}
}

// TestSecretsFailedDeploy: runs that fail where the error is built from
// what holds the credentials.
func TestSecretsFailedDeploy(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cfg := kubetest.Config(t)
	ns := kubetest.Namespace(t, cfg)
	token := deployerToken(t, cfg, ns)
	manifest := absFile(t, "testdata/demo/shop.yaml")
	encoded := base64.StdEncoding.EncodeToString([]byte(kubeconfigContent(t, cfg, cfg.Host, token, "yaml")))
	truncated := token[:len(token)-8]

	cases := []struct {
		name   string
		inputs map[string]string
		code   int
		// secrets must not leak; those with mask set must be masked
		// first on GitHub Actions.
		secrets []secret
	}{
		{
			// Secrets such as KUBE_CONFIG_DATA hold the file in base64:
			// neither content bluegreen reads nor a path. The error must
			// not echo the value.
			name:   "kubeconfig in base64",
			inputs: map[string]string{"kubeconfig": encoded},
			code:   exitInput,
			secrets: []secret{
				{what: "the service account token", value: token},
				{what: "the base64 kubeconfig", value: encoded},
			},
		},
		{
			// The API server cannot be reached: the error names the
			// server and the request, never the credentials. A refused
			// connection may pass (a restarting API server), so it is
			// retried and then a failed run, not a bad input.
			name:    "cluster unreachable",
			inputs:  map[string]string{"kubeconfig": kubeconfigContent(t, cfg, "https://"+closedPort(t), token, "yaml")},
			code:    exitFailed,
			secrets: []secret{{what: "the service account token", value: token, mask: true}},
		},
		{
			// A token the API server refuses (cut short, as a secret
			// pasted in part holds it): a 401 from a real API server.
			name:    "token refused",
			inputs:  map[string]string{"kubeconfig": kubeconfigContent(t, cfg, cfg.Host, truncated, "yaml")},
			code:    exitInput,
			secrets: []secret{{what: "the refused token", value: truncated, mask: true}},
		},
	}
	for _, tc := range cases {
		for _, mode := range ciModes {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				inputs := map[string]string{
					"app":          "shop-" + randomHex(t, 4),
					"image":        "registry.example.com/shop:1.0.1",
					"namespace":    ns,
					"manifest":     manifest,
					"wait-timeout": "25s",
				}
				maps.Copy(inputs, tc.inputs)
				r := runAsCI(t, bin, mode.github, inputs)
				if got, want := r.code, tc.code; got != want {
					t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(tc.secrets))
				}
				if !strings.Contains(r.stdout+r.files["stderr"], `input "kubeconfig"`) {
					t.Errorf("no error names the kubeconfig input\n%s", r.dump(tc.secrets))
				}
				checkSecrets(t, r, tc.secrets...)
			})
		}
	}
}

// TestSecretsMigrationDatabase deploys with SQL migrations and the
// database URL, password included, in database-url: against the test
// PostgreSQL, with a wrong password, and with the database down. The
// driver's errors must carry neither the URL nor the password.
func TestSecretsMigrationDatabase(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cfg := kubetest.Config(t)
	manifest := absFile(t, "testdata/demo/shop.yaml")
	migrations := t.TempDir()
	if err := os.WriteFile(filepath.Join(migrations, "00001_orders.sql"), []byte("-- +goose Up\nCREATE TABLE orders (id bigint);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := pgtest.Database(t)
	wrong := "wrong-" + randomHex(t, 12)
	withWrong, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	withWrong.User = url.UserPassword(withWrong.User.Username(), wrong)

	cases := []struct {
		name     string
		url      string
		password string
		code     int
	}{
		{name: "applied", url: db.URL, password: db.Password, code: exitOK},
		{name: "wrong password", url: withWrong.String(), password: wrong, code: exitFailed},
		{name: "database down", url: "postgres://shop:" + wrong + "@" + closedPort(t) + "/shop?sslmode=disable", password: wrong, code: exitFailed},
	}
	for _, tc := range cases {
		for _, mode := range ciModes {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				ns := kubetest.Namespace(t, cfg)
				token := deployerToken(t, cfg, ns)
				secrets := []secret{
					{what: "the database URL", value: tc.url, mask: true},
					{what: "the database password", value: tc.password, mask: true},
					{what: "the service account token", value: token, mask: true},
				}
				r := runAsCI(t, bin, mode.github, map[string]string{
					"app":            "shop-" + randomHex(t, 4),
					"image":          "registry.example.com/shop:1.0.1",
					"namespace":      ns,
					"kubeconfig":     kubeconfigContent(t, cfg, cfg.Host, token, "yaml"),
					"manifest":       manifest,
					"wait-timeout":   "25s",
					"migrations-dir": migrations,
					"database-url":   tc.url,
				})
				if got, want := r.code, tc.code; got != want {
					t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(secrets))
				}
				checkSecrets(t, r, secrets...)
			})
		}
	}
}

// TestSecretsPromote promotes from one repository of the local registry
// to another with the password in a Docker config file, as `docker login`
// leaves it, and again with a wrong password.
func TestSecretsPromote(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	reg := localRegistry(t)
	base := reg.host + "/bg-test/" + randomHex(t, 4)
	source := base + "/shop:qa"
	pushRandomImage(t, reg, source)

	cases := []struct {
		name     string
		password string
		code     int
	}{
		{name: "docker config", password: reg.password, code: exitOK},
		{name: "wrong password", password: "wrong-" + randomHex(t, 12), code: exitFailed},
	}
	for _, tc := range cases {
		for _, mode := range ciModes {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				secrets := []secret{
					{what: "the registry password", value: tc.password, mask: true, usedBy: inStep},
					{what: "the Docker config auth", value: reg.user + ":" + tc.password},
				}
				r := runAsCI(t, bin, mode.github, map[string]string{
					"command":        "promote",
					"source-image":   source,
					"ecr-repository": base + "/prod-" + randomHex(t, 4),
					"tags":           "v1",
				}, "DOCKER_CONFIG="+writeDockerConfig(t, reg.host, reg.user, tc.password))
				if got, want := r.code, tc.code; got != want {
					t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(secrets))
				}
				if tc.code != exitOK && !strings.Contains(r.stdout+r.files["stderr"], "the registry rejected the credentials (HTTP 401)") {
					t.Errorf("the error does not say the registry refused the credentials\n%s", r.dump(secrets))
				}
				checkSecrets(t, r, secrets...)
			})
		}
	}
}

// inStep: a registry credential is read when the promote step first calls
// the registry, so lines of that step's log may depend on it; the step's
// own group line may not.
func inStep(lines []string, i int) bool {
	if strings.HasPrefix(lines[i], "::add-mask::") || strings.HasPrefix(lines[i], "::group::") {
		return false
	}
	for _, l := range lines[:i] {
		if strings.HasPrefix(l, "::group::") {
			return true
		}
	}
	return false
}

// deployerToken returns a token of a new service account of namespace ns,
// bound to the Role docs/rbac-kubernetes.yaml documents as what a run
// needs: the credential a CI would hold.
func deployerToken(t *testing.T, cfg *rest.Config, ns string) string {
	t.Helper()
	ctx := t.Context()
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rbac, err := rbacv1client.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	role := documentedRole(t)
	if _, err := rbac.Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating Role: %v", err)
	}
	const sa = "deployer"
	if _, err := core.ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ServiceAccount: %v", err)
	}
	_, err = rbac.RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bluegreen"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating RoleBinding: %v", err)
	}
	expiry := int64(600) // the API server's least
	tr, err := core.ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token: %v", err)
	}
	return tr.Status.Token
}

// documentedRole reads the Role from docs/rbac-kubernetes.yaml.
func documentedRole(t *testing.T) *rbacv1.Role {
	t.Helper()
	b, err := os.ReadFile("docs/rbac-kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			t.Fatal("docs/rbac-kubernetes.yaml holds no Role")
		}
		if err != nil {
			t.Fatalf("reading docs/rbac-kubernetes.yaml: %v", err)
		}
		var role rbacv1.Role
		if err := yaml.UnmarshalStrict(doc, &role); err != nil {
			t.Fatalf("parsing docs/rbac-kubernetes.yaml: %v", err)
		}
		if role.Kind == "Role" {
			return &role
		}
	}
}

// kubeconfigContent returns a kubeconfig for server, trusting the test
// plane's CA, with token as the user's credential, in format "yaml" or
// "json".
func kubeconfigContent(t *testing.T, cfg *rest.Config, server, token, format string) string {
	t.Helper()
	tls := *cfg
	if err := rest.LoadTLSFiles(&tls); err != nil {
		t.Fatal(err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["ci"] = &clientcmdapi.Cluster{
		Server:                   server,
		CertificateAuthorityData: tls.CAData,
		TLSServerName:            tls.ServerName,
		InsecureSkipTLSVerify:    tls.Insecure,
	}
	kc.AuthInfos["deployer"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["ci"] = &clientcmdapi.Context{Cluster: "ci", AuthInfo: "deployer"}
	kc.CurrentContext = "ci"
	b, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	if format == "json" {
		if b, err = yaml.YAMLToJSON(b); err != nil {
			t.Fatal(err)
		}
	}
	return string(b)
}

// closedPort returns a loopback host:port where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// testRegistryServer is the registry of scripts/registry-local.
type testRegistryServer struct {
	host, user, password string
}

// localRegistry returns the registry named by BLUEGREEN_TEST_REGISTRY and
// its _USER and _PASSWORD, or by .registry-local/env. It skips the test
// when there is none, or fails it when BLUEGREEN_INTEGRATION=1.
func localRegistry(t *testing.T) testRegistryServer {
	t.Helper()
	const prefix = "BLUEGREEN_TEST_REGISTRY"
	env := map[string]string{}
	for _, k := range []string{prefix, prefix + "_USER", prefix + "_PASSWORD"} {
		env[k] = os.Getenv(k)
	}
	if env[prefix] == "" {
		b, err := os.ReadFile(".registry-local/env")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
				if _, want := env[k]; want {
					env[k] = v
				}
			}
		}
	}
	if env[prefix] == "" {
		if os.Getenv(kubetest.EnvIntegration) == "1" {
			t.Fatalf("local registry not running; scripts/registry-local up (%s=1 requires it)", kubetest.EnvIntegration)
		}
		t.Skip("local registry not running; scripts/registry-local up")
	}
	if env[prefix+"_USER"] == "" || env[prefix+"_PASSWORD"] == "" {
		t.Fatalf("%s is set without its user or password", prefix)
	}
	return testRegistryServer{host: env[prefix], user: env[prefix+"_USER"], password: env[prefix+"_PASSWORD"]}
}

// pushRandomImage pushes a small random image as ref.
func pushRandomImage(t *testing.T, reg testRegistryServer, ref string) {
	t.Helper()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	auth := remote.WithAuth(&authn.Basic{Username: reg.user, Password: reg.password})
	if err := remote.Write(r, img, auth, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// writeDockerConfig writes a Docker config as `docker login` leaves it
// without a credential helper, and returns its folder for DOCKER_CONFIG.
func writeDockerConfig(t *testing.T, host, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(map[string]any{
		"auths": map[string]any{
			host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func absFile(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
