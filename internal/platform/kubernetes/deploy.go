package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// ErrNoSource is returned by Deploy when there is neither a manifest nor
// an existing Deployment to make the color from.
var ErrNoSource = errors.New("no manifest given and no Deployment of the application exists to copy")

// Deploy implements platform.Platform: it creates or updates the color's
// Deployment so that it runs r, and creates the color's Service if missing.
func (p *Platform) Deploy(ctx context.Context, c color.Color, r platform.Release, replicas int32) error {
	name := kube.Name(p.cfg.App, c)
	var created *appsv1.Deployment
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := p.deployments().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			current = nil
		} else if err != nil {
			return fmt.Errorf("reading Deployment %q: %w", name, err)
		}
		want, err := p.desired(ctx, c, current, r, replicas)
		if err != nil {
			return err
		}
		if current == nil {
			created, err = p.deployments().Create(ctx, want, metav1.CreateOptions{DryRun: p.writeOpts()})
			if err != nil {
				return fmt.Errorf("creating Deployment %q: %w", name, err)
			}
			return nil
		}
		if !equalSelector(current.Spec.Selector, want.Spec.Selector) {
			return fmt.Errorf("deployment %q selects %v, not %v; a Deployment's selector cannot change: delete it and deploy again",
				name, metav1.FormatLabelSelector(current.Spec.Selector), metav1.FormatLabelSelector(want.Spec.Selector))
		}
		want.ResourceVersion = current.ResourceVersion
		created, err = p.deployments().Update(ctx, want, metav1.UpdateOptions{DryRun: p.writeOpts()})
		if err != nil {
			return fmt.Errorf("updating Deployment %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.ensureColorService(ctx, c, created)
}

// desired builds the Deployment of color c: from the manifest when given,
// else from the other color (the live one) or this color's current spec.
func (p *Platform) desired(ctx context.Context, c color.Color, current *appsv1.Deployment, r platform.Release, replicas int32) (*appsv1.Deployment, error) {
	var src *appsv1.Deployment
	switch {
	case p.cfg.Manifest != nil:
		src = p.cfg.Manifest.Deployment.DeepCopy()
	default:
		other, err := p.deployments().Get(ctx, kube.Name(p.cfg.App, c.Other()), metav1.GetOptions{})
		switch {
		case err == nil:
			src = other
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("reading Deployment %q: %w", kube.Name(p.cfg.App, c.Other()), err)
		case current != nil:
			src = current.DeepCopy()
		default:
			return nil, ErrNoSource
		}
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name:        kube.Name(p.cfg.App, c),
			Namespace:   p.cfg.Namespace,
			Labels:      merge(src.Labels, kube.Selector(p.cfg.App, c), map[string]string{kube.ManagedByLabel: kube.ManagedBy}),
			Annotations: merge(withoutOwn(src.Annotations), releaseAnnotations(r)),
		},
		Spec: *src.Spec.DeepCopy(),
	}
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: kube.Selector(p.cfg.App, c)}
	d.Spec.Template.Labels = merge(withoutColor(d.Spec.Template.Labels), kube.Selector(p.cfg.App, c))
	// The release annotations on the pod template make every deploy a new
	// rollout, even of the same image (a redeploy after a config change).
	d.Spec.Template.Annotations = merge(withoutOwn(d.Spec.Template.Annotations), releaseAnnotations(r))
	if replicas > 0 {
		d.Spec.Replicas = &replicas
	} else if current != nil && p.cfg.Manifest == nil {
		d.Spec.Replicas = current.Spec.Replicas
	}
	ctr, err := p.container(&d.Spec.Template.Spec)
	if err != nil {
		return nil, err
	}
	ctr.Image = r.Image
	if r.Digest != "" && !hasDigest(r.Image) {
		ctr.Image = r.Image + "@" + r.Digest
	}
	return d, nil
}

// container returns the container that gets the image.
func (p *Platform) container(spec *corev1.PodSpec) (*corev1.Container, error) {
	if p.cfg.Container == "" {
		return &spec.Containers[0], nil
	}
	var names []string
	for i := range spec.Containers {
		if spec.Containers[i].Name == p.cfg.Container {
			return &spec.Containers[i], nil
		}
		names = append(names, spec.Containers[i].Name)
	}
	return nil, fmt.Errorf("no container %q in the Deployment; its containers are %q", p.cfg.Container, names)
}

func releaseAnnotations(r platform.Release) map[string]string {
	a := map[string]string{kube.ImageAnnotation: r.Image}
	set := func(k, v string) {
		if v != "" {
			a[k] = v
		}
	}
	set(kube.DigestAnnotation, r.Digest)
	set(kube.GitSHAAnnotation, r.GitSHA)
	set(kube.RunURLAnnotation, r.RunURL)
	at := r.DeployedAt
	if at.IsZero() {
		at = time.Now()
	}
	a[kube.DeployedAtAnnotation] = at.UTC().Format(time.RFC3339)
	return a
}

// withoutOwn drops bluegreen's annotations, and the controller's revision
// note, copied from the source Deployment.
func withoutOwn(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		switch k {
		case kube.ImageAnnotation, kube.DigestAnnotation, kube.GitSHAAnnotation, kube.RunURLAnnotation,
			kube.DeployedAtAnnotation, "deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration":
			continue
		}
		out[k] = v
	}
	return out
}

func withoutColor(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != kube.ColorLabel {
			out[k] = v
		}
	}
	return out
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func equalSelector(a, b *metav1.LabelSelector) bool {
	return metav1.FormatLabelSelector(a) == metav1.FormatLabelSelector(b)
}

func hasDigest(image string) bool { return strings.Contains(image, "@") }

func intstrFromPort(cp corev1.ContainerPort) intstr.IntOrString {
	if cp.Name != "" {
		return intstr.FromString(cp.Name)
	}
	return intstr.FromInt32(cp.ContainerPort)
}
