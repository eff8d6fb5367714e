package registry

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// tagPattern is the OCI distribution spec's rule for tags.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// Request says what to promote and where.
type Request struct {
	// Source is a registry reference, an OCI layout directory or a
	// `docker save` archive (see ParseSource). A reference by tag is
	// resolved once; the digest found is what is copied and reported.
	Source string
	// Target is the repository, "host/name", without tag or digest.
	Target string
	// Tags are set on the copied digest in Target. With none, the image is
	// pushed by digest only.
	Tags []string
}

// Result is what Promote did.
type Result struct {
	// Source names what was copied: the source repository by digest
	// ("ghcr.io/acme/shop@sha256:..."), or the layout or archive path.
	Source string
	// Digest is the digest of the copied manifest, "sha256:...", the same
	// in source and target.
	Digest string
	// Image is the target by digest, "<host>/<name>@sha256:...".
	Image string
	// Tags are the tags set in the target.
	Tags []string
	// MediaType is the copied manifest's media type.
	MediaType string
	// Platforms lists the platforms of a multi-arch index, in its order;
	// nil for a single image.
	Platforms []string

	// BytesUploaded counts the blob bytes sent to the target registry.
	BytesUploaded int64
	// BlobsUploaded, BlobsMounted and BlobsExisting count the blobs that
	// were uploaded, mounted from another repository of the same registry,
	// and found already in the target repository.
	BlobsUploaded int
	BlobsMounted  int
	BlobsExisting int
}

// Promote copies the image or index of req.Source, whole and by digest, to
// req.Target under req.Tags, without a Docker daemon. Blobs the target
// already has are not uploaded; blobs in another repository of the target
// registry are mounted from there when the source is that repository.
// Every input is checked before the first request.
func Promote(ctx context.Context, req Request, opts ...Option) (Result, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return Result{}, err
	}
	src, err := ParseSource(req.Source)
	if err != nil {
		return Result{}, err
	}
	repo, err := parseRepository(req.Target)
	if err != nil {
		return Result{}, err
	}
	tags, err := parseTags(req.Tags)
	if err != nil {
		return Result{}, err
	}

	sec := newSecrets(o.mask)
	kc := &keychain{static: o.auths, fallback: o.keychain, secrets: sec}
	res, err := promote(ctx, o, kc, src, repo, tags)
	return res, sec.scrubError(err)
}

func promote(ctx context.Context, o *options, kc *keychain, src Source, repo name.Repository, tags []string) (Result, error) {
	pull := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(o.transport),
		remote.WithJobs(o.jobs),
	}
	a, err := load(ctx, src, pull)
	if err != nil {
		if src.Kind == FromRegistry {
			return Result{}, kc.explain(err, reading, src.Ref.Context().RegistryStr(), src.Ref.String())
		}
		return Result{}, err
	}
	if src.Kind == FromRegistry {
		if _, byTag := src.Ref.(name.Tag); byTag {
			o.log(fmt.Sprintf("resolved %s to %s", src.Ref, a.digest))
		}
	} else {
		o.log(fmt.Sprintf("read %s (%s): %s", src.Path, src.Kind, a.digest))
	}

	what := "image"
	if a.mediaType.IsIndex() {
		what = "index"
		if p := a.platforms(); len(p) > 0 {
			what += " (" + strings.Join(p, ", ") + ")"
		}
	}
	o.log(fmt.Sprintf("copying %s %s to %s", what, a.digest, repo))

	count := &counter{next: o.transport}
	push := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(count),
		remote.WithJobs(o.jobs),
	}
	if o.progress != nil {
		sizes, err := blobSizes(a)
		if err != nil {
			return Result{}, err
		}
		count.progress = newTracker(o.progress, sizes)
	}
	pusher, err := remote.NewPusher(push...)
	if err != nil {
		return Result{}, err
	}

	refs := []name.Reference{repo.Digest(a.digest.String())}
	if len(tags) > 0 {
		refs = refs[:0]
		for _, t := range tags {
			refs = append(refs, repo.Tag(t))
		}
	}
	// One pusher for every tag: blobs and manifests are written once, and
	// later tags are single manifest PUTs.
	for _, ref := range refs {
		if err := pusher.Push(ctx, ref, a.manifest); err != nil {
			return Result{}, kc.explain(err, pushingTo, repo.RegistryStr(), ref.String())
		}
	}

	res := Result{
		Source:        a.pinned,
		Digest:        a.digest.String(),
		Image:         repo.Digest(a.digest.String()).String(),
		Tags:          tags,
		MediaType:     string(a.mediaType),
		Platforms:     a.platforms(),
		BytesUploaded: count.bytes.Load(),
		BlobsUploaded: int(count.uploaded.Load()),
		BlobsMounted:  int(count.mounted.Load()),
		BlobsExisting: int(count.existing.Load()),
	}
	o.log(fmt.Sprintf("pushed %s%s: %d blobs uploaded (%s), %d mounted, %d already there",
		res.Image, tagList(tags), res.BlobsUploaded, formatBytes(res.BytesUploaded), res.BlobsMounted, res.BlobsExisting))
	return res, nil
}

// parseRepository checks that target names a repository with an explicit
// registry and no tag or digest.
func parseRepository(target string) (name.Repository, error) {
	if target == "" {
		return name.Repository{}, fmt.Errorf("no target repository")
	}
	last := target[strings.LastIndex(target, "/")+1:]
	if strings.ContainsAny(last, ":@") {
		return name.Repository{}, fmt.Errorf("target %q must name a repository, without a tag or digest", target)
	}
	repo, err := name.NewRepository(target, name.StrictValidation)
	if err != nil {
		return name.Repository{}, fmt.Errorf("parsing target repository %q: %w", target, err)
	}
	return repo, nil
}

// parseTags checks each tag and drops repeats, keeping the order.
func parseTags(tags []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		if !tagPattern.MatchString(t) {
			return nil, fmt.Errorf("invalid tag %q: use up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", t)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func tagList(tags []string) string {
	if len(tags) == 0 {
		return " (no tags)"
	}
	return " as " + strings.Join(tags, ", ")
}

// formatBytes renders n for a log line: 0 B, 512 B, 3.4 kB, 12.0 MB.
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
