package main

// Runs of the built binary against systems that misbehave on purpose: an
// API server that quotes the credentials it was sent and slips workflow
// commands into its errors, one that accepts connections and never
// answers, one that fails in passing. No cluster is needed: each stands
// in for the Kubernetes API in an httptest server.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bluegreen-dev/bluegreen-action/internal/hook"
	"github.com/bluegreen-dev/bluegreen-action/internal/hook/hooktest"
)

// forgery is what a hostile system writes into its errors: after a
// carriage return, which a runner takes as a line break, workflow commands
// that would raise an annotation and stop command processing.
const forgery = "\r::error::forged by the server\r::stop-commands::forged\r\n::warning::forged too"

// hostileAPI stands in for a Kubernetes API server. The namespace exists;
// every other request fails with a 500 whose message quotes the
// Authorization header it got and carries forgery.
func hostileAPI(t *testing.T, ns string) *httptest.Server {
	t.Helper()
	// TLS: clientcmd sends a user's credentials to https servers only.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet && r.URL.Path == "/api/v1/namespaces/"+ns {
			_ = json.NewEncoder(w).Encode(map[string]any{
				"kind": "Namespace", "apiVersion": "v1", "metadata": map[string]any{"name": ns},
			})
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "InternalError", "code": 500,
			"message": fmt.Sprintf("you sent Authorization %q [see](https://evil.example/x) ![i](https://evil.example/i.png)%s", r.Header.Get("Authorization"), forgery),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hostileUsers are kubeconfig users of every kind of credential, each
// with the secrets a run must never show.
type hostileUser struct {
	name    string
	auth    *clientcmdapi.AuthInfo
	secrets []secret
}

func hostileUsers(t *testing.T) []hostileUser {
	t.Helper()
	token := "tok-" + randomHex(t, 16)
	password := "pw-" + randomHex(t, 12)
	execToken := "exec-" + randomHex(t, 16)
	envValue := "env-" + randomHex(t, 16)
	// An exec credential plugin as cloud CLIs are: it prints a token
	// that is nowhere in the kubeconfig.
	plugin := filepath.Join(t.TempDir(), "credential-plugin")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}'\n", execToken)
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []hostileUser{
		{
			name:    "token",
			auth:    &clientcmdapi.AuthInfo{Token: token},
			secrets: []secret{{what: "the token", value: token, mask: true}},
		},
		{
			name: "basic",
			auth: &clientcmdapi.AuthInfo{Username: "deployer", Password: password},
			secrets: []secret{
				{what: "the password", value: password, mask: true},
				// Its base64 is what the Authorization header carries.
				{what: "user:password", value: "deployer:" + password, mask: true},
			},
		},
		{
			name: "exec plugin",
			auth: &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
				APIVersion: "client.authentication.k8s.io/v1", Command: plugin,
				Env:             []clientcmdapi.ExecEnvVar{{Name: "CLOUD_SECRET", Value: envValue}},
				InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
			}},
			secrets: []secret{
				{what: "the plugin's token", value: execToken, mask: true},
				{what: "the plugin's environment value", value: envValue, mask: true},
			},
		},
	}
}

// hostileKubeconfig returns a kubeconfig for server with user as its
// current user, and another user of an auth provider whose secrets must
// be masked too although the run does not use them.
func hostileKubeconfig(t *testing.T, server string, user *clientcmdapi.AuthInfo, ca ...*x509.Certificate) (string, []secret) {
	t.Helper()
	clientSecret := "cs-" + randomHex(t, 12)
	refresh := "rt-" + randomHex(t, 12)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: server}
	for _, c := range ca {
		kc.Clusters["c"].CertificateAuthorityData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	kc.AuthInfos["u"] = user
	kc.AuthInfos["oidc"] = &clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{
		Name: "oidc", Config: map[string]string{"client-id": "bluegreen", "client-secret": clientSecret, "refresh-token": refresh},
	}}
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "c"
	b, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), []secret{
		{what: "the auth provider's client secret", value: clientSecret, mask: true},
		{what: "the auth provider's refresh token", value: refresh, mask: true},
	}
}

// TestHostileAPIServer deploys against an API server that quotes the
// credentials it gets and forges workflow commands in its errors: no
// form of any credential may reach any output, and no forged command may
// reach the runner as one.
func TestHostileAPIServer(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	const ns = "shop"
	srv := hostileAPI(t, ns)
	manifest := absFile(t, "testdata/demo/shop.yaml")
	for _, u := range hostileUsers(t) {
		for _, mode := range ciModes {
			t.Run(u.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				kubeconfig, more := hostileKubeconfig(t, srv.URL, u.auth, srv.Certificate())
				secrets := append(append([]secret{}, u.secrets...), more...)
				r := runAsCI(t, bin, mode.github, map[string]string{
					"app":          "shop",
					"image":        "registry.example.com/shop:1.0.1",
					"namespace":    ns,
					"kubeconfig":   kubeconfig,
					"manifest":     manifest,
					"wait-timeout": "5s",
				})
				if got, want := r.code, exitFailed; got != want {
					t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(secrets))
				}
				if !strings.Contains(r.stdout+r.files["stderr"], "you sent Authorization") {
					t.Fatalf("the server's error never reached the output; the test proves nothing\n%s", r.dump(secrets))
				}
				checkSecrets(t, r, secrets...)
				checkNoForgery(t, r)
				if s := outsideFences(r.files["the step summary"]); renderedLink.MatchString(s) {
					t.Errorf("the step summary renders the server's markdown:\n%s", s)
				}
			})
		}
	}
}

// checkNoForgery fails t if a command of forgery reaches the runner as a
// command: on a line of its own (a runner splits lines at \r and \n) of
// stdout or stderr, outside a ::stop-commands:: fence whose token is not
// guessable.
func checkNoForgery(t *testing.T, r ciRun) {
	t.Helper()
	fenceToken := regexp.MustCompile(`^::stop-commands::[0-9a-f]{32}$`)
	for what, out := range map[string]string{"stdout": r.stdout, "stderr": r.files["stderr"]} {
		fence := ""
		for i, line := range regexp.MustCompile(`\r\n|\r|\n`).Split(out, -1) {
			l := strings.TrimLeft(line, " \t")
			switch {
			case fence != "" && l == "::"+fence+"::":
				fence = ""
			case fence != "":
			case fenceToken.MatchString(l):
				fence = strings.TrimPrefix(l, "::stop-commands::")
			case strings.HasPrefix(l, "::") && strings.Contains(l, "forged") && !strings.Contains(l, "%0D"):
				t.Errorf("%s line %d is a forged workflow command: %q", what, i+1, line)
			case strings.HasPrefix(l, "::error::forged"), strings.HasPrefix(l, "::stop-commands::forged"), strings.HasPrefix(l, "::warning::forged"):
				t.Errorf("%s line %d is a forged workflow command: %q", what, i+1, line)
			}
		}
	}
}

// TestHostileVerifyServer checks verify-url against a server that quotes
// every header it gets, the Basic credentials of the URL's password
// among them, in its answers.
func TestHostileVerifyServer(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "headers: %q [see](https://evil.example/x) ![i](https://evil.example/i.png)", r.Header)
	}))
	t.Cleanup(srv.Close)
	password := "pw-" + randomHex(t, 12)
	key := "key-" + randomHex(t, 12)
	verifyURL := strings.Replace(srv.URL, "http://", "http://probe:"+password+"@", 1) + "/healthz"
	secrets := []secret{
		{what: "the verify-url password", value: password, mask: true},
		{what: "the Basic credentials", value: base64.StdEncoding.EncodeToString([]byte("probe:" + password)), mask: true},
		{what: "the verify-headers value", value: key, mask: true},
	}
	for _, mode := range ciModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := runAsCI(t, bin, mode.github, map[string]string{
				"command":        "verify",
				"verify-url":     verifyURL,
				"verify-headers": "X-Api-Key: " + key,
				"verify-timeout": "300ms",
			})
			if got, want := r.code, exitFailed; got != want {
				t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(secrets))
			}
			if !strings.Contains(r.stdout+r.files["stderr"], "headers:") {
				t.Fatalf("the server's answer never reached the output; the test proves nothing\n%s", r.dump(secrets))
			}
			checkSecrets(t, r, secrets...)
			if s := outsideFences(r.files["the step summary"]); renderedLink.MatchString(s) {
				t.Errorf("the step summary renders the server's markdown:\n%s", s)
			}
		})
	}
}

// TestVerifyHeadersWithoutColon: a verify-headers line that is not
// `Name: value` is most likely a token pasted alone; the bad input names
// the input and never shows the line.
func TestVerifyHeadersWithoutColon(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	token := "Bearer " + randomHex(t, 16)
	secrets := []secret{{what: "the pasted token", value: token, mask: true}}
	for _, mode := range ciModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := runAsCI(t, bin, mode.github, map[string]string{
				"command":        "verify",
				"verify-url":     "https://shop.example.com/healthz",
				"verify-headers": token,
			})
			if got, want := r.code, exitInput; got != want {
				t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(secrets))
			}
			if !strings.Contains(r.stdout+r.files["stderr"], `input "verify-headers"`) {
				t.Errorf("no error names verify-headers\n%s", r.dump(secrets))
			}
			checkSecrets(t, r, secrets...)
		})
	}
}

// silentServer accepts connections and never writes a byte. accepted
// receives once per connection.
func silentServer(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 100)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String(), ch
}

// TestSilentAPIServer: an API server that accepts the connection and
// never answers ends the run by itself, a failed run, not a bad input
// and not a hung job.
func TestSilentAPIServer(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	addr, _ := silentServer(t)
	for _, mode := range ciModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			kubeconfig, _ := hostileKubeconfig(t, "http://"+addr, &clientcmdapi.AuthInfo{Token: "token-of-no-use-0123456789"})
			r := runAsCI(t, bin, mode.github, map[string]string{
				"app":             "shop",
				"image":           "registry.example.com/shop:1.0.1",
				"kubeconfig":      kubeconfig,
				"request-timeout": "300ms",
			})
			if got, want := r.code, exitFailed; got != want {
				t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(nil))
			}
			if !strings.Contains(r.stdout+r.files["stderr"], "no answer from "+addr+" within 300ms") {
				t.Errorf("the error does not say the server did not answer\n%s", r.dump(nil))
			}
		})
	}
}

// TestCancelledDuringSetup sends SIGTERM while set-up waits for an API
// server that never answers: a cancelled run (exit 1), not a bad
// kubeconfig.
func TestCancelledDuringSetup(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	addr, accepted := silentServer(t)
	kubeconfig, _ := hostileKubeconfig(t, "http://"+addr, &clientcmdapi.AuthInfo{Token: "token-of-no-use-0123456789"})
	inputs := map[string]string{
		"app":             "shop",
		"image":           "registry.example.com/shop:1.0.1",
		"kubeconfig":      kubeconfig,
		"request-timeout": "10m",
	}
	var e []string
	for k, v := range inputs {
		e = append(e, "BLUEGREEN_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))+"="+v)
	}
	e = append(e, "CI=true", "HOME="+t.TempDir())
	code, stdout, stderr := runBinaryUntil(t, bin, t.TempDir(), e, func(p *os.Process) {
		<-accepted // set-up is waiting for the server
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
	})
	if got, want := code, exitFailed; got != want {
		t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
	}
	if !strings.Contains(stderr, "cancelled") {
		t.Errorf("stderr does not say the run was cancelled:\n%s", stderr)
	}
}

// TestFirstContact: what the API server answers at first contact decides
// between a failed run worth retrying (exit 1) and a bad input (exit 2).
// Passing faults are retried.
func TestFirstContact(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	cases := []struct {
		name  string
		code  int // the status every request gets
		exit  int
		tries int // least requests expected
		say   string
		// timeout is request-timeout; default 30s.
		timeout string
	}{
		{name: "503", code: http.StatusServiceUnavailable, exit: exitFailed, tries: 2, say: "reading namespace"},
		{name: "429", code: http.StatusTooManyRequests, exit: exitFailed, tries: 2, say: "reading namespace"},
		{name: "401", code: http.StatusUnauthorized, exit: exitInput, tries: 1, say: `input "kubeconfig"`},
		{name: "403", code: http.StatusForbidden, exit: exitInput, tries: 2, say: `input "kubeconfig": the credentials may not read Deployments in namespace`},
		// 0: the connection is closed with no answer, as by a reset.
		// client-go retries a reset GET itself, a second apart: the
		// attempt is bounded by request-timeout all the same.
		{name: "connection closed", code: 0, exit: exitFailed, tries: 2, say: "reading namespace", timeout: "3s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int32
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if tc.code == 0 {
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						_ = conn.(*tls.Conn).NetConn().(*net.TCPConn).SetLinger(0) // a reset, not a clean close
						_ = conn.Close()
					}
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.code)
				_ = json.NewEncoder(w).Encode(map[string]any{
					"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": tc.code, "message": http.StatusText(tc.code),
				})
			}))
			defer srv.Close()
			kubeconfig, _ := hostileKubeconfig(t, srv.URL, &clientcmdapi.AuthInfo{Token: "token-of-no-use-0123456789"}, srv.Certificate())
			inputs := map[string]string{
				"app":        "shop",
				"image":      "registry.example.com/shop:1.0.1",
				"kubeconfig": kubeconfig,
			}
			if tc.timeout != "" {
				inputs["request-timeout"] = tc.timeout
			}
			r := runAsCI(t, bin, false, inputs)
			if got, want := r.code, tc.exit; got != want {
				t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(nil))
			}
			if got := int(requests.Load()); got < tc.tries {
				t.Errorf("%d requests, want at least %d", got, tc.tries)
			}
			if !strings.Contains(r.files["stderr"], tc.say) {
				t.Errorf("stderr does not say %q\n%s", tc.say, r.dump(nil))
			}
		})
	}
}

// TestResultFileFolder: a result-file that names a folder, or a file in a
// folder that cannot be written, is a bad input found before anything
// else, here before the API server, which never answers, is called.
func TestResultFileFolder(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	addr, accepted := silentServer(t)
	notAFolder := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notAFolder, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"folder":           t.TempDir(),
		"under a file":     filepath.Join(notAFolder, "result.json"),
		"in a missing one": filepath.Join(t.TempDir(), "missing", "result.json"),
	} {
		t.Run(name, func(t *testing.T) {
			kubeconfig, _ := hostileKubeconfig(t, "http://"+addr, &clientcmdapi.AuthInfo{Token: "token-of-no-use-0123456789"})
			e := []string{
				"CI=true", "HOME=" + t.TempDir(),
				"BLUEGREEN_APP=shop", "BLUEGREEN_IMAGE=registry.example.com/shop:1.0.1",
				"BLUEGREEN_KUBECONFIG=" + kubeconfig, "BLUEGREEN_REQUEST_TIMEOUT=10m",
				"BLUEGREEN_RESULT_FILE=" + path,
			}
			code, stdout, stderr := runBinary(t, bin, t.TempDir(), e)
			if got, want := code, exitInput; got != want {
				t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
			}
			if !strings.Contains(stderr, `input "result-file"`) {
				t.Errorf("stderr does not name result-file:\n%s", stderr)
			}
		})
	}
	select {
	case <-accepted:
		t.Error("the API server was called although result-file was bad")
	default:
	}
}

// TestReportFailureKeepsSuccess: a step summary that cannot be written
// after a run that succeeded is said on stderr; the exit status stays 0.
func TestReportFailureKeepsSuccess(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	e := append(runnerInputs(t, map[string]string{"command": "verify", "verify-url": srv.URL}),
		"GITHUB_ACTIONS=true", "CI=true", "HOME="+t.TempDir(),
		"GITHUB_OUTPUT="+filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY="+t.TempDir(), // a folder: the summary cannot be written
	)
	code, stdout, stderr := runBinary(t, bin, dir, e)
	if got, want := code, exitOK; got != want {
		t.Errorf("exit status = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout, stderr)
	}
	if !strings.Contains(stderr, "writing the report") {
		t.Errorf("stderr does not say the report could not be written:\n%s", stderr)
	}
}

// runBinaryUntil runs bin like runBinary and calls during with its
// process while it runs.
func runBinaryUntil(t *testing.T, bin, dir string, e []string, during func(*os.Process)) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var out, errOut strings.Builder
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir, cmd.Env = dir, e
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	during(cmd.Process)
	err := cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%s did not exit within 60s", bin)
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("running %s: %v", bin, err)
	}
	return code, out.String(), errOut.String()
}

// renderedLink matches a markdown link or image whose closing bracket is
// not escaped.
var renderedLink = regexp.MustCompile(`(^|[^\\])\]\(https://evil\.example`)

// outsideFences returns the markdown of s without its fenced code blocks,
// whose text is shown as it is.
func outsideFences(s string) string {
	var b strings.Builder
	fence := ""
	for line := range strings.Lines(s) {
		trimmed := strings.TrimSpace(line)
		switch {
		case fence == "" && strings.HasPrefix(trimmed, "```"):
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
		case fence != "" && trimmed == fence:
			fence = ""
		case fence == "":
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestLambdaValidatesInputs: as a Lambda hook, the inputs are validated
// as command verify's are in any CI; a bad one is reported to Lambda as
// the function's init error.
func TestLambdaValidatesInputs(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		env   env
		error string
	}{
		"verify-url not http": {
			env:   env{"BLUEGREEN_VERIFY_URL": "ftp://probe:hunter2@shop.example.com/healthz"},
			error: `input "verify-url": "ftp://probe:xxxxx@shop.example.com/healthz" is not an http or https URL`,
		},
		"verify-timeout zero": {
			env:   env{"BLUEGREEN_VERIFY_URL": "https://shop.example.com/healthz", "BLUEGREEN_VERIFY_TIMEOUT": "0s"},
			error: `input "verify-timeout": must be more than 0`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rt := hooktest.NewRuntime(t)
			tc.env[hook.RuntimeAPIEnv] = rt.Addr()
			code, _, stderr := runMain(t, nil, tc.env)
			if got, want := code, exitInput; got != want {
				t.Errorf("exit status = %d, want %d\nstderr:\n%s", got, want, stderr)
			}
			inits := rt.InitErrors()
			if len(inits) != 1 || !strings.Contains(inits[0].Message, tc.error) {
				t.Errorf("init errors = %+v, want one containing %q", inits, tc.error)
			}
			if strings.Contains(stderr, "hunter2") {
				t.Errorf("stderr shows the password:\n%s", stderr)
			}
		})
	}
}

// TestSilentRegistry: a promotion from a registry that accepts the
// connection and never answers fails by itself.
func TestSilentRegistry(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	addr, _ := silentServer(t)
	r := runAsCI(t, bin, false, map[string]string{
		"command":         "promote",
		"source-image":    addr + "/qa/shop:1.0.1",
		"ecr-repository":  addr + "/prod/shop",
		"tags":            "v1",
		"request-timeout": "300ms",
	})
	if got, want := r.code, exitFailed; got != want {
		t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(nil))
	}
	if !strings.Contains(r.stdout+r.files["stderr"], "no answer from "+addr+" within 300ms") {
		t.Errorf("the error does not say the registry did not answer\n%s", r.dump(nil))
	}
}

// TestSilentAWS: on ECS, an AWS endpoint that accepts the connection and
// never answers fails the run by itself (exit 1), each attempt of the
// SDK bounded by request-timeout.
func TestSilentAWS(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	addr, accepted := silentServer(t)
	r := runAsCI(t, bin, false, map[string]string{
		"platform":        "ecs",
		"app":             "shop",
		"image":           "registry.example.com/shop:1.0.1",
		"cluster":         "prod",
		"listener-arn":    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2",
		"region":          "us-east-1",
		"request-timeout": "200ms",
	}, "AWS_ENDPOINT_URL=http://"+addr, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "AWS_EC2_METADATA_DISABLED=true")
	if got, want := r.code, exitFailed; got != want {
		t.Errorf("exit status = %d, want %d\n%s", got, want, r.dump(nil))
	}
	select {
	case <-accepted:
	default:
		t.Errorf("the AWS endpoint was never called; the test proves nothing\n%s", r.dump(nil))
	}
	checkSecrets(t, r, secret{what: "the AWS secret key", value: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
}
