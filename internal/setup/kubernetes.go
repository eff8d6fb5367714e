package setup

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	awseks "github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	discoveryclient "k8s.io/client-go/kubernetes/typed/discovery/v1"
	networkingclient "k8s.io/client-go/kubernetes/typed/networking/v1"
	"k8s.io/client-go/rest"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
	"github.com/bluegreen-dev/bluegreen-action/internal/deploy"
	"github.com/bluegreen-dev/bluegreen-action/internal/history/configmap"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube/eks"
	"github.com/bluegreen-dev/bluegreen-action/internal/lock/lease"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate/kubejob"
	k8splatform "github.com/bluegreen-dev/bluegreen-action/internal/platform/kubernetes"
	"github.com/bluegreen-dev/bluegreen-action/internal/report"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/gateway"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/ingress"
	"github.com/bluegreen-dev/bluegreen-action/internal/router/service"
)

// kubernetesPlatform builds the Kubernetes platform and its router, lock
// and history, after checking with reads only that the inputs fit the
// cluster.
func kubernetesPlatform(ctx context.Context, e *buildEnv) error {
	cfg := e.cfg
	var rc *rest.Config
	var err error
	if cfg.AWS.EKSCluster != "" {
		rc, err = eksConfig(ctx, cfg, e.rep, e.counter)
	} else if rc, err = kube.RestConfig(cfg.Kubernetes.Kubeconfig, e.rep.Mask); err != nil {
		err = inputErr("kubeconfig", err)
	}
	if err != nil {
		return err
	}
	return kubernetesFrom(ctx, e, rc)
}

// eksConfig reaches an EKS cluster with the run's AWS credentials.
func eksConfig(ctx context.Context, cfg *config.Config, rep report.Reporter, counter *awsapi.Counter) (*rest.Config, error) {
	awsCfg, err := awsapi.LoadConfig(ctx, cfg.AWS.Region, awsapi.WithCounter(counter), awsTimeout(cfg))
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, config.Errorf("region", "is required with eks-cluster (or set AWS_REGION)")
	}
	tokens := eks.NewTokenSource(cfg.AWS.EKSCluster, sts.NewFromConfig(awsCfg), rep.Mask)
	rc, err := eks.RestConfig(ctx, awseks.NewFromConfig(awsCfg), tokens)
	if err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, config.Errorf("eks-cluster", "no EKS cluster %q in region %s", cfg.AWS.EKSCluster, awsCfg.Region)
		}
		return nil, err
	}
	return rc, nil
}

// Kubernetes fills deps for platform kubernetes from a client
// configuration, as a run does once it has one (tests build it without a
// kubeconfig file).
func Kubernetes(ctx context.Context, cfg *config.Config, base *rest.Config, deps *deploy.Deps) error {
	return kubernetesFrom(ctx, &buildEnv{cfg: cfg, deps: deps, counter: awsapi.NewCounter()}, base)
}

// kubernetesFrom builds the platform, lock, history and migrator from
// base, then the router, which shares the platform's clients.
func kubernetesFrom(ctx context.Context, e *buildEnv, base *rest.Config) error {
	cfg, deps := e.cfg, e.deps
	k := cfg.Kubernetes
	rc := rest.CopyConfig(base)
	kube.WithRequestTimeout(rc, cfg.RequestTimeout.D())
	core, err := coreclient.NewForConfig(rc)
	if err != nil {
		return inputErr("kubeconfig", err)
	}
	apps, err := appsclient.NewForConfig(rc)
	if err != nil {
		return inputErr("kubeconfig", err)
	}
	coord, err := coordinationclient.NewForConfig(rc)
	if err != nil {
		return inputErr("kubeconfig", err)
	}
	disc, err := discoveryclient.NewForConfig(rc)
	if err != nil {
		return inputErr("kubeconfig", err)
	}

	if err := checkNamespace(ctx, core, apps, k.Namespace, hostOnly(rc.Host), cfg.RequestTimeout.D()); err != nil {
		return err
	}

	var manifest *kube.Manifest
	if k.Manifest != "" {
		if manifest, err = kube.ReadManifest(k.Manifest); err != nil {
			return config.Errorf("manifest", "%q: %v", k.Manifest, err)
		}
	}
	if err := checkSource(ctx, cfg, apps, manifest); err != nil {
		return err
	}

	dry := bool(cfg.DryRun)
	deps.Platform = k8splatform.New(k8splatform.Config{
		Apps: apps, Core: core, Namespace: k.Namespace, App: cfg.App, Manifest: manifest, Container: cfg.Container,
	}, k8splatform.WithDryRun(dry))

	svcCfg := service.Config{Core: core, Namespace: k.Namespace, App: cfg.App, Discovery: disc}
	if manifest != nil {
		svcCfg.Template = manifest.Service
		svcCfg.Ports = k8splatform.ServicePorts(manifest, manifest.Deployment)
	}
	preview := svcCfg
	preview.Name = k.PreviewService
	preview.Discovery = nil
	deps.Preview = service.New(preview, service.WithDryRun(dry))

	var lockOpts []lease.Option
	if e.rep != nil {
		lockOpts = append(lockOpts, lease.WithWarning(e.rep.Warning))
	}
	deps.Locker, err = lease.New(lease.Config{Client: coord, Namespace: k.Namespace, Name: cfg.App + "-bluegreen-lock"}, lockOpts...)
	if err != nil {
		return err
	}
	deps.History = configmap.New(core, k.Namespace, cfg.App, configmap.WithDryRun(dry))
	if len(cfg.MigrateBefore) > 0 || len(cfg.MigrateAfter) > 0 {
		batch, err := batchclient.NewForConfig(rc)
		if err != nil {
			return inputErr("kubeconfig", err)
		}
		if deps.Migrator, err = kubejob.New(kubejob.Config{Batch: batch, Core: core, Apps: apps, Namespace: k.Namespace, App: cfg.App, Container: cfg.Container}); err != nil {
			return err
		}
	}
	e.kube, e.svc = rc, svcCfg
	return newRouter(ctx, e)
}

// serviceRouter builds router service: the production Service's selector
// picks the live color.
func serviceRouter(_ context.Context, e *buildEnv) error {
	prod := e.svc
	prod.Name = e.cfg.Kubernetes.Service
	e.deps.Router = service.New(prod, service.WithDryRun(bool(e.cfg.DryRun)))
	return nil
}

// gatewayRouter builds router gateway: the weights of an HTTPRoute's
// backends.
func gatewayRouter(ctx context.Context, e *buildEnv) error {
	cfg := e.cfg
	dyn, err := dynamic.NewForConfig(e.kube)
	if err != nil {
		return inputErr("kubeconfig", err)
	}
	r, err := gateway.New(gateway.Config{Client: dyn, Namespace: cfg.Kubernetes.Namespace, Route: cfg.Kubernetes.Route, App: cfg.App, ServicesClient: e.svc.Core},
		gateway.WithDryRun(bool(cfg.DryRun)), gateway.WithSessionPersistence(cfg.StickyDuration.D()))
	if err != nil {
		return config.Errorf("route", "%v", err)
	}
	if _, err := r.Read(ctx); err != nil {
		return readError(ctx, "route", err)
	}
	if err := checkSticky(ctx, cfg, r); err != nil {
		return err
	}
	e.deps.Router = r
	return nil
}

// ingressRouter builds router ingress: the backends of an Ingress name
// the live color's Service.
func ingressRouter(ctx context.Context, e *buildEnv) error {
	cfg := e.cfg
	netclient, err := networkingclient.NewForConfig(e.kube)
	if err != nil {
		return inputErr("kubeconfig", err)
	}
	r, err := ingress.New(ingress.Config{Client: netclient, Namespace: cfg.Kubernetes.Namespace, Name: cfg.Kubernetes.Ingress, App: cfg.App, Discovery: e.svc.Discovery}, ingress.WithDryRun(bool(cfg.DryRun)))
	if err != nil {
		return config.Errorf("ingress", "%v", err)
	}
	if _, err := r.Read(ctx); err != nil {
		return readError(ctx, "ingress", err)
	}
	e.deps.Router = r
	return nil
}

// checkNamespace is the first contact with the cluster: it reads the
// namespace, retrying passing faults. Only a definite answer is a bad
// input (exit 2): the namespace does not exist, the credentials are
// refused (401) or may not read in the namespace (403), the host does not
// exist or its certificate is not the kubeconfig's. Anything else, a
// server that does not answer, 5xx after retries, is a failed run (exit
// 1) that a CI may retry.
func checkNamespace(ctx context.Context, core coreclient.CoreV1Interface, apps appsclient.AppsV1Interface, ns, host string, timeout time.Duration) error {
	err := firstContact(ctx, hostPort(host), timeout, firstContactBackoff, func(ctx context.Context) error {
		_, err := core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return err
	})
	if apierrors.IsForbidden(err) {
		// A namespaced Role cannot grant reading the namespace object
		// itself: ask for what the run needs in it instead.
		err = firstContact(ctx, hostPort(host), timeout, firstContactBackoff, func(ctx context.Context) error {
			_, err := apps.Deployments(ns).List(ctx, metav1.ListOptions{Limit: 1})
			return err
		})
		if apierrors.IsForbidden(err) {
			return config.Errorf("kubeconfig", "the credentials may not read Deployments in namespace %q of the cluster at %s (403 Forbidden: %v); see docs/rbac-kubernetes.yaml for the Role a run needs", ns, host, err)
		}
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return contactError(ctx, host, "reading namespace "+fmt.Sprintf("%q", ns), err)
	case apierrors.IsNotFound(err):
		return config.Errorf("namespace", "namespace %q does not exist in the cluster at %s", ns, host)
	case apierrors.IsUnauthorized(err):
		return config.Errorf("kubeconfig", "the cluster at %s refused the credentials (401 Unauthorized): the token has expired or is wrong", host)
	case definite(err):
		return config.Errorf("kubeconfig", "cannot reach the cluster at %s: %v", host, err)
	}
	return contactError(ctx, host, fmt.Sprintf("reading namespace %q from the cluster", ns), err)
}

// checkSource makes sure a deploy has something to make the new color
// from: the manifest, or an existing Deployment of the application to copy.
// A first deploy without a manifest is an input error, found before any
// write.
func checkSource(ctx context.Context, cfg *config.Config, apps appsclient.AppsV1Interface, m *kube.Manifest) error {
	if !cfg.Deploys() {
		return nil
	}
	if m != nil {
		if cfg.Container != "" {
			found := false
			for _, c := range m.Deployment.Spec.Template.Spec.Containers {
				found = found || c.Name == cfg.Container
			}
			if !found {
				return config.Errorf("container", "the manifest's Deployment has no container %q", cfg.Container)
			}
		}
		return nil
	}
	list, err := apps.Deployments(cfg.Kubernetes.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.AppLabel + "=" + cfg.App})
	if err != nil {
		return fmt.Errorf("listing Deployments of %q: %w", cfg.App, err)
	}
	for _, d := range list.Items {
		if _, ok := d.Labels[kube.ColorLabel]; ok {
			return nil
		}
	}
	return config.Errorf("manifest", "is required for the first deploy of %q: namespace %q has no Deployment %s-blue or %s-green to copy", cfg.App, cfg.Kubernetes.Namespace, cfg.App, cfg.App)
}

// hostPort is the host:port of a server URL, as the HTTP transport names
// it in its errors.
func hostPort(server string) string {
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		return u.Host
	}
	return server
}

// hostOnly drops any user and password from a server URL before it is
// shown.
func hostOnly(server string) string {
	u, err := url.Parse(server)
	if err != nil || u.User == nil {
		return server
	}
	u.User = nil
	return u.String()
}

// checkSticky refuses sticky-duration, before any write, where the
// cluster's HTTPRoute cannot hold session persistence.
func checkSticky(ctx context.Context, cfg *config.Config, r *gateway.Router) error {
	if cfg.StickyDuration <= 0 {
		return nil
	}
	err := r.CheckSessionPersistence(ctx)
	if errors.Is(err, gateway.ErrNoSessionPersistence) {
		return config.Errorf("sticky-duration", "%v", err)
	}
	return err
}
