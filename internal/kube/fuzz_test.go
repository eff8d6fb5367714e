package kube_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
)

// manifestSeeds are the manifests of the repository's own tests and demo,
// beside the seeds in testdata/fuzz/FuzzParseManifest.
var manifestSeeds = []string{
	"../../testdata/demo/shop.yaml",
	"../deploy/testdata/shop.yaml",
	"../deploy/testdata/no-deployment.yaml",
	"../deploy/testdata/unschedulable.yaml",
}

// FuzzParseManifest: whatever a user's manifest file holds, ParseManifest
// returns either an error or a manifest with a Deployment that has a
// container for the image, and what it returns reads back the same.
func FuzzParseManifest(f *testing.F) {
	for _, path := range manifestSeeds {
		b, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := kube.ParseManifest(data)
		if err != nil {
			if m != nil {
				t.Errorf("ParseManifest returned a manifest with the error %q", err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Error("ParseManifest returned an error with no message")
			}
			return
		}
		if m == nil || m.Deployment == nil {
			t.Fatalf("ParseManifest returned no error and no Deployment: %+v", m)
		}
		if len(m.Deployment.Spec.Template.Spec.Containers) == 0 {
			t.Fatal("ParseManifest returned a Deployment with no containers")
		}

		// Empty and comment-only documents change nothing: files joined
		// with cat, or rendered by templates, are full of them.
		padded := append([]byte("---\n---\n# rendered from templates/shop.yaml\n---\n"), data...)
		if p, err := kube.ParseManifest(padded); err != nil {
			t.Errorf("with an empty and a comment-only document before it, the manifest does not parse: %v", err)
		} else if !equality.Semantic.DeepEqual(m, p) {
			t.Error("an empty and a comment-only document before the manifest change what it parses to")
		}

		// Written back as one file, the manifest parses to the same objects.
		doc, err := yaml.Marshal(m.Deployment)
		if err != nil {
			t.Fatalf("encoding the Deployment: %v", err)
		}
		if m.Service != nil {
			svc, err := yaml.Marshal(m.Service)
			if err != nil {
				t.Fatalf("encoding the Service: %v", err)
			}
			doc = append(append(doc, "---\n"...), svc...)
		}
		again, err := kube.ParseManifest(doc)
		if err != nil {
			t.Fatalf("the parsed manifest, written back, does not parse: %v\n%s", err, doc)
		}
		if !equality.Semantic.DeepEqual(m.Deployment, again.Deployment) {
			t.Errorf("the Deployment changed when written back and parsed again:\n%s", doc)
		}
		if !equality.Semantic.DeepEqual(m.Service, again.Service) {
			t.Errorf("the Service changed when written back and parsed again:\n%s", doc)
		}
	})
}
