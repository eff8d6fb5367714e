package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrUnauthorized is returned when a registry rejects the credentials used
// for it, or asks for credentials when none were found (HTTP 401).
var ErrUnauthorized = errors.New("authentication failed")

// ErrRepositoryNotFound is returned when the target repository does not
// exist and is not to be created.
var ErrRepositoryNotFound = errors.New("repository not found")

// secrets masks every credential once, before it is used, and remembers
// them so that no error built from a registry's answer can carry one.
type secrets struct {
	mask func(string)

	mu   sync.Mutex
	seen map[string]bool
}

func newSecrets(mask func(string)) *secrets {
	if mask == nil {
		mask = func(string) {}
	}
	return &secrets{mask: mask, seen: map[string]bool{}}
}

func (s *secrets) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v == "" || s.seen[v] {
			continue
		}
		s.seen[v] = true
		s.mask(v)
	}
}

// scrub replaces every known secret in msg.
func (s *secrets) scrub(msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range s.seen {
		msg = strings.ReplaceAll(msg, v, "***")
	}
	return msg
}

// scrubbedError keeps the chain of err for errors.Is and errors.As but
// prints its message without secrets.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func (s *secrets) scrubError(err error) error {
	if err == nil {
		return nil
	}
	if msg := s.scrub(err.Error()); msg != err.Error() {
		return &scrubbedError{msg: msg, err: err}
	}
	return err
}

// keychain gives each registry its authenticator: the one passed with
// WithAuth for that host, else the fallback keychain's (Docker's config by
// default). Every credential it hands out is masked before use.
type keychain struct {
	static   map[string]authn.Authenticator
	fallback authn.Keychain
	secrets  *secrets

	// anonymous records the hosts for which no credentials were found, to
	// say so when such a registry answers 401.
	anonymous sync.Map
}

var (
	_ authn.Keychain        = (*keychain)(nil)
	_ authn.ContextKeychain = (*keychain)(nil)
)

func (k *keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

func (k *keychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	host := r.RegistryStr()
	a, ok := k.static[host]
	if !ok {
		var err error
		if a, err = authn.Resolve(ctx, k.fallback, r); err != nil {
			return nil, fmt.Errorf("finding credentials for registry %q: %w", host, err)
		}
	}
	if a == nil || a == authn.Anonymous {
		k.anonymous.Store(host, true)
		return authn.Anonymous, nil
	}
	return &maskedAuth{inner: a, secrets: k.secrets}, nil
}

func (k *keychain) isAnonymous(host string) bool {
	_, ok := k.anonymous.Load(host)
	return ok
}

// maskedAuth masks the credentials of inner as they are first read, which
// is before they are sent anywhere.
type maskedAuth struct {
	inner   authn.Authenticator
	secrets *secrets
}

var _ authn.ContextAuthenticator = (*maskedAuth)(nil)

func (m *maskedAuth) Authorization() (*authn.AuthConfig, error) {
	return m.AuthorizationContext(context.Background())
}

func (m *maskedAuth) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	cfg, err := authn.Authorization(ctx, m.inner)
	if err != nil {
		return nil, err
	}
	m.secrets.add(cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken)
	return cfg, nil
}

// explain turns a registry's refusal into an error a user can act on, in
// place of the HTTP exchange that ggcr reports. what is "reading" or
// "pushing to", repo the repository being read or written.
func (k *keychain) explain(err error, what, host, repo string) error {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return fmt.Errorf("%s %q: %w", what, repo, err)
	}
	switch terr.StatusCode {
	case http.StatusUnauthorized:
		hint := "the registry rejected the credentials"
		if k.isAnonymous(host) {
			hint = "no credentials were found for it (log in with docker login, or set DOCKER_CONFIG)"
		}
		return fmt.Errorf("%s %q: %w for registry %q: %s (HTTP 401)", what, repo, ErrUnauthorized, host, hint)
	case http.StatusForbidden:
		return fmt.Errorf("%s %q: registry %q denied access (HTTP 403)%s", what, repo, host, diagnostics(terr))
	case http.StatusNotFound:
		if hasCode(terr, transport.NameUnknownErrorCode) && what == pushingTo {
			return fmt.Errorf("%s %q: %w in registry %q%s", what, repo, ErrRepositoryNotFound, host, diagnostics(terr))
		}
		if what == reading {
			return fmt.Errorf("%s %q: not found in registry %q (HTTP 404)%s", what, repo, host, diagnostics(terr))
		}
	}
	return fmt.Errorf("%s %q: %w", what, repo, err)
}

// What explain is told was being done.
const (
	reading   = "reading"
	pushingTo = "pushing to"
)

func hasCode(terr *transport.Error, code transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// diagnostics returns the registry's own messages, which say which
// permission or which name was refused, as ": msg; msg".
func diagnostics(terr *transport.Error) string {
	var msgs []string
	for _, d := range terr.Errors {
		if d.Message != "" {
			msgs = append(msgs, d.Message)
		}
	}
	if len(msgs) == 0 {
		return ""
	}
	return ": " + strings.Join(msgs, "; ")
}
