package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// RestConfig builds a client configuration from the kubeconfig input: the
// path of a kubeconfig file, or the file's content itself (as a CI secret
// holds it). Empty means $KUBECONFIG or ~/.kube/config, then the in-cluster
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
		mask(a.Token)
		mask(a.Password)
		mask(string(a.ClientKeyData))
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
	cfg.UserAgent = "bluegreen"
	// client-go's default of 5 requests a second would pace a deploy's
	// reads, not the API server; one run makes a few dozen calls.
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}
