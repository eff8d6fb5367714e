package registry

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// counter is the transport of pushes. It counts what really crossed the
// wire, so that a test or a benchmark can tell "not uploaded again" from
// "uploaded quickly":
//
//   - bytes: request bodies of blob uploads (PATCH, and PUT other than a
//     manifest), as read by the transport below, retries included;
//   - uploaded: blob uploads the registry committed (PUT ...?digest=, 201);
//   - mounted: blobs the registry linked from another repository instead
//     (POST .../blobs/uploads/?mount=, 201);
//   - existing: blobs the target repository already had (HEAD .../blobs/<digest>, 200).
type counter struct {
	next http.RoundTripper
	// progress, when set, hears of every byte sent and blob skipped.
	progress *tracker

	bytes    atomic.Int64
	uploaded atomic.Int64
	mounted  atomic.Int64
	existing atomic.Int64
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	path := req.URL.Path
	upload := req.Method == http.MethodPatch ||
		(req.Method == http.MethodPut && !strings.Contains(path, "/manifests/"))
	if upload && req.Body != nil && req.Body != http.NoBody {
		// A RoundTripper must not modify the caller's request.
		orig := req
		req = orig.Clone(orig.Context())
		req.Body = &countingBody{ReadCloser: orig.Body, c: c}
		if orig.GetBody != nil {
			req.GetBody = func() (io.ReadCloser, error) {
				b, err := orig.GetBody()
				if err != nil {
					return nil, err
				}
				return &countingBody{ReadCloser: b, c: c}, nil
			}
		}
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch {
	case req.Method == http.MethodHead && strings.Contains(path, "/blobs/") && resp.StatusCode == http.StatusOK:
		c.existing.Add(1)
		c.skip(path[strings.LastIndex(path, "/")+1:])
	case req.Method == http.MethodPost && strings.Contains(path, "/blobs/uploads/") &&
		req.URL.Query().Has("mount") && resp.StatusCode == http.StatusCreated:
		c.mounted.Add(1)
		c.skip(req.URL.Query().Get("mount"))
	case req.Method == http.MethodPut && req.URL.Query().Has("digest") && resp.StatusCode == http.StatusCreated:
		c.uploaded.Add(1)
	}
	return resp, nil
}

func (c *counter) skip(digest string) {
	if c.progress != nil {
		c.progress.skip(digest)
	}
}

type countingBody struct {
	io.ReadCloser
	c *counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.c.bytes.Add(int64(n))
		if b.c.progress != nil {
			b.c.progress.sent(int64(n))
		}
	}
	return n, err
}
