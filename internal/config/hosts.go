package config

import (
	"net"
	"regexp"
	"strings"
)

// Hosts holds the inputs of platform hosts and router haproxy.
type Hosts struct {
	// DeployCommand puts a release on a color's machines; it runs with
	// BLUEGREEN_APP, BLUEGREEN_COLOR and BLUEGREEN_IMAGE set.
	DeployCommand Command `env:"DEPLOY_COMMAND"`
	VersionPath   string  `env:"VERSION_PATH, default=/version"`

	RuntimeAPI     string `env:"HAPROXY_RUNTIME_API"`
	Backend        string `env:"HAPROXY_BACKEND"`
	PreviewBackend string `env:"HAPROXY_PREVIEW_BACKEND"`
	HistoryMap     string `env:"HAPROXY_HISTORY_MAP"`
}

// haproxyName is what HAProxy accepts as a proxy name.
var haproxyName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

func (h *Hosts) validate(c *Config) []error {
	var errs []error
	add := func(input, format string, args ...any) { errs = append(errs, Errorf(input, format, args...)) }
	hosts := c.Platform == "hosts"
	haproxy := c.Router == "haproxy" && hosts
	if hosts && c.Deploys() && len(h.DeployCommand) == 0 {
		add("deploy-command", "is required to deploy with platform hosts: the command that puts image on a color's machines, e.g. ./deploy.sh")
	}
	if !strings.HasPrefix(h.VersionPath, "/") || strings.ContainsAny(h.VersionPath, " \t\n") {
		add("version-path", "%q is not a URL path, e.g. /version", h.VersionPath)
	}
	if h.RuntimeAPI != "" && haproxy {
		if path, ok := strings.CutPrefix(h.RuntimeAPI, "unix:"); ok {
			if path == "" {
				add("haproxy-runtime-api", "%q names no socket, e.g. unix:/run/haproxy/admin.sock", h.RuntimeAPI)
			}
		} else if host, port, err := net.SplitHostPort(h.RuntimeAPI); err != nil || host == "" || port == "" {
			add("haproxy-runtime-api", "%q is not host:port or unix:/path, e.g. 127.0.0.1:9999", h.RuntimeAPI)
		}
	}
	for input, v := range map[string]string{"haproxy-backend": h.Backend, "haproxy-preview-backend": h.PreviewBackend} {
		if v != "" && !haproxyName.MatchString(v) {
			add(input, "%q is not an HAProxy backend name: letters, digits, '-', '_', '.' and ':'", v)
		}
	}
	if h.PreviewBackend != "" && h.PreviewBackend == h.Backend {
		add("haproxy-preview-backend", "%q is also the production backend; the preview must be another one", h.PreviewBackend)
	}
	if h.HistoryMap != "" && strings.ContainsAny(h.HistoryMap, " \t\n") {
		add("haproxy-history-map", "%q is not a map file path as HAProxy names it", h.HistoryMap)
	}
	if hosts && c.ScaleDownAfter > 0 {
		add("scale-down-after", "is not possible with platform hosts: bluegreen does not start or stop the machines")
	}
	return errs
}
