package kubejob

import (
	"github.com/bluegreen-dev/bluegreen-action/internal/clock"

	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// FailedError is a migration Job that failed.
type FailedError struct {
	Job       string
	Reason    string // the Job's, such as BackoffLimitExceeded or DeadlineExceeded
	Message   string
	Pod       string
	Container string
	// ExitCode is nil when the container never ran to an end (it did not
	// start, or no pod was found).
	ExitCode *int32
	// State says how the container ended or why it did not start, as its
	// status says: Error, OOMKilled, ImagePullBackOff, ...
	State string
	// Tail holds the last lines of output; empty with LogsError set when
	// the logs could not be read.
	Tail      []string
	LogsError error
}

func (e *FailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "migration Job %q failed", e.Job)
	if e.Reason != "" {
		fmt.Fprintf(&b, " (%s: %s)", e.Reason, e.Message)
	}
	switch {
	case e.ExitCode != nil:
		fmt.Fprintf(&b, ": container %q of pod %q exited with code %d", e.Container, e.Pod, *e.ExitCode)
	case e.Pod != "":
		fmt.Fprintf(&b, ": container %q of pod %q did not run to an end", e.Container, e.Pod)
	}
	if e.State != "" {
		fmt.Fprintf(&b, " (%s)", e.State)
	}
	switch {
	case len(e.Tail) > 0:
		fmt.Fprintf(&b, "; last %d lines of output:", len(e.Tail))
		for _, l := range e.Tail {
			b.WriteString("\n  | " + l)
		}
	case e.LogsError != nil:
		fmt.Fprintf(&b, "; logs not available: %v", e.LogsError)
	}
	return b.String()
}

// condition returns the Job's condition of type t when it is true.
func condition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return &job.Status.Conditions[i]
		}
	}
	return nil
}

func finished(job *batchv1.Job) bool {
	return condition(job, batchv1.JobComplete) != nil || condition(job, batchv1.JobFailed) != nil
}

// wait watches the Job until it is Complete or Failed, reading it afresh
// whenever a watch ends.
func (m *Migrator) wait(ctx context.Context, name string) (*batchv1.Job, error) {
	jobs := m.cfg.Batch.Jobs(m.cfg.Namespace)
	for {
		job, err := jobs.Get(ctx, name, metav1.GetOptions{})
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("migration Job %q was deleted before it finished", name)
		case err != nil:
			return nil, fmt.Errorf("reading migration Job %q: %w", name, err)
		case finished(job):
			return job, nil
		}
		if job, err = m.watch(ctx, name, job.ResourceVersion); job != nil || err != nil {
			return job, err
		}
	}
}

// watch watches the Job from resourceVersion for at most the resync
// period. It returns the Job once finished, or nil to be read again.
func (m *Migrator) watch(ctx context.Context, name, resourceVersion string) (*batchv1.Job, error) {
	wctx, cancel := context.WithTimeout(ctx, m.resync)
	defer cancel()
	w, err := m.cfg.Batch.Jobs(m.cfg.Namespace).Watch(wctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
		ResourceVersion: resourceVersion,
	})
	if err != nil {
		// Read again after a pause; the Get says what is wrong, if anything.
		return nil, clock.Sleep(ctx, m.poll)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Deleted:
			return nil, fmt.Errorf("migration Job %q was deleted before it finished", name)
		case watch.Error:
			// Typically 410 Gone, the resource version being too old.
			return nil, nil
		case watch.Added, watch.Modified:
			if job, ok := ev.Object.(*batchv1.Job); ok && finished(job) {
				return job, nil
			}
		}
	}
	return nil, ctx.Err()
}

// remove deletes the Job, and with it its pod, after ctx ended, and
// returns ctx's cause. The call gets a context of its own: ctx is done.
func (m *Migrator) remove(ctx context.Context, name string, out *output) error {
	cause := context.Cause(ctx)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cleanup)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	err := m.cfg.Batch.Jobs(m.cfg.Namespace).Delete(dctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("migration Job %q: %w; deleting it: %w", name, cause, err)
	}
	why := "the deploy was cancelled"
	if errors.Is(cause, context.DeadlineExceeded) {
		why = "the migration ran out of time"
	}
	out.say(fmt.Sprintf("migration Job %s deleted: %s", name, why))
	return fmt.Errorf("migration Job %q deleted: %w", name, cause)
}

// failure explains a failed Job from its condition, its pod's container
// status and the output seen, or, when none was, the pod's last lines.
func (m *Migrator) failure(ctx context.Context, job *batchv1.Job, container string, out *output) error {
	e := &FailedError{Job: job.Name, Container: container, Tail: out.last()}
	if c := condition(job, batchv1.JobFailed); c != nil {
		e.Reason, e.Message = c.Reason, c.Message
	}
	e.LogsError = out.unavailable()
	pod, err := m.pod(ctx, job)
	if err != nil || pod == nil {
		if e.LogsError == nil && len(e.Tail) == 0 {
			e.LogsError = errors.Join(errors.New("no pod found"), err)
		}
		return e
	}
	e.Pod = pod.Name
	if cs := containerStatus(pod, container); cs != nil {
		switch s := cs.State; {
		case s.Terminated != nil:
			e.ExitCode, e.State = &s.Terminated.ExitCode, joinNonEmpty(": ", s.Terminated.Reason, strings.TrimSpace(s.Terminated.Message))
		case s.Waiting != nil:
			e.State = joinNonEmpty(": ", s.Waiting.Reason, s.Waiting.Message)
		}
	}
	if len(e.Tail) == 0 && e.LogsError == nil {
		e.Tail, e.LogsError = m.tailLogs(ctx, pod.Name, container)
	}
	return e
}

// pod returns the Job's newest pod, or nil.
func (m *Migrator) pod(ctx context.Context, job *batchv1.Job) (*corev1.Pod, error) {
	list, err := m.cfg.Core.Pods(m.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: batchv1.ControllerUidLabel + "=" + string(job.UID)})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of migration Job %q: %w", job.Name, err)
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	newest := slices.MaxFunc(list.Items, func(a, b corev1.Pod) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	return &newest, nil
}

func containerStatus(pod *corev1.Pod, container string) *corev1.ContainerStatus {
	for i, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	return nil
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}
