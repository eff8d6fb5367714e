package kube

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Manifest is what bluegreen takes from the user's manifest file: the
// Deployment each color is made from and, optionally, the Service that
// production, preview and per-color Services are made from.
type Manifest struct {
	Deployment *appsv1.Deployment
	Service    *corev1.Service
}

// ReadManifest reads a YAML file of one or more documents. It needs exactly
// one Deployment; other kinds than Deployment and Service are refused so
// that nothing in the file is silently ignored.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	return ParseManifest(data)
}

// ParseManifest parses the content of a manifest file.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("document %d is not valid YAML: %w", i, err)
		}
		if meta.Kind == "" && isComment(doc) {
			continue
		}
		switch {
		case meta.Kind == "Deployment" && meta.APIVersion == "apps/v1":
			if m.Deployment != nil {
				return nil, fmt.Errorf("document %d is a second Deployment; give one Deployment, bluegreen makes the two colors from it", i)
			}
			m.Deployment = &appsv1.Deployment{}
			if err := yaml.UnmarshalStrict(doc, m.Deployment); err != nil {
				return nil, fmt.Errorf("document %d (Deployment): %w", i, err)
			}
		case meta.Kind == "Service" && meta.APIVersion == "v1":
			if m.Service != nil {
				return nil, fmt.Errorf("document %d is a second Service; give at most one", i)
			}
			m.Service = &corev1.Service{}
			if err := yaml.UnmarshalStrict(doc, m.Service); err != nil {
				return nil, fmt.Errorf("document %d (Service): %w", i, err)
			}
		default:
			return nil, fmt.Errorf("document %d is a %s %s; the manifest holds one apps/v1 Deployment and optionally one v1 Service", i, meta.APIVersion, meta.Kind)
		}
	}
	if m.Deployment == nil {
		return nil, errors.New("it holds no apps/v1 Deployment")
	}
	if len(m.Deployment.Spec.Template.Spec.Containers) == 0 {
		return nil, errors.New("its Deployment has no containers")
	}
	return &m, nil
}

// isComment reports whether a document holds only comments. The reader
// leaves the "---" line that opens a document in it.
func isComment(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("---")) {
			continue
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}
