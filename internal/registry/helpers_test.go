package registry_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	memregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
)

// noCredentials keeps tests away from the Docker config of the machine
// they run on.
var noCredentials = registry.WithKeychain(authn.NewMultiKeychain())

// serve runs h as a registry on loopback (plain HTTP, which ggcr uses for
// 127.0.0.1 by itself) and returns its host:port.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

// newRegistry starts go-containerregistry's in-memory registry.
func newRegistry(t testing.TB) string {
	t.Helper()
	return serve(t, memregistry.New(memregistry.Logger(log.New(io.Discard, "", 0))))
}

func parseRef(t testing.TB, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// randomImage returns an image of layers random layers of size bytes.
func randomImage(t testing.TB, size, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(size, layers)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// multiArch returns an OCI index of one random image per platform, each
// with its platform in its config, as `docker buildx` builds them.
func multiArch(t testing.TB, platforms ...v1.Platform) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img := randomImage(t, 1024, 2)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		p := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx
}

// push writes img (a v1.Image or v1.ImageIndex) to ref and returns its digest.
func push(t testing.TB, ref string, img remote.Taggable, opts ...remote.Option) v1.Hash {
	t.Helper()
	r := parseRef(t, ref)
	var (
		digest v1.Hash
		err    error
	)
	switch m := img.(type) {
	case v1.Image:
		if err = remote.Write(r, m, opts...); err == nil {
			digest, err = m.Digest()
		}
	case v1.ImageIndex:
		if err = remote.WriteIndex(r, m, opts...); err == nil {
			digest, err = m.Digest()
		}
	default:
		t.Fatalf("push: %T is neither an image nor an index", img)
	}
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return digest
}

// blobBytes is the size of every blob of img: its layers and its config,
// what a first copy must upload.
func blobBytes(t testing.TB, img v1.Image) (size int64, blobs int) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	size = m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return size, len(m.Layers) + 1
}

// headDigest returns the digest that ref has in its registry.
func headDigest(t testing.TB, ref string) v1.Hash {
	t.Helper()
	desc, err := remote.Head(parseRef(t, ref))
	if err != nil {
		t.Fatalf("HEAD %s: %v", ref, err)
	}
	return desc.Digest
}

// lines collects log lines from concurrent writers.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, s)
}

func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// noNetwork fails every request: for tests that must fail before any.
type noNetwork struct{ t testing.TB }

func (n noNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	n.t.Errorf("unexpected request %s %s", req.Method, req.URL)
	return nil, errors.New("no network in this test")
}

// basicAuth requires user:password on every request to next, answering
// 401 with a Basic challenge as distribution does with htpasswd.
func basicAuth(next http.Handler, user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}
