package kubejob

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/kubetest"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
)

// noScheduler names a scheduler that does not exist: pods that ask for it
// stay Pending, unseen by kwok, for as long as a test needs.
const noScheduler = "bluegreen-test-no-scheduler"

type env struct {
	batch batchclient.BatchV1Interface
	core  coreclient.CoreV1Interface
	ns    string
	m     *Migrator
}

// newEnv makes a namespace holding Deployment shop-green, whose pods ask
// for scheduler (default when ""), and a Migrator for it.
func newEnv(t *testing.T, scheduler string) *env {
	t.Helper()
	cfg := kubetest.Config(t)
	ns := kubetest.Namespace(t, cfg)
	e := &env{ns: ns, batch: batchclient.NewForConfigOrDie(cfg), core: coreclient.NewForConfigOrDie(cfg)}
	apps := appsclient.NewForConfigOrDie(cfg)
	ctx := t.Context()
	if _, err := e.core.ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := apps.Deployments(ns).Create(ctx, deployment(scheduler), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{Batch: e.batch, Core: e.core, Apps: apps, Namespace: ns, App: "shop"},
		WithPoll(20*time.Millisecond), WithResync(2*time.Second), WithLogGrace(5*time.Second), WithCleanupTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return e
}

func deployment(scheduler string) *appsv1.Deployment {
	labels := map[string]string{kube.AppLabel: "shop", kube.ColorLabel: "green", "team": "payments"}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-green", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(0)),
			Selector: &metav1.LabelSelector{MatchLabels: kube.Selector("shop", color.Green)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: "shop",
					SchedulerName:      scheduler,
					Volumes:            []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "shop-tls"}}}},
					Containers: []corev1.Container{
						{
							Name: "web", Image: "registry.example.com/shop:v2", Command: []string{"bin/server"}, Args: []string{"--port=8080"},
							Env: []corev1.EnvVar{{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
								LocalObjectReference: corev1.LocalObjectReference{Name: "shop-db"}, Key: "url",
							}}}},
							EnvFrom:        []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "shop-config"}}}},
							VolumeMounts:   []corev1.VolumeMount{{Name: "tls", MountPath: "/tls"}},
							ReadinessProbe: probe, LivenessProbe: probe, StartupProbe: probe,
						},
						{Name: "metrics", Image: "registry.example.com/exporter:1"},
					},
				},
			},
		},
	}
}

// lines collects what Migrate logs; the log follower and the waiter both
// write.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) log(s string) { l.mu.Lock(); l.all = append(l.all, s); l.mu.Unlock() }

func (l *lines) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.all, func(s string) bool { return strings.Contains(s, sub) })
}

func (e *env) jobs(t *testing.T) []batchv1.Job {
	t.Helper()
	list, err := e.batch.Jobs(e.ns).List(context.WithoutCancel(t.Context()), metav1.ListOptions{LabelSelector: MigrationLabel})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func TestMigrateComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	var l lines
	if err := e.m.Migrate(ctx, color.Green, migrate.Before, []string{"bin/rails", "db:migrate"}, l.log); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	jobs := e.jobs(t)
	if len(jobs) != 1 {
		t.Fatalf("%d migration Jobs, want 1", len(jobs))
	}
	job := jobs[0]
	if condition(&job, batchv1.JobComplete) == nil {
		t.Errorf("Job conditions %+v, want Complete", job.Status.Conditions)
	}
	if !strings.HasPrefix(job.Name, "shop-migrate-before-") {
		t.Errorf("Job name %q, want shop-migrate-before-<suffix>", job.Name)
	}
	spec := job.Spec
	if got := *spec.BackoffLimit; got != 0 {
		t.Errorf("backoffLimit %d, want 0", got)
	}
	if got := *spec.TTLSecondsAfterFinished; got != 86400 {
		t.Errorf("ttlSecondsAfterFinished %d, want 86400", got)
	}
	if d := spec.ActiveDeadlineSeconds; d == nil || *d <= 0 || *d > 600 {
		t.Errorf("activeDeadlineSeconds %v, want 1-600 from ctx's deadline", d)
	}
	if got, want := job.Annotations[kube.ColorLabel], "green"; got != want {
		t.Errorf("color annotation %q, want %q", got, want)
	}
	pod := spec.Template
	if _, ok := pod.Labels[kube.ColorLabel]; ok {
		t.Errorf("pod template labels %v carry the color label", pod.Labels)
	}
	for k, want := range map[string]string{kube.AppLabel: "shop", MigrationLabel: "before", "team": "payments"} {
		if got := pod.Labels[k]; got != want {
			t.Errorf("pod template label %s=%q, want %q", k, got, want)
		}
	}
	want := deployment("").Spec.Template.Spec
	if got := pod.Spec.RestartPolicy; got != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never", got)
	}
	if pod.Spec.ServiceAccountName != "shop" || len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].Secret.SecretName != "shop-tls" {
		t.Errorf("service account %q, volumes %+v; want those of the Deployment", pod.Spec.ServiceAccountName, pod.Spec.Volumes)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want only the one that migrates", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	wantC := want.Containers[0]
	wantC.Command, wantC.Args = []string{"bin/rails", "db:migrate"}, nil
	wantC.ReadinessProbe, wantC.LivenessProbe, wantC.StartupProbe = nil, nil, nil
	got := corev1.Container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args, Env: c.Env, EnvFrom: c.EnvFrom,
		VolumeMounts: c.VolumeMounts, ReadinessProbe: c.ReadinessProbe, LivenessProbe: c.LivenessProbe, StartupProbe: c.StartupProbe}
	if diff := cmp.Diff(wantC, got); diff != "" {
		t.Errorf("container (-want +got):\n%s", diff)
	}
	for _, s := range []string{
		"migration Job " + job.Name + " started from Deployment shop-green",
		`containers ["metrics"] of the pod template do not run`,
		"not available", // kwok runs no kubelet to serve logs
		"migration Job " + job.Name + " complete",
	} {
		if !l.has(s) {
			t.Errorf("log lacks %q:\n%s", s, strings.Join(l.all, "\n"))
		}
	}
}

// kwok has no stage that fails a pod: the test plays the kubelet, writing
// the pod's status as a container exiting 3 would leave it. The job
// controller then fails the Job, as it would on a real node.
func failPod(ctx context.Context, t *testing.T, core coreclient.CoreV1Interface, ns string) {
	pods := core.Pods(ns)
	for ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: MigrationLabel})
		if err != nil || len(list.Items) == 0 {
			continue
		}
		p := list.Items[0]
		p.Status.Phase = corev1.PodFailed
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", Image: p.Spec.Containers[0].Image, State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error", Message: `relation "users" does not exist`},
		}}}
		if _, err := pods.UpdateStatus(ctx, &p, metav1.UpdateOptions{}); err == nil {
			return
		} else if !apierrors.IsConflict(err) {
			t.Errorf("failing pod %s: %v", p.Name, err)
			return
		}
	}
}

func TestMigrateFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noScheduler)
	var l lines
	go func() {
		// The pod fails only once the run has reported it pending: failed
		// at once, it may never be seen pending. Up to 10s, after which
		// it fails anyway and the check below says what was missing.
		for i := 0; i < 500 && !l.has("not scheduled") && t.Context().Err() == nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		failPod(t.Context(), t, e.core, e.ns)
	}()
	err := e.m.Migrate(t.Context(), color.Green, migrate.After, []string{"migrate", "up"}, l.log)
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("Migrate: %v, want a *FailedError", err)
	}
	if got, want := fe.Reason, "BackoffLimitExceeded"; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if fe.ExitCode == nil || *fe.ExitCode != 3 {
		t.Errorf("exit code %v, want 3", fe.ExitCode)
	}
	if got, want := fe.State, `Error: relation "users" does not exist`; got != want {
		t.Errorf("state %q, want %q", got, want)
	}
	if !strings.Contains(err.Error(), `container "web" of pod "`+fe.Pod+`" exited with code 3`) {
		t.Errorf("error %q does not name the pod and its exit code", err)
	}
	// A pod that was never bound to a node has an empty log (the API
	// server does not ask any kubelet): nothing to quote, nothing missing.
	if len(fe.Tail) != 0 || fe.LogsError != nil {
		t.Errorf("tail %q, logs error %v; want neither", fe.Tail, fe.LogsError)
	}
	if !l.has("not scheduled") {
		t.Errorf("the pending pod was not reported:\n%s", strings.Join(l.all, "\n"))
	}
}

func TestMigrateCancelledDeletesTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, noScheduler)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if list, err := e.batch.Jobs(e.ns).List(ctx, metav1.ListOptions{LabelSelector: MigrationLabel}); err == nil && len(list.Items) > 0 {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var l lines
	err := e.m.Migrate(ctx, color.Green, migrate.Before, []string{"migrate"}, l.log)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Migrate: %v, want context.Canceled", err)
	}
	for _, j := range e.jobs(t) {
		if j.DeletionTimestamp == nil {
			t.Errorf("Job %s still there after the cancellation", j.Name)
		}
	}
	if !l.has("deleted: the deploy was cancelled") {
		t.Errorf("deletion not logged:\n%s", strings.Join(l.all, "\n"))
	}
}

func TestMigrateRefusesBeforeCreating(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	cases := []struct {
		name      string
		container string
		c         color.Color
		command   []string
		want      string
	}{
		{name: "no Deployment", c: color.Blue, command: []string{"migrate"}, want: `reading Deployment "shop-blue" in namespace`},
		{name: "unknown container", container: "worker", c: color.Green, command: []string{"migrate"}, want: `finding container "worker" to run the migration in: valid containers are ["web" "metrics"]`},
		{name: "no command", c: color.Green, want: "no command"},
	}
	for _, tc := range cases {
		m := *e.m
		m.cfg.Container = tc.container
		err := m.Migrate(t.Context(), tc.c, migrate.Before, tc.command, func(string) {})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Migrate: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if n := len(e.jobs(t)); n != 0 {
		t.Errorf("%d Jobs created, want none", n)
	}
}
