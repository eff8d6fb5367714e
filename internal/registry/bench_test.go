package registry_test

import (
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/registry"
)

// BenchmarkPromote reports the blob bytes each promotion uploads
// (uploaded-B/op) next to its time: a first copy uploads the image, a
// repeated one nothing.
func BenchmarkPromote(b *testing.B) {
	src := newRegistry(b)
	img := randomImage(b, 1<<20, 4)
	digest := push(b, src+"/qa/shop:abc123", img)
	source := src + "/qa/shop@" + digest.String()

	b.Run("first copy", func(b *testing.B) {
		var uploaded int64
		for b.Loop() {
			b.StopTimer()
			dst := newRegistry(b)
			b.StartTimer()
			res, err := registry.Promote(b.Context(), registry.Request{Source: source, Target: dst + "/shop", Tags: []string{"abc123"}}, noCredentials)
			if err != nil {
				b.Fatal(err)
			}
			uploaded += res.BytesUploaded
		}
		b.ReportMetric(float64(uploaded)/float64(b.N), "uploaded-B/op")
	})

	b.Run("again", func(b *testing.B) {
		dst := newRegistry(b)
		req := registry.Request{Source: source, Target: dst + "/shop", Tags: []string{"abc123"}}
		if _, err := registry.Promote(b.Context(), req, noCredentials); err != nil {
			b.Fatal(err)
		}
		var uploaded int64
		for b.Loop() {
			res, err := registry.Promote(b.Context(), req, noCredentials)
			if err != nil {
				b.Fatal(err)
			}
			uploaded += res.BytesUploaded
		}
		b.ReportMetric(float64(uploaded)/float64(b.N), "uploaded-B/op")
	})
}
