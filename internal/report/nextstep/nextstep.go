package nextstep

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/bluegreen-dev/bluegreen-action/internal/lock"
)

// RBACDocument is where the Role a run needs on Kubernetes is published.
const RBACDocument = "https://github.com/bluegreen-dev/bluegreen-action/blob/main/docs/rbac-kubernetes.yaml"

// For returns what to do about err, or "" when no remedy is known. now
// dates a lock holder's claim.
func For(err error, now time.Time) string {
	if err == nil {
		return ""
	}
	var held *lock.HeldError
	var lost *lock.LostError
	switch {
	case errors.As(err, &held):
		return lockHeld(held, now)
	case errors.As(err, &lost):
		return lockLost(lost)
	case forbidden(err):
		return "The cluster refused a request (403 Forbidden): the identity in the kubeconfig lacks a permission " +
			"bluegreen needs. docs/rbac-kubernetes.yaml (" + RBACDocument + ") is the Role a run needs, every verb " +
			"and resource it uses: apply it in the namespace and bind it to that identity " +
			"(kubectl -n <namespace> create rolebinding bluegreen --role=bluegreen --serviceaccount=<ns>:<name>)."
	}
	if addr, ok := refusedAPIServer(err); ok {
		return refused(addr)
	}
	return ""
}

func lockHeld(h *lock.HeldError, now time.Time) string {
	s := fmt.Sprintf("Another run holds the deploy lock %q: %s", h.Name, orUnknown(h.Holder))
	if !h.Since.IsZero() {
		s += fmt.Sprintf(", since %s (%s ago)", h.Since.UTC().Format(time.RFC3339), now.Sub(h.Since).Round(time.Second))
	}
	s += ". Wait for that run to finish, or set `lock-timeout` (e.g. 10m) so that this run waits for the lock."
	if !h.Expires.IsZero() {
		s += fmt.Sprintf(" If that run is gone, its claim lapses at %s unless renewed.", h.Expires.UTC().Format(time.RFC3339))
	}
	return s
}

func lockLost(l *lock.LostError) string {
	if l.Holder == "" {
		return fmt.Sprintf("This run lost the deploy lock %q (%s) and stopped writing. Check what the colors run, "+
			"then run again; if it keeps happening, the runner cannot reach the cluster steadily enough to renew the lock.", l.Name, l.Reason)
	}
	return fmt.Sprintf("Another run, %s, took the deploy lock %q while this one ran; this run wrote nothing after that. "+
		"That run decides what serves now: let it finish, then run again if this release is still wanted.", l.Holder, l.Name)
}

func orUnknown(s string) string {
	if s == "" {
		return "an unnamed holder"
	}
	return s
}

// forbidden reports whether the Kubernetes API refused err's request. The
// text is matched too: set-up quotes some API errors rather than wrapping
// them.
func forbidden(err error) bool {
	return apierrors.IsForbidden(err) || forbiddenText.MatchString(err.Error())
}

var forbiddenText = regexp.MustCompile(`is forbidden: (User|ServiceAccount|Group) `)

// refusedAPIServer reports whether err is a refused connection to a
// Kubernetes API server, and its address. A refused connection to anything
// else (a verify URL, a database) is not about the kubeconfig.
func refusedAPIServer(err error) (string, bool) {
	var ue *url.Error
	if errors.As(err, &ue) && errors.Is(err, syscall.ECONNREFUSED) {
		u, perr := url.Parse(ue.URL)
		if perr == nil && apiPath(u.Path) {
			var op *net.OpError
			if errors.As(err, &op) && op.Addr != nil {
				return op.Addr.String(), true
			}
			return u.Host, true
		}
		return "", false
	}
	m := refusedText.FindStringSubmatch(err.Error())
	if m == nil {
		return "", false
	}
	u, perr := url.Parse(m[1])
	if perr != nil || !apiPath(u.Path) {
		return "", false
	}
	return m[2], true
}

// refusedText matches client-go's message when the chain was quoted:
// `Get "https://127.0.0.1:6443/api/v1/...": dial tcp 127.0.0.1:6443: connect: connection refused`.
var refusedText = regexp.MustCompile(`"(https?://[^"\s]+)": dial tcp ([^\s]+): connect: connection refused`)

func apiPath(p string) bool {
	return p == "/api" || p == "/apis" || p == "/version" ||
		strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/apis/")
}

func refused(addr string) string {
	s := fmt.Sprintf("Nothing accepted a connection at %s, the API server the kubeconfig names. Check the server "+
		"address in the kubeconfig and that the cluster is reachable from the runner.", addr)
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
		s += " bluegreen runs in its own container, where " + host + " is the container itself, not the runner: " +
			"a cluster started on the runner (kind, minikube, k3d) must be named by an address the container " +
			"reaches, such as the runner's own IP."
	}
	s += " A kubeconfig written by an earlier step reaches the container only through the `kubeconfig` input " +
		"(its content, or a path under the workspace): the runner's $KUBECONFIG and ~/.kube are not inside it."
	return s
}
