package registry

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option tunes Promote.
type Option func(*options) error

type options struct {
	keychain  authn.Keychain
	auths     map[string]authn.Authenticator
	transport http.RoundTripper
	mask      func(string)
	progress  func(Progress)
	log       func(string)
	jobs      int
}

// defaultJobs is how many blobs are uploaded at once, as in ggcr.
const defaultJobs = 4

func makeOptions(opts []Option) (*options, error) {
	o := &options{
		keychain:  authn.DefaultKeychain,
		auths:     map[string]authn.Authenticator{},
		transport: remote.DefaultTransport,
		mask:      func(string) {},
		log:       func(string) {},
		jobs:      defaultJobs,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithKeychain resolves credentials for registries that WithAuth does not
// name. The default is authn.DefaultKeychain, the Docker config
// ($DOCKER_CONFIG or ~/.docker/config.json) and its credential helpers.
func WithKeychain(kc authn.Keychain) Option {
	return func(o *options) error {
		if kc == nil {
			return errors.New("WithKeychain: nil keychain")
		}
		o.keychain = kc
		return nil
	}
}

// WithAuth uses auth for the registry host ("123456789012.dkr.ecr.eu-west-1.amazonaws.com",
// "127.0.0.1:5000"), before any keychain. Naming one host twice is an error.
func WithAuth(host string, auth authn.Authenticator) Option {
	return func(o *options) error {
		switch {
		case host == "":
			return errors.New("WithAuth: no registry host")
		case auth == nil:
			return fmt.Errorf("WithAuth: nil authenticator for registry %q", host)
		}
		if _, dup := o.auths[host]; dup {
			return fmt.Errorf("WithAuth: registry %q given twice", host)
		}
		o.auths[host] = auth
		return nil
	}
}

// WithTransport sends every registry request through rt (default:
// remote.DefaultTransport). ggcr adds authentication and retries on top.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return errors.New("WithTransport: nil transport")
		}
		o.transport = rt
		return nil
	}
}

// WithMask is given every credential Promote reads, before it is used:
// pass the reporter's Mask.
func WithMask(mask func(string)) Option {
	return func(o *options) error {
		if mask == nil {
			return errors.New("WithMask: nil function")
		}
		o.mask = mask
		return nil
	}
}

// WithProgress is called as the copy moves on, never twice at once. It is
// called for every chunk sent: rate-limit in the callee.
func WithProgress(fn func(Progress)) Option {
	return func(o *options) error {
		o.progress = fn
		return nil
	}
}

// WithLog receives a line for each thing Promote does: the source's digest,
// what was pushed, what was not uploaded again.
func WithLog(fn func(string)) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("WithLog: nil function")
		}
		o.log = fn
		return nil
	}
}

// WithJobs sets how many blobs are copied at once (default 4).
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithJobs: %d jobs, want at least 1", n)
		}
		o.jobs = n
		return nil
	}
}
