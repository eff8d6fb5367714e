package kubernetes_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/klog/v2"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform/kubernetes"
)

// BenchmarkReadinessDetection measures how long after the API server
// reports a color's rollout complete Wait returns. An independent watch
// of the same Deployment stamps the moment the API server says so; the
// figure is Wait's return minus that stamp (ms-median).
func BenchmarkReadinessDetection(b *testing.B) {
	klog.SetLogger(logr.Discard()) // keep the benchmark's result line whole
	rc := kubetest.Config(b)
	ns := kubetest.Namespace(b, rc)
	apps, err := appsclient.NewForConfig(rc)
	if err != nil {
		b.Fatal(err)
	}
	core, err := coreclient.NewForConfig(rc)
	if err != nil {
		b.Fatal(err)
	}
	m, err := kube.ReadManifest("../../../testdata/demo/shop.yaml")
	if err != nil {
		b.Fatal(err)
	}
	p := kubernetes.New(kubernetes.Config{Apps: apps, Core: core, Namespace: ns, App: "shop", Manifest: m})
	var lags []time.Duration
	b.ResetTimer()
	for i := range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		seen := watchComplete(ctx, b, apps, ns, "shop-blue")
		if err := p.Deploy(ctx, color.Blue, platform.Release{Image: fmt.Sprintf("registry.example.com/shop:%d", i)}, 2); err != nil {
			b.Fatal(err)
		}
		if err := p.Wait(ctx, color.Blue, func(string) {}); err != nil {
			b.Fatal(err)
		}
		returned := time.Now()
		lags = append(lags, returned.Sub(<-seen))
		cancel()
	}
	b.StopTimer()
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "ms-max")
}

// watchComplete stamps the first moment a watch sees the Deployment's new
// rollout complete (observedGeneration caught up and every replica ready).
func watchComplete(ctx context.Context, b *testing.B, apps appsclient.AppsV1Interface, ns, name string) <-chan time.Time {
	b.Helper()
	list, err := apps.Deployments(ns).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		b.Fatal(err)
	}
	w, err := apps.Deployments(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: list.ResourceVersion})
	if err != nil {
		b.Fatal(err)
	}
	out := make(chan time.Time, 1)
	go func() {
		defer w.Stop()
		changed := false
		for ev := range w.ResultChan() {
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			if ev.Type == watch.Added || d.Generation > d.Status.ObservedGeneration || d.Status.UpdatedReplicas < *d.Spec.Replicas {
				changed = true
			}
			s := d.Status
			if changed && s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == *d.Spec.Replicas &&
				s.ReadyReplicas == *d.Spec.Replicas && s.AvailableReplicas == *d.Spec.Replicas && s.Replicas == s.UpdatedReplicas {
				out <- time.Now()
				return
			}
		}
	}()
	return out
}
