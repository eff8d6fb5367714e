package registry_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	memregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
)

func TestPromoteByDigestToAnotherRegistry(t *testing.T) {
	t.Parallel()
	src, dst := newRegistry(t), newRegistry(t)
	img := randomImage(t, 4096, 3)
	digest := push(t, src+"/shop:qa", img)
	wantBytes, wantBlobs := blobBytes(t, img)

	var log lines
	res, err := registry.Promote(t.Context(), registry.Request{
		Source: src + "/shop@" + digest.String(),
		Target: dst + "/prod/shop",
		Tags:   []string{"abc123", "1.4.0", "abc123"},
	}, noCredentials, registry.WithLog(log.add))
	if err != nil {
		t.Fatal(err)
	}

	want := registry.Result{
		Source:        src + "/shop@" + digest.String(),
		Digest:        digest.String(),
		Image:         dst + "/prod/shop@" + digest.String(),
		Tags:          []string{"abc123", "1.4.0"},
		MediaType:     "application/vnd.docker.distribution.manifest.v2+json",
		BytesUploaded: wantBytes,
		BlobsUploaded: wantBlobs,
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Promote result (-want +got):\n%s", diff)
	}
	for _, ref := range []string{res.Image, dst + "/prod/shop:abc123", dst + "/prod/shop:1.4.0"} {
		if got := headDigest(t, ref); got != digest {
			t.Errorf("%s has digest %s, want %s", ref, got, digest)
		}
	}
	copied, err := remote.Image(parseRef(t, res.Image))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(copied); err != nil {
		t.Errorf("copied image is not valid: %v", err)
	}
	if !strings.Contains(log.text(), digest.String()) {
		t.Errorf("log does not name the digest %s:\n%s", digest, log.text())
	}
}

func TestPromoteResolvesTagOnce(t *testing.T) {
	t.Parallel()
	first, moved := randomImage(t, 1024, 2), randomImage(t, 1024, 2)

	// The registry moves the tag to another image right after answering
	// the first read of it, as a concurrent push to QA would.
	var (
		tagReads atomic.Int32
		once     sync.Once
		host     string
	)
	mem := memregistry.New(memregistry.Logger(log.New(io.Discard, "", 0)))
	host = serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mem.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/manifests/qa") && r.Header.Get("X-Test-Setup") == "" {
			tagReads.Add(1)
			once.Do(func() {
				if err := remote.Write(parseRef(t, host+"/shop:qa"), moved, remote.WithTransport(setupTransport{})); err != nil {
					t.Errorf("moving the tag: %v", err)
				}
			})
		}
	}))
	want := push(t, host+"/shop:qa", first, remote.WithTransport(setupTransport{}))

	dst := newRegistry(t)
	res, err := registry.Promote(t.Context(), registry.Request{Source: host + "/shop:qa", Target: dst + "/shop", Tags: []string{"prod"}}, noCredentials)
	if err != nil {
		t.Fatal(err)
	}
	if got := tagReads.Load(); got != 1 {
		t.Errorf("the source tag was read %d times, want once", got)
	}
	if res.Digest != want.String() {
		t.Errorf("Promote copied %s, want %s (the digest the tag had when read)", res.Digest, want)
	}
	if got := headDigest(t, dst+"/shop:prod"); got != want {
		t.Errorf("target tag has %s, want %s", got, want)
	}
	if movedDigest, _ := moved.Digest(); headDigest(t, host+"/shop:qa") != movedDigest {
		t.Error("the source tag did not move: the test proves nothing")
	}
	if got, want := res.Source, host+"/shop@"+want.String(); got != want {
		t.Errorf("Result.Source = %q, want %q", got, want)
	}
}

// setupTransport marks the test's own requests, which the registry
// wrapper must not count.
type setupTransport struct{}

func (setupTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Test-Setup", "1")
	return remote.DefaultTransport.RoundTrip(r)
}

func TestPromoteMultiArchIndexWhole(t *testing.T) {
	t.Parallel()
	src, dst := newRegistry(t), newRegistry(t)
	idx := multiArch(t,
		v1.Platform{OS: "linux", Architecture: "amd64"},
		v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
	)
	digest := push(t, src+"/shop:1.4", idx)

	res, err := registry.Promote(t.Context(), registry.Request{Source: src + "/shop:1.4", Target: dst + "/shop", Tags: []string{"1.4"}}, noCredentials)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != digest.String() {
		t.Errorf("Digest = %s, want %s", res.Digest, digest)
	}
	if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}, res.Platforms); diff != "" {
		t.Errorf("Platforms (-want +got):\n%s", diff)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, child := range im.Manifests {
		if got := headDigest(t, dst+"/shop@"+child.Digest.String()); got != child.Digest {
			t.Errorf("child %s: target has %s", child.Digest, got)
		}
	}
	copied, err := remote.Index(parseRef(t, res.Image))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(copied); err != nil {
		t.Errorf("copied index is not valid (missing children or blobs?): %v", err)
	}
}

func TestPromoteTwiceUploadsNothingAgain(t *testing.T) {
	t.Parallel()
	src, dst := newRegistry(t), newRegistry(t)
	digest := push(t, src+"/shop:qa", randomImage(t, 8192, 3))
	req := registry.Request{Source: src + "/shop@" + digest.String(), Target: dst + "/shop", Tags: []string{"abc123"}}

	first, err := registry.Promote(t.Context(), req, noCredentials)
	if err != nil {
		t.Fatal(err)
	}
	if first.BytesUploaded == 0 {
		t.Fatal("first promotion uploaded nothing: the counter does not count")
	}
	// Same digest under a new tag too: still no blob is uploaded.
	for _, tags := range [][]string{{"abc123"}, {"abc123", "1.4.0"}} {
		req.Tags = tags
		again, err := registry.Promote(t.Context(), req, noCredentials)
		if err != nil {
			t.Fatal(err)
		}
		if again.BytesUploaded != 0 || again.BlobsUploaded != 0 {
			t.Errorf("tags %q: promotion to a target that has the image uploaded %d bytes in %d blobs, want 0",
				tags, again.BytesUploaded, again.BlobsUploaded)
		}
	}
	if got := headDigest(t, dst+"/shop:1.4.0"); got != digest {
		t.Errorf("new tag has %s, want %s", got, digest)
	}
}

// In one registry the target repository gets the blobs without an upload.
// The in-memory registry shares blobs between repositories, so the target
// finds them present; distribution keeps them per repository and mounts
// them, which the integration test proves against the real registry.
func TestPromoteWithinRegistryUploadsNoLayers(t *testing.T) {
	t.Parallel()
	host := newRegistry(t)
	digest := push(t, host+"/qa/shop:abc123", randomImage(t, 8192, 3))

	res, err := registry.Promote(t.Context(), registry.Request{Source: host + "/qa/shop@" + digest.String(), Target: host + "/prod/shop", Tags: []string{"abc123"}}, noCredentials)
	if err != nil {
		t.Fatal(err)
	}
	if res.BytesUploaded != 0 || res.BlobsUploaded != 0 {
		t.Errorf("copy within one registry uploaded %d bytes in %d blobs, want 0", res.BytesUploaded, res.BlobsUploaded)
	}
	if got := res.BlobsExisting + res.BlobsMounted; got != 4 {
		t.Errorf("%d blobs found or mounted, want 4 (3 layers and the config)", got)
	}
	if got := headDigest(t, host+"/prod/shop:abc123"); got != digest {
		t.Errorf("target has %s, want %s", got, digest)
	}
}

func TestPromoteRejectsBadRequestsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  registry.Request
		want string
	}{
		{name: "no source", req: registry.Request{Target: "127.0.0.1:1/shop"}, want: "no source image"},
		{name: "bad source", req: registry.Request{Source: "Shop:!", Target: "127.0.0.1:1/shop"}, want: `parsing image reference "Shop:!"`},
		{name: "missing archive", req: registry.Request{Source: "build/none.tar", Target: "127.0.0.1:1/shop"}, want: `reading docker save archive "build/none.tar"`},
		{name: "no target", req: registry.Request{Source: "127.0.0.1:1/qa@sha256:" + strings.Repeat("a", 64)}, want: "no target repository"},
		{name: "target with tag", req: registry.Request{Source: "127.0.0.1:1/qa:1", Target: "127.0.0.1:1/shop:1"}, want: `target "127.0.0.1:1/shop:1" must name a repository, without a tag or digest`},
		{name: "target without registry", req: registry.Request{Source: "127.0.0.1:1/qa:1", Target: "shop"}, want: `parsing target repository "shop"`},
		{name: "bad tag", req: registry.Request{Source: "127.0.0.1:1/qa:1", Target: "127.0.0.1:1/shop", Tags: []string{"ok", "-bad"}}, want: `invalid tag "-bad"`},
		{name: "long tag", req: registry.Request{Source: "127.0.0.1:1/qa:1", Target: "127.0.0.1:1/shop", Tags: []string{strings.Repeat("a", 129)}}, want: "invalid tag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := registry.Promote(t.Context(), tc.req, noCredentials, registry.WithTransport(noNetwork{t}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Promote error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPromoteOptionConflicts(t *testing.T) {
	t.Parallel()
	req := registry.Request{Source: "127.0.0.1:1/qa:1", Target: "127.0.0.1:1/shop"}
	cases := []struct {
		name string
		opts []registry.Option
		want string
	}{
		{name: "host twice", opts: []registry.Option{registry.WithAuth("r.example", authn.Anonymous), registry.WithAuth("r.example", authn.Anonymous)}, want: `registry "r.example" given twice`},
		{name: "no host", opts: []registry.Option{registry.WithAuth("", authn.Anonymous)}, want: "no registry host"},
		{name: "no jobs", opts: []registry.Option{registry.WithJobs(0)}, want: "0 jobs"},
		{name: "nil transport", opts: []registry.Option{registry.WithTransport(nil)}, want: "nil transport"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := registry.Promote(t.Context(), req, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Promote error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPromoteExplainsRefusals(t *testing.T) {
	t.Parallel()
	const user, password = "bluegreen", "s3cret-Pa55word"
	open := newRegistry(t)
	digest := push(t, open+"/shop:qa", randomImage(t, 512, 1))
	locked := serve(t, basicAuth(memregistry.New(memregistry.Logger(log.New(io.Discard, "", 0))), user, password))

	cases := []struct {
		name     string
		source   string
		target   string
		auth     authn.Authenticator
		wantIs   error
		want     string
		unwanted []string
	}{
		{
			name:   "wrong password for the target",
			source: open + "/shop@" + digest.String(), target: locked + "/shop",
			auth:     &authn.Basic{Username: user, Password: "wrong-" + password},
			wantIs:   registry.ErrUnauthorized,
			want:     `authentication failed for registry "` + locked + `": the registry rejected the credentials (HTTP 401)`,
			unwanted: []string{"wrong-" + password, "Authorization"},
		},
		{
			name:   "no credentials for the source",
			source: locked + "/shop:qa", target: open + "/prod",
			wantIs: registry.ErrUnauthorized,
			want:   `reading "` + locked + `/shop:qa": authentication failed for registry "` + locked + `": no credentials were found for it`,
		},
		{
			name:   "missing source",
			source: open + "/nothing:qa", target: open + "/prod",
			want: `reading "` + open + `/nothing:qa": not found in registry "` + open + `" (HTTP 404)`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var masked, log lines
			opts := []registry.Option{noCredentials, registry.WithMask(masked.add), registry.WithLog(log.add)}
			if tc.auth != nil {
				opts = append(opts, registry.WithAuth(locked, tc.auth))
			}
			_, err := registry.Promote(t.Context(), registry.Request{Source: tc.source, Target: tc.target, Tags: []string{"prod"}}, opts...)
			if err == nil {
				t.Fatal("Promote succeeded, want an error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q is not %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want one containing %q", err, tc.want)
			}
			for _, s := range tc.unwanted {
				if strings.Contains(err.Error(), s) || strings.Contains(log.text(), s) {
					t.Errorf("error or log holds %q:\nerror: %v\nlog: %s", s, err, log.text())
				}
			}
			if tc.auth != nil && !strings.Contains(masked.text(), "wrong-"+password) {
				t.Errorf("the password was not masked; masked: %q", masked.all)
			}
		})
	}
}

func TestPromoteReportsProgress(t *testing.T) {
	t.Parallel()
	src, dst := newRegistry(t), newRegistry(t)
	img := randomImage(t, 64<<10, 2)
	digest := push(t, src+"/shop:qa", img)
	var last registry.Progress
	calls := 0
	_, err := registry.Promote(t.Context(), registry.Request{Source: src + "/shop@" + digest.String(), Target: dst + "/shop"},
		noCredentials, registry.WithProgress(func(p registry.Progress) { calls++; last = p }))
	if err != nil {
		t.Fatal(err)
	}
	if size, _ := blobBytes(t, img); calls == 0 || last != (registry.Progress{Done: size, Total: size}) {
		t.Errorf("after %d progress calls, the last is %+v, want Done == Total == %d", calls, last, size)
	}
	if got := headDigest(t, dst+"/shop@"+digest.String()); got != digest {
		t.Errorf("target has %s, want %s (pushed by digest, no tags)", got, digest)
	}
}

func TestPromoteStopsWithContext(t *testing.T) {
	t.Parallel()
	src, dst := newRegistry(t), newRegistry(t)
	digest := push(t, src+"/shop:qa", randomImage(t, 512, 1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := registry.Promote(ctx, registry.Request{Source: src + "/shop@" + digest.String(), Target: dst + "/shop"}, noCredentials)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Promote with a cancelled context: %v, want context.Canceled", err)
	}
}
