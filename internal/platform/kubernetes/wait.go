package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// Wait implements platform.Platform. It watches the color's Deployment
// (no polling: readiness is noticed as soon as the API server says so) and
// re-establishes the watch if it drops. It fails early when the Deployment
// reports ProgressDeadlineExceeded, and on deadline it says why the pods
// are not ready, with their recent warning events.
func (p *Platform) Wait(ctx context.Context, c color.Color, progress func(string)) error {
	name := kube.Name(p.cfg.App, c)
	start := time.Now()
	var mu sync.Mutex
	last := "no status yet"

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(p.progress)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				msg := last
				mu.Unlock()
				progress(fmt.Sprintf("waiting for %s: %s (%s elapsed)", name, msg, time.Since(start).Round(time.Second)))
			}
		}
	}()

	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return p.deployments().List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return p.deployments().Watch(ctx, o)
		},
	}
	var failed error
	_, err := watchtools.UntilWithSync(ctx, lw, &appsv1.Deployment{}, nil, func(ev watch.Event) (bool, error) {
		d, ok := ev.Object.(*appsv1.Deployment)
		if !ok {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			failed = fmt.Errorf("deployment %q was deleted while waiting", name)
			return false, failed
		}
		why := complete(d)
		mu.Lock()
		last = why
		mu.Unlock()
		if why == "" {
			return true, nil
		}
		if cond := progressing(d); cond != nil && cond.Reason == "ProgressDeadlineExceeded" {
			failed = fmt.Errorf("%w: deployment %q exceeded its progress deadline: %s", platform.ErrNotReady, name, cond.Message)
			return false, failed
		}
		return false, nil
	})
	if err == nil {
		return nil
	}
	// Diagnose with a fresh context: ctx may be the one that expired.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	why := p.diagnose(dctx, c)
	mu.Lock()
	seen := last
	mu.Unlock()
	switch {
	case failed != nil:
		return fmt.Errorf("%w%s", failed, why)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: deployment %q after %s: %s%s", platform.ErrNotReady, name, time.Since(start).Round(time.Millisecond), seen, why)
	case ctx.Err() != nil:
		return fmt.Errorf("waiting for deployment %q (%s): %w", name, seen, context.Cause(ctx))
	}
	return fmt.Errorf("watching deployment %q: %w", name, err)
}

func progressing(d *appsv1.Deployment) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == appsv1.DeploymentProgressing {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// diagnose says why the color's pods are not ready: scheduling failures,
// image pull and crash loops, failing probes, and the latest warning
// events of those pods. It returns "" when it finds nothing to add.
func (p *Platform) diagnose(ctx context.Context, c color.Color) string {
	pods, err := p.cfg.Core.Pods(p.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.SelectorString(p.cfg.App, c)})
	if err != nil {
		return fmt.Sprintf("\n  (listing pods to say why: %v)", err)
	}
	var b strings.Builder
	names := map[string]bool{}
	for _, pod := range pods.Items {
		names[pod.Name] = true
		if r := podReason(&pod); r != "" {
			fmt.Fprintf(&b, "\n  pod %s: %s", pod.Name, r)
		}
	}
	if len(pods.Items) == 0 {
		b.WriteString("\n  no pods exist (check the Deployment's events and quotas)")
	}
	events, err := p.cfg.Core.Events(p.cfg.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err == nil {
		var warn []corev1.Event
		for _, e := range events.Items {
			if names[e.InvolvedObject.Name] || strings.HasPrefix(e.InvolvedObject.Name, kube.Name(p.cfg.App, c)) {
				warn = append(warn, e)
			}
		}
		sort.Slice(warn, func(i, j int) bool { return eventTime(warn[i]).After(eventTime(warn[j])) })
		for i, e := range warn {
			if i == 5 {
				break
			}
			fmt.Fprintf(&b, "\n  event %s %s: %s", e.InvolvedObject.Name, e.Reason, strings.TrimSpace(e.Message))
		}
	}
	return b.String()
}

func eventTime(e corev1.Event) time.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp.Time
	}
	return e.EventTime.Time
}

// podReason says why a pod is not ready, or "" when it is.
func podReason(pod *corev1.Pod) string {
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse {
			return fmt.Sprintf("%s: %s", cond.Reason, cond.Message)
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "ContainerCreating":
			return fmt.Sprintf("container %s %s: %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			return fmt.Sprintf("container %s terminated (%s, exit %d)", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
		case !cs.Ready && cs.State.Running != nil:
			return fmt.Sprintf("container %s running but not ready (readiness probe failing?), %d restarts", cs.Name, cs.RestartCount)
		}
	}
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionFalse {
			return fmt.Sprintf("not ready: %s %s", cond.Reason, cond.Message)
		}
	}
	if pod.Status.Phase == corev1.PodPending {
		return "pending"
	}
	return ""
}
