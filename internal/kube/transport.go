package kube

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/httptimeout"
)

// MaskAuthorization makes every request of cfg hand the credential it
// carries to mask before it leaves: the token an exec plugin or an auth
// provider made, or the base64 of a user and password, are only known
// once client-go has put them in the Authorization header, and an API
// server (or what stands in its place) may quote that header back in an
// error. Each distinct value is masked once.
func MaskAuthorization(cfg *rest.Config, mask func(string)) {
	var mu sync.Mutex
	seen := map[string]bool{}
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if h := req.Header.Get("Authorization"); h != "" {
				mu.Lock()
				if !seen[h] {
					seen[h] = true
					for _, s := range authorizationSecrets(h) {
						mask(s)
					}
				}
				mu.Unlock()
			}
			return next.RoundTrip(req)
		})
	})
}

// authorizationSecrets returns the credential of an Authorization header
// value in the forms it may be quoted in.
func authorizationSecrets(h string) []string {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return []string{h}
	}
	cred = strings.TrimSpace(cred)
	out := []string{cred}
	if strings.EqualFold(scheme, "Basic") {
		if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
			out = append(out, string(b))
			if _, password, ok := strings.Cut(string(b), ":"); ok {
				out = append(out, password)
			}
		}
	}
	return out
}

// WithRequestTimeout bounds every request of cfg to d: an API server that
// accepts the connection and never answers ends the call, not the run's
// patience. A watch (or a log that follows) lives as long as its caller
// wants, so only its answer's headers are bounded. rest.Config.Timeout is
// not used because it bounds watches whole.
func WithRequestTimeout(cfg *rest.Config, d time.Duration) {
	if d <= 0 {
		return
	}
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return httptimeout.Transport(next, d, func(req *http.Request) httptimeout.Mode {
			q := req.URL.Query()
			if q.Get("watch") == "true" || q.Get("watch") == "1" || q.Get("follow") == "true" {
				return httptimeout.Headers
			}
			return httptimeout.Whole
		})
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
