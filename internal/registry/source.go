package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SourceKind tells where a source image is read from.
type SourceKind string

// Source kinds.
const (
	// FromRegistry reads a reference such as "ghcr.io/acme/shop:1.4" or
	// "ghcr.io/acme/shop@sha256:...".
	FromRegistry SourceKind = "registry"
	// FromLayout reads an OCI image layout directory (one with index.json),
	// as written by `docker buildx build --output type=oci,tar=false`.
	FromLayout SourceKind = "oci-layout"
	// FromTarball reads a `docker save` archive, a file ending in .tar.
	FromTarball SourceKind = "docker-archive"
)

// Source is a parsed source image.
type Source struct {
	Kind SourceKind
	// Ref is set for FromRegistry.
	Ref name.Reference
	// Path is set for FromLayout and FromTarball.
	Path string
}

// String returns the source as the user wrote it, normalised.
func (s Source) String() string {
	if s.Kind == FromRegistry {
		return s.Ref.String()
	}
	return s.Path
}

// ParseSource tells what kind of source s is, without reading any image:
// an existing directory is an OCI layout and must hold index.json; a name
// ending in .tar is a `docker save` archive and must exist; anything else
// is a registry reference. A path-like value (starting with "/", "./" or
// "../") that does not exist is an error rather than a reference, so that
// a mistyped path is not pulled from Docker Hub.
func ParseSource(s string) (Source, error) {
	if s == "" {
		return Source{}, errors.New("no source image")
	}
	info, statErr := os.Stat(s)
	switch {
	case statErr == nil && info.IsDir():
		if _, err := os.Stat(filepath.Join(s, "index.json")); err != nil {
			return Source{}, fmt.Errorf("source directory %q is not an OCI image layout: it has no index.json", s)
		}
		return Source{Kind: FromLayout, Path: s}, nil
	case strings.HasSuffix(s, ".tar"):
		if statErr != nil {
			return Source{}, fmt.Errorf("reading docker save archive %q: %w", s, unwrapPathError(statErr))
		}
		if !info.Mode().IsRegular() {
			return Source{}, fmt.Errorf("docker save archive %q is not a regular file", s)
		}
		return Source{Kind: FromTarball, Path: s}, nil
	case looksLikePath(s):
		if statErr != nil {
			return Source{}, fmt.Errorf("reading source %q: %w", s, unwrapPathError(statErr))
		}
		return Source{}, fmt.Errorf("source %q is a file, but not a docker save archive (.tar) nor an OCI layout directory", s)
	}
	ref, err := name.ParseReference(s)
	if err != nil {
		return Source{}, fmt.Errorf("parsing image reference %q: %w", s, err)
	}
	return Source{Kind: FromRegistry, Ref: ref}, nil
}

func looksLikePath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		s == "." || s == ".."
}

// unwrapPathError drops the path from an *fs.PathError, which the caller
// names already.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// artifact is a source image read and pinned to one digest: what is pushed
// is exactly the manifest whose digest is reported.
type artifact struct {
	// manifest is a v1.Image or a v1.ImageIndex.
	manifest  remote.Taggable
	digest    v1.Hash
	mediaType types.MediaType
	// children are the manifests an index lists.
	children []v1.Descriptor
	// pinned names the source by digest (registry) or by path.
	pinned string
}

// load reads src. A registry source is resolved once: the manifest fetched
// here, by tag or by digest, is the one pushed, and every blob and child
// manifest is then read by digest, so a tag moved meanwhile changes nothing.
func load(ctx context.Context, src Source, ropts []remote.Option) (*artifact, error) {
	switch src.Kind {
	case FromLayout:
		return loadLayout(src.Path)
	case FromTarball:
		img, err := tarball.ImageFromPath(src.Path, nil)
		if err != nil {
			return nil, fmt.Errorf("reading docker save archive %q: %w", src.Path, err)
		}
		return fromImage(img, src.Path)
	case FromRegistry:
		return loadRemote(ctx, src.Ref, ropts)
	default:
		return nil, fmt.Errorf("unknown source kind %q", src.Kind)
	}
}

func loadRemote(ctx context.Context, ref name.Reference, ropts []remote.Option) (*artifact, error) {
	puller, err := remote.NewPuller(ropts...)
	if err != nil {
		return nil, err
	}
	desc, err := puller.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	a := &artifact{
		digest:    desc.Digest,
		mediaType: desc.MediaType,
		pinned:    ref.Context().Digest(desc.Digest.String()).String(),
	}
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		a.manifest = idx
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		a.children = im.Manifests
	case desc.MediaType.IsSchema1():
		return nil, fmt.Errorf("%s is a Docker schema 1 image, which registries no longer accept; rebuild it", a.pinned)
	default:
		// Image() also wraps the layers so that a push to the same
		// registry mounts them instead of uploading them.
		img, err := desc.Image()
		if err != nil {
			return nil, err
		}
		a.manifest = img
	}
	return a, nil
}

// loadLayout reads the one image or index that an OCI layout's index.json
// lists, as `docker buildx` writes it.
func loadLayout(dir string) (*artifact, error) {
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %q: %w", dir, err)
	}
	im, err := root.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %q: %w", dir, err)
	}
	if n := len(im.Manifests); n != 1 {
		return nil, fmt.Errorf("OCI layout %q lists %d manifests in index.json; it must list exactly one image or index", dir, n)
	}
	d := im.Manifests[0]
	switch {
	case d.MediaType.IsIndex():
		idx, err := root.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading index %s from OCI layout %q: %w", d.Digest, dir, err)
		}
		return fromIndex(idx, dir)
	case d.MediaType.IsImage():
		img, err := root.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading image %s from OCI layout %q: %w", d.Digest, dir, err)
		}
		return fromImage(img, dir)
	default:
		return nil, fmt.Errorf("OCI layout %q lists a %q, which is neither an image nor an index", dir, d.MediaType)
	}
}

func fromImage(img v1.Image, pinned string) (*artifact, error) {
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing the digest of %q: %w", pinned, err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	return &artifact{manifest: img, digest: digest, mediaType: mt, pinned: pinned}, nil
}

func fromIndex(idx v1.ImageIndex, pinned string) (*artifact, error) {
	digest, err := idx.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing the digest of %q: %w", pinned, err)
	}
	mt, err := idx.MediaType()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	return &artifact{manifest: idx, digest: digest, mediaType: mt, children: im.Manifests, pinned: pinned}, nil
}

// platforms lists the platforms of an index's children ("linux/amd64"),
// in order, or nil for a single image.
func (a *artifact) platforms() []string {
	var out []string
	for _, c := range a.children {
		if c.Platform != nil {
			out = append(out, c.Platform.String())
		}
	}
	return out
}
