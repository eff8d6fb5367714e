package kubejob

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/kube"
	"github.com/bluegreen-dev/bluegreen-action/internal/migrate"
)

// MigrationLabel marks a migration's Job and pod with its phase (before,
// after).
const MigrationLabel = "bluegreen.dev/migration"

// Defaults of the options.
const (
	DefaultTTL            = 24 * time.Hour
	DefaultPoll           = time.Second
	DefaultResync         = 30 * time.Second
	DefaultLogGrace       = 10 * time.Second
	DefaultCleanupTimeout = 30 * time.Second
	DefaultTailLines      = 20
)

// Config holds what a Migrator needs.
type Config struct {
	Batch     batchclient.BatchV1Interface
	Core      coreclient.CoreV1Interface
	Apps      appsclient.AppsV1Interface
	Namespace string
	// App names the application: its colors are the Deployments
	// "<App>-blue" and "<App>-green".
	App string
	// Container names the container that runs the command; empty means
	// the first one, as for the image.
	Container string
}

// Migrator implements migrate.Migrator with a Kubernetes Job.
type Migrator struct {
	cfg      Config
	ttl      time.Duration
	poll     time.Duration
	resync   time.Duration
	logGrace time.Duration
	cleanup  time.Duration
	tail     int
}

var _ migrate.Migrator = (*Migrator)(nil)

// Option tunes a Migrator.
type Option func(*Migrator)

// WithTTL sets how long Kubernetes keeps a finished Job (and its pod and
// logs) before deleting it; default DefaultTTL. Negative keeps it until
// someone deletes it.
func WithTTL(d time.Duration) Option { return func(m *Migrator) { m.ttl = d } }

// WithPoll sets how often the Job's pod is looked for until its
// container runs, and how long to wait before watching again after a
// watch failed; default DefaultPoll.
func WithPoll(d time.Duration) Option { return func(m *Migrator) { m.poll = d } }

// WithResync sets how long one watch of the Job lasts before the Job is
// read afresh, in case a watch misses an event; default DefaultResync.
func WithResync(d time.Duration) Option { return func(m *Migrator) { m.resync = d } }

// WithLogGrace sets how long Migrate waits, once the Job finished, for
// the rest of its output; default DefaultLogGrace.
func WithLogGrace(d time.Duration) Option { return func(m *Migrator) { m.logGrace = d } }

// WithCleanupTimeout bounds the deletion of the Job after ctx ended;
// default DefaultCleanupTimeout.
func WithCleanupTimeout(d time.Duration) Option { return func(m *Migrator) { m.cleanup = d } }

// WithTailLines sets how many of the last lines of output a failure
// carries; default DefaultTailLines.
func WithTailLines(n int) Option { return func(m *Migrator) { m.tail = n } }

// New returns the Migrator for cfg.
func New(cfg Config, opts ...Option) (*Migrator, error) {
	switch {
	case cfg.Batch == nil || cfg.Core == nil || cfg.Apps == nil:
		return nil, errors.New("kubernetes migrations: the batch, core and apps clients are all needed")
	case cfg.Namespace == "":
		return nil, errors.New("kubernetes migrations: no namespace")
	case cfg.App == "":
		return nil, errors.New("kubernetes migrations: no app name")
	}
	m := &Migrator{cfg: cfg, ttl: DefaultTTL, poll: DefaultPoll, resync: DefaultResync,
		logGrace: DefaultLogGrace, cleanup: DefaultCleanupTimeout, tail: DefaultTailLines}
	for _, o := range opts {
		o(m)
	}
	if m.poll <= 0 || m.resync <= 0 || m.cleanup <= 0 || m.logGrace < 0 || m.tail < 0 {
		return nil, fmt.Errorf("kubernetes migrations: poll %s, resync %s and cleanup timeout %s must be positive, log grace %s and tail lines %d not negative",
			m.poll, m.resync, m.cleanup, m.logGrace, m.tail)
	}
	return m, nil
}

// Migrate implements migrate.Migrator: it runs command in a Job made from
// color c's pod template and waits until the Job is Complete or Failed.
func (m *Migrator) Migrate(ctx context.Context, c color.Color, phase migrate.Phase, command []string, log func(string)) error {
	if len(command) == 0 {
		return errors.New("running the migration: no command")
	}
	name := kube.Name(m.cfg.App, c)
	d, err := m.cfg.Apps.Deployments(m.cfg.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("reading Deployment %q in namespace %q: not found; the migration runs with the pod template of the color being deployed", name, m.cfg.Namespace)
	}
	if err != nil {
		return fmt.Errorf("reading Deployment %q: %w", name, err)
	}
	spec, err := m.job(ctx, d, c, phase, command)
	if err != nil {
		return err
	}
	job, err := m.cfg.Batch.Jobs(m.cfg.Namespace).Create(ctx, spec.job, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the migration Job from Deployment %q: %w", name, err)
	}
	out := newOutput(log, m.tail)
	out.say(fmt.Sprintf("migration Job %s started from Deployment %s: %q with image %s", job.Name, name, strings.Join(command, " "), spec.image))
	if len(spec.dropped) > 0 {
		out.say(fmt.Sprintf("containers %q of the pod template do not run with the migration; a sidecar it needs must be a native sidecar (an init container with restartPolicy Always)", spec.dropped))
	}
	return m.run(ctx, job, spec.container, out)
}

// run follows the Job's output while it waits for the Job to finish.
func (m *Migrator) run(ctx context.Context, job *batchv1.Job, container string, out *output) error {
	logsCtx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		m.follow(logsCtx, job, container, out)
	}()
	final, err := m.wait(ctx, job.Name)
	if err == nil {
		// The Job finished: give the rest of its output a moment.
		t := time.NewTimer(m.logGrace)
		select {
		case <-followed:
		case <-t.C:
		}
		t.Stop()
	}
	stopLogs()
	<-followed
	switch {
	case ctx.Err() != nil:
		return m.remove(ctx, job.Name, out)
	case err != nil:
		return err
	case condition(final, batchv1.JobFailed) != nil:
		return m.failure(ctx, final, container, out)
	}
	out.say(fmt.Sprintf("migration Job %s complete", job.Name))
	return nil
}

// spec is a migration Job and what Migrate says about it.
type spec struct {
	job              *batchv1.Job
	container, image string
	dropped          []string // containers of the template left out
}

// job makes the migration Job from the Deployment's pod template.
func (m *Migrator) job(ctx context.Context, d *appsv1.Deployment, c color.Color, phase migrate.Phase, command []string) (spec, error) {
	tpl := d.Spec.Template.DeepCopy()
	i, err := pickContainer(tpl.Spec.Containers, m.cfg.Container)
	if err != nil {
		return spec{}, fmt.Errorf("reading the pod template of Deployment %q: %w", d.Name, err)
	}
	run := tpl.Spec.Containers[i]
	run.Command, run.Args = slices.Clone(command), nil
	run.LivenessProbe, run.ReadinessProbe, run.StartupProbe = nil, nil, nil
	var dropped []string
	for j, ct := range tpl.Spec.Containers {
		if j != i {
			dropped = append(dropped, ct.Name)
		}
	}
	tpl.Spec.Containers = []corev1.Container{run}
	tpl.Spec.RestartPolicy = corev1.RestartPolicyNever

	labels := maps.Clone(tpl.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	// Without the color label no selector of the color's Service (or of
	// its Deployment) matches the migration's pod.
	delete(labels, kube.ColorLabel)
	labels[kube.AppLabel] = m.cfg.App
	labels[MigrationLabel] = string(phase)
	tpl.Labels = labels

	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: fmt.Sprintf("%s-migrate-%s-", m.cfg.App, phase),
			Namespace:    m.cfg.Namespace,
			Labels:       map[string]string{kube.AppLabel: m.cfg.App, MigrationLabel: string(phase), kube.ManagedByLabel: kube.ManagedBy},
			// The color is an annotation, not a label: nothing should
			// select the migration as part of the color.
			Annotations: map[string]string{kube.ColorLabel: string(c), kube.ImageAnnotation: run.Image},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr(int32(0)),
			Template:     *tpl,
		},
	}
	if m.ttl >= 0 {
		job.Spec.TTLSecondsAfterFinished = ptr(int32(min(m.ttl.Seconds(), math.MaxInt32)))
	}
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return spec{}, fmt.Errorf("running the migration: %w", context.DeadlineExceeded)
		}
		job.Spec.ActiveDeadlineSeconds = ptr(int64(math.Ceil(left.Seconds())))
	}
	return spec{job: job, container: run.Name, image: run.Image, dropped: dropped}, nil
}

// pickContainer returns the index of the named container, or 0.
func pickContainer(cs []corev1.Container, name string) (int, error) {
	if len(cs) == 0 {
		return -1, errors.New("finding the container to run the migration in: the pod template has no containers")
	}
	if name == "" {
		return 0, nil
	}
	var names []string
	for i, c := range cs {
		if c.Name == name {
			return i, nil
		}
		names = append(names, c.Name)
	}
	return -1, fmt.Errorf("finding container %q to run the migration in: valid containers are %q", name, names)
}

func ptr[T any](v T) *T { return &v }
