package registry

import (
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Progress is how far a copy is, in blob bytes. Blobs that the target
// already had or mounted count as done; uploads count as they are sent.
type Progress struct {
	Done  int64
	Total int64
}

// tracker turns what the counter sees into Progress. go-containerregistry
// has its own progress updates, but they miss the last read of each blob
// streamed from a remote source, so they never reach their total.
type tracker struct {
	fn    func(Progress)
	sizes map[string]int64 // blob digest -> size
	total int64

	mu       sync.Mutex
	skipped  int64
	uploaded int64
}

func newTracker(fn func(Progress), sizes map[string]int64) *tracker {
	t := &tracker{fn: fn, sizes: sizes}
	for _, s := range sizes {
		t.total += s
	}
	return t
}

// skip counts a blob the target did not need uploaded.
func (t *tracker) skip(digest string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.skipped += t.sizes[digest]
	t.report()
}

// sent counts n bytes of an upload.
func (t *tracker) sent(n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.uploaded += n
	t.report()
}

// report calls fn with t.mu held, so that calls never overlap and Done
// never goes back. A retried upload sends its bytes again; Done stops at
// Total.
func (t *tracker) report() {
	done := min(t.skipped+t.uploaded, t.total)
	t.fn(Progress{Done: done, Total: t.total})
}

// blobSizes maps every blob of a (layers and configs, of every child of an
// index) to its size. Non-distributable layers, which are never pushed,
// are left out.
func blobSizes(a *artifact) (map[string]int64, error) {
	sizes := map[string]int64{}
	var walk func(m any) error
	walk = func(m any) error {
		switch m := m.(type) {
		case v1.Image:
			mf, err := m.Manifest()
			if err != nil {
				return err
			}
			sizes[mf.Config.Digest.String()] = mf.Config.Size
			for _, l := range mf.Layers {
				if l.MediaType.IsDistributable() {
					sizes[l.Digest.String()] = l.Size
				}
			}
		case v1.ImageIndex:
			im, err := m.IndexManifest()
			if err != nil {
				return err
			}
			for _, d := range im.Manifests {
				switch {
				case d.MediaType.IsImage():
					img, err := m.Image(d.Digest)
					if err != nil {
						return err
					}
					if err := walk(img); err != nil {
						return err
					}
				case d.MediaType.IsIndex():
					idx, err := m.ImageIndex(d.Digest)
					if err != nil {
						return err
					}
					if err := walk(idx); err != nil {
						return err
					}
				}
			}
		default:
			return fmt.Errorf("cannot size a %T", m)
		}
		return nil
	}
	if err := walk(a.manifest); err != nil {
		return nil, fmt.Errorf("listing the blobs of %s: %w", a.pinned, err)
	}
	return sizes, nil
}
