package kube

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// RestConfig builds a client configuration from the kubeconfig input: the
// path of a kubeconfig file (or several, separated as in KUBECONFIG), or
// the file's content itself (as a CI secret holds it). Empty means $KUBECONFIG or ~/.kube/config, then the in-cluster
// service account. mask is called with every credential found, before the
// configuration is used.
func RestConfig(kubeconfig string, mask func(string)) (*rest.Config, error) {
	var raw *clientcmdapi.Config
	var err error
	switch {
	case strings.Contains(kubeconfig, "apiVersion:") || strings.Contains(kubeconfig, "clusters:") ||
		strings.HasPrefix(strings.TrimSpace(kubeconfig), "{"): // JSON, as kubectl config view -o json prints it
		raw, err = clientcmd.Load([]byte(kubeconfig))
		if err != nil {
			return nil, fmt.Errorf("parsing kubeconfig content: %w", err)
		}
	case len(filepath.SplitList(kubeconfig)) > 1:
		// Several files, as KUBECONFIG may list them: merged as kubectl
		// merges them, the first to set a value wins.
		raw, err = (&clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(kubeconfig)}).Load()
		if err != nil {
			return nil, fmt.Errorf("reading kubeconfig files %q: %w", kubeconfig, err)
		}
	case kubeconfig != "":
		if _, serr := os.Stat(kubeconfig); serr != nil {
			// The value may be content in a form not recognised above
			// (base64, say), credentials included: never echo it.
			var pe *fs.PathError
			if errors.As(serr, &pe) {
				serr = pe.Err
			}
			return nil, fmt.Errorf("reading kubeconfig: the value is neither a file nor kubeconfig content in YAML or JSON (base64 must be decoded first); it is not shown, as it may hold credentials: %w", serr)
		}
		raw, err = clientcmd.LoadFromFile(kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("reading kubeconfig %q: %w", kubeconfig, err)
		}
	default:
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		raw, err = rules.Load()
		if err != nil {
			return nil, fmt.Errorf("reading kubeconfig from $KUBECONFIG: %w", err)
		}
		if len(raw.Clusters) == 0 {
			cfg, ierr := rest.InClusterConfig()
			if ierr != nil {
				return nil, fmt.Errorf("no kubeconfig given, none in $KUBECONFIG or ~/.kube/config, and not running in a cluster: %w", ierr)
			}
			mask(cfg.BearerToken)
			return cfg, nil
		}
	}
	for _, a := range raw.AuthInfos {
		for _, s := range authInfoSecrets(a) {
			mask(s)
		}
		if a.Exec != nil {
			// The action's image holds no shell and no cloud CLIs, so a
			// credential plugin usually cannot run; say so up front
			// instead of failing obscurely at the first call.
			if _, err := exec.LookPath(a.Exec.Command); err != nil {
				return nil, fmt.Errorf("kubeconfig uses the credential plugin %q, which is not installed here (the bluegreen image has no cloud CLIs); give a token instead", a.Exec.Command)
			}
		}
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("building client from kubeconfig: %w", err)
	}
	MaskAuthorization(cfg, mask)
	cfg.UserAgent = "bluegreen"
	// client-go's default of 5 requests a second would pace a deploy's
	// reads, not the API server; one run makes a few dozen calls.
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// authInfoSecrets returns every credential of a kubeconfig user, in the
// forms it may be quoted in: the token, the password and the base64 of
// user:password that Basic authentication sends, the client key, the
// environment values given to an exec plugin (cloud keys, as a rule), and
// the secrets of an auth provider's configuration.
func authInfoSecrets(a *clientcmdapi.AuthInfo) []string {
	out := []string{a.Token, a.Password, string(a.ClientKeyData)}
	if a.Password != "" {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password)))
	}
	if a.Exec != nil {
		for _, e := range a.Exec.Env {
			out = append(out, e.Value)
		}
	}
	if a.AuthProvider != nil {
		for k, v := range a.AuthProvider.Config {
			// Issuer URLs, client ids and command paths are not
			// secrets; masking them would hide them where they help.
			switch k {
			case "idp-issuer-url", "client-id", "cmd-path", "cmd-args", "token-key", "expiry-key", "expiry", "scopes", "environment", "tenant-id", "apiserver-id", "config-mode":
			default:
				out = append(out, v)
			}
		}
	}
	return out
}
