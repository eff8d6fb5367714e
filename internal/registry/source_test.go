package registry_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
)

func TestParseSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "oci")
	if _, err := layout.Write(layoutDir, empty.Index); err != nil {
		t.Fatal(err)
	}
	plainDir := filepath.Join(dir, "plain")
	archive := filepath.Join(dir, "image.tar")
	other := filepath.Join(dir, "notes.txt")
	for _, f := range []string{archive, other} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(plainDir, 0o700); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		in      string
		kind    registry.SourceKind
		str     string
		wantErr string
	}{
		{name: "tag", in: "ghcr.io/acme/shop:1.4", kind: registry.FromRegistry, str: "ghcr.io/acme/shop:1.4"},
		{name: "digest", in: "ghcr.io/acme/shop@sha256:" + strings.Repeat("a", 64), kind: registry.FromRegistry, str: "ghcr.io/acme/shop@sha256:" + strings.Repeat("a", 64)},
		{name: "docker hub", in: "nginx", kind: registry.FromRegistry, str: "nginx"},
		{name: "oci layout", in: layoutDir, kind: registry.FromLayout, str: layoutDir},
		{name: "archive", in: archive, kind: registry.FromTarball, str: archive},
		{name: "empty", in: "", wantErr: "no source image"},
		{name: "directory without index.json", in: plainDir, wantErr: "is not an OCI image layout: it has no index.json"},
		{name: "missing archive", in: filepath.Join(dir, "none.tar"), wantErr: "none.tar\": no such file or directory"},
		{name: "archive is a directory", in: mkdir(t, filepath.Join(dir, "dir.tar")), wantErr: "is not an OCI image layout"},
		{name: "missing path", in: "./build/image", wantErr: `reading source "./build/image": no such file or directory`},
		{name: "other file", in: other, wantErr: "not a docker save archive (.tar) nor an OCI layout directory"},
		{name: "bad reference", in: "ghcr.io/Acme/shop", wantErr: `parsing image reference "ghcr.io/Acme/shop"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := registry.ParseSource(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSource(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tc.kind || got.String() != tc.str {
				t.Errorf("ParseSource(%q) = %s %q, want %s %q", tc.in, got.Kind, got, tc.kind, tc.str)
			}
		})
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPromoteFromOCILayout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		write func(layout.Path) (v1.Hash, error)
	}{
		{name: "image", write: func(p layout.Path) (v1.Hash, error) {
			img := randomImage(t, 2048, 2)
			if err := p.AppendImage(img); err != nil {
				return v1.Hash{}, err
			}
			return img.Digest()
		}},
		{name: "multi-arch index", write: func(p layout.Path) (v1.Hash, error) {
			idx := multiArch(t, v1.Platform{OS: "linux", Architecture: "amd64"}, v1.Platform{OS: "linux", Architecture: "arm64"})
			if err := p.AppendIndex(idx); err != nil {
				return v1.Hash{}, err
			}
			return idx.Digest()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "oci")
			p, err := layout.Write(dir, empty.Index)
			if err != nil {
				t.Fatal(err)
			}
			digest, err := tc.write(p)
			if err != nil {
				t.Fatal(err)
			}
			dst := newRegistry(t)
			res, err := registry.Promote(t.Context(), registry.Request{Source: dir, Target: dst + "/shop", Tags: []string{"v1"}}, noCredentials)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{digest.String(), dir}, []string{res.Digest, res.Source}); diff != "" {
				t.Errorf("digest and source (-want +got):\n%s", diff)
			}
			if got := headDigest(t, dst+"/shop:v1"); got != digest {
				t.Errorf("target has %s, want %s", got, digest)
			}
		})
	}
}

func TestPromoteFromOCILayoutNeedsOneManifest(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "oci")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := p.AppendImage(randomImage(t, 256, 1)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = registry.Promote(t.Context(), registry.Request{Source: dir, Target: "127.0.0.1:1/shop"}, noCredentials, registry.WithTransport(noNetwork{t}))
	if want := "lists 2 manifests in index.json; it must list exactly one"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Promote error = %v, want one containing %q", err, want)
	}
}

func TestPromoteFromDockerSaveArchive(t *testing.T) {
	t.Parallel()
	img := randomImage(t, 2048, 2)
	archive := filepath.Join(t.TempDir(), "shop.tar")
	tag, err := name.NewTag("shop:build")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}

	dst := newRegistry(t)
	res, err := registry.Promote(t.Context(), registry.Request{Source: archive, Target: dst + "/shop", Tags: []string{"abc123"}}, noCredentials)
	if err != nil {
		t.Fatal(err)
	}
	if got := headDigest(t, dst+"/shop:abc123"); got.String() != res.Digest {
		t.Errorf("target has %s, Promote reported %s", got, res.Digest)
	}
	copied, err := remote.Image(parseRef(t, res.Image))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(copied); err != nil {
		t.Errorf("copied image is not valid: %v", err)
	}
	// The archive holds the image's layers: the copy has the same ones.
	if diff := cmp.Diff(layerDigests(t, img), layerDigests(t, copied)); diff != "" {
		t.Errorf("layers (-archive +copy):\n%s", diff)
	}
}

func layerDigests(t *testing.T, img v1.Image) []string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range layers {
		d, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.String())
	}
	return out
}
