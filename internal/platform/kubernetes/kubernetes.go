package kubernetes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// Config holds what the platform needs.
type Config struct {
	Apps      appsclient.AppsV1Interface
	Core      coreclient.CoreV1Interface
	Namespace string
	App       string
	// Manifest, when set, is what each deploy makes the color from;
	// otherwise a deploy copies the other color's Deployment.
	Manifest *kube.Manifest
	// Container names the container that gets the image; empty means the
	// first one.
	Container string
}

// Platform implements platform.Platform on Kubernetes.
type Platform struct {
	cfg      Config
	dryRun   bool
	progress time.Duration
}

var _ platform.Platform = (*Platform)(nil)

// Option tunes a Platform.
type Option func(*Platform)

// WithDryRun makes every write a server-side dry run: the API server
// validates and admits it, nothing is stored.
func WithDryRun(on bool) Option { return func(p *Platform) { p.dryRun = on } }

// WithProgressEvery sets how often Wait reports progress; default 5 s.
func WithProgressEvery(d time.Duration) Option { return func(p *Platform) { p.progress = d } }

// DryRun reports whether writes are server-side dry runs.
func (p *Platform) DryRun() bool { return p.dryRun }

// New returns the platform for cfg.
func New(cfg Config, opts ...Option) *Platform {
	p := &Platform{cfg: cfg, progress: 5 * time.Second}
	for _, o := range opts {
		o(p)
	}
	return p
}

func (p *Platform) deployments() appsclient.DeploymentInterface {
	return p.cfg.Apps.Deployments(p.cfg.Namespace)
}

func (p *Platform) writeOpts() []string {
	if p.dryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// Describe implements platform.Platform.
func (p *Platform) Describe(ctx context.Context, c color.Color) (platform.ColorState, error) {
	name := kube.Name(p.cfg.App, c)
	d, err := p.deployments().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return platform.ColorState{Color: c}, nil
	}
	if err != nil {
		return platform.ColorState{}, fmt.Errorf("reading Deployment %q: %w", name, err)
	}
	st := stateOf(c, d)
	pods, err := p.cfg.Core.Pods(p.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.SelectorString(p.cfg.App, c)})
	if err != nil {
		return platform.ColorState{}, fmt.Errorf("listing pods of %q: %w", name, err)
	}
	for _, pod := range pods.Items {
		for _, cs := range pod.Status.ContainerStatuses {
			st.Restarts += cs.RestartCount
		}
	}
	return st, nil
}

// stateOf reads a Deployment's release and readiness.
func stateOf(c color.Color, d *appsv1.Deployment) platform.ColorState {
	a := d.Annotations
	st := platform.ColorState{
		Color:  c,
		Exists: true,
		Release: platform.Release{
			Image:  a[kube.ImageAnnotation],
			Digest: a[kube.DigestAnnotation],
			GitSHA: a[kube.GitSHAAnnotation],
			RunURL: a[kube.RunURLAnnotation],
		},
		Desired:   desired(d),
		Updated:   d.Status.UpdatedReplicas,
		Ready:     d.Status.ReadyReplicas,
		Available: d.Status.AvailableReplicas,
		Created:   d.CreationTimestamp.Time,
	}
	if t, err := time.Parse(time.RFC3339, a[kube.DeployedAtAnnotation]); err == nil {
		st.Release.DeployedAt = t
	}
	if st.Release.Image == "" && len(d.Spec.Template.Spec.Containers) > 0 {
		st.Release.Image = d.Spec.Template.Spec.Containers[0].Image
	}
	st.Healthy = complete(d) == ""
	st.Spec = templateHash(d)
	return st
}

// templateHash fingerprints the Deployment's pod template: a change of
// image, environment or anything else the pods run changes it, scaling
// does not. JSON of an API object is stable (fields in order, map keys
// sorted), and the API server defaults the template once, on write.
func templateHash(d *appsv1.Deployment) string {
	b, err := json.Marshal(d.Spec.Template)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "pod-template:" + hex.EncodeToString(sum[:8])
}

func desired(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// complete returns "" when the Deployment's rollout is complete: the
// controller has seen the latest spec, and every desired replica is
// updated, ready and available with no old replica left. Otherwise it
// says what is missing.
func complete(d *appsv1.Deployment) string {
	s, n := d.Status, desired(d)
	switch {
	case s.ObservedGeneration < d.Generation:
		return "the controller has not seen the latest spec yet"
	case n == 0:
		return "scaled to 0"
	case s.UpdatedReplicas < n:
		return fmt.Sprintf("%d of %d replicas updated", s.UpdatedReplicas, n)
	case s.Replicas > s.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas still terminating", s.Replicas-s.UpdatedReplicas)
	case s.ReadyReplicas < n:
		return fmt.Sprintf("%d/%d ready", s.ReadyReplicas, n)
	case s.AvailableReplicas < n:
		return fmt.Sprintf("%d/%d available", s.AvailableReplicas, n)
	}
	return ""
}

// Scale implements platform.Platform.
func (p *Platform) Scale(ctx context.Context, c color.Color, replicas int32) error {
	name := kube.Name(p.cfg.App, c)
	sc, err := p.deployments().GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading scale of Deployment %q: %w", name, err)
	}
	if sc.Spec.Replicas == replicas {
		return nil
	}
	sc.Spec.Replicas = replicas
	if _, err := p.deployments().UpdateScale(ctx, name, sc, metav1.UpdateOptions{DryRun: p.writeOpts()}); err != nil {
		return fmt.Errorf("scaling Deployment %q to %s: %w", name, strconv.Itoa(int(replicas)), err)
	}
	return nil
}

// ensureColorService creates the per-color Service <app>-<color> when it
// is missing, with the ports of the manifest's Service or, failing that,
// of the Deployment's containers.
func (p *Platform) ensureColorService(ctx context.Context, c color.Color, d *appsv1.Deployment) error {
	name := kube.Name(p.cfg.App, c)
	svcs := p.cfg.Core.Services(p.cfg.Namespace)
	if _, err := svcs.Get(ctx, name, metav1.GetOptions{}); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading Service %q: %w", name, err)
	}
	ports := ServicePorts(p.cfg.Manifest, d)
	if p.cfg.Manifest == nil || p.cfg.Manifest.Service == nil {
		// Both colors must expose the same ports: a router addresses
		// them alike. The other color's Service is the model.
		if other, err := svcs.Get(ctx, kube.Name(p.cfg.App, c.Other()), metav1.GetOptions{}); err == nil && len(other.Spec.Ports) > 0 {
			ports = nil
			for _, sp := range other.Spec.Ports {
				sp.NodePort = 0 // a NodePort belongs to one Service only
				ports = append(ports, sp)
			}
		}
	}
	if len(ports) == 0 {
		return nil // nothing to expose; routers that need it will say so
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.cfg.Namespace, Labels: map[string]string{
			kube.AppLabel: p.cfg.App, kube.ColorLabel: string(c), kube.ManagedByLabel: kube.ManagedBy,
		}},
		Spec: corev1.ServiceSpec{Selector: kube.Selector(p.cfg.App, c), Ports: ports},
	}
	if _, err := svcs.Create(ctx, svc, metav1.CreateOptions{DryRun: p.writeOpts()}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Service %q: %w", name, err)
	}
	return nil
}

// ServicePorts are the ports of the Services bluegreen creates: those of
// the manifest's Service when there is one, else one per named container
// port of the Deployment.
func ServicePorts(m *kube.Manifest, d *appsv1.Deployment) []corev1.ServicePort {
	if m != nil && m.Service != nil && len(m.Service.Spec.Ports) > 0 {
		ports := make([]corev1.ServicePort, len(m.Service.Spec.Ports))
		for i, sp := range m.Service.Spec.Ports {
			sp.NodePort = 0 // a NodePort belongs to one Service only
			ports[i] = sp
		}
		return ports
	}
	var ports []corev1.ServicePort
	if d == nil {
		return nil
	}
	for _, ctr := range d.Spec.Template.Spec.Containers {
		for _, cp := range ctr.Ports {
			ports = append(ports, corev1.ServicePort{Name: cp.Name, Port: cp.ContainerPort, Protocol: cp.Protocol, TargetPort: intstrFromPort(cp)})
		}
	}
	if len(ports) > 1 {
		for i := range ports {
			if ports[i].Name == "" {
				ports[i].Name = "port-" + strconv.Itoa(int(ports[i].Port))
			}
		}
	}
	return ports
}
