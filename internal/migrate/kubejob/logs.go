package kubejob

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen-dev/bluegreen-action/internal/clock"
)

// maxLine bounds one line of output; a longer one ends the stream.
const maxLine = 1 << 20

// output hands lines to the log function one at a time (the log follower
// and the waiter both write) and keeps the last lines of the command's
// output for a failure to quote.
type output struct {
	mu     sync.Mutex
	log    func(string)
	max    int
	tail   []string
	logErr error // why the command's output could not be read
}

func newOutput(log func(string), max int) *output { return &output{log: log, max: max} }

// say logs a line of Migrate's own.
func (o *output) say(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log(s)
}

// line logs a line of the command's output and keeps it.
func (o *output) line(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log(s)
	if o.max == 0 {
		return
	}
	if len(o.tail) == o.max {
		o.tail = append(o.tail[:0], o.tail[1:]...)
	}
	o.tail = append(o.tail, s)
}

// noLogs records, and says, why the output cannot be read.
func (o *output) noLogs(pod string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.logErr = err
	o.log(fmt.Sprintf("logs of migration pod %s not available: %v", pod, err))
}

func (o *output) last() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.tail...)
}

func (o *output) unavailable() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.logErr
}

// follow waits for the Job's pod to run its container, saying why it
// does not yet, then streams the container's log into out until the
// container ends or ctx is done.
func (m *Migrator) follow(ctx context.Context, job *batchv1.Job, container string, out *output) {
	pods := m.cfg.Core.Pods(m.cfg.Namespace)
	sel := metav1.ListOptions{LabelSelector: batchv1.ControllerUidLabel + "=" + string(job.UID)}
	var said string
	for {
		list, err := pods.List(ctx, sel)
		if err == nil {
			for i := range list.Items {
				p := &list.Items[i]
				if started(p, container) {
					m.stream(ctx, p.Name, container, out)
					return
				}
				if why := pending(p, container); why != "" && why != said {
					out.say(fmt.Sprintf("migration pod %s: %s", p.Name, why))
					said = why
				}
			}
		}
		if clock.Sleep(ctx, m.poll) != nil {
			return
		}
	}
}

// started reports whether the container runs or ran: its log exists.
func started(p *corev1.Pod, container string) bool {
	cs := containerStatus(p, container)
	return cs != nil && (cs.State.Running != nil || cs.State.Terminated != nil)
}

// pending says why the pod's container does not run yet, or "".
func pending(p *corev1.Pod, container string) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return joinNonEmpty(": ", "not scheduled", c.Reason, c.Message)
		}
	}
	if p.Spec.NodeName == "" && p.Status.Phase == corev1.PodPending {
		return "not scheduled yet"
	}
	if cs := containerStatus(p, container); cs != nil && cs.State.Waiting != nil {
		return joinNonEmpty(": ", "waiting", cs.State.Waiting.Reason, cs.State.Waiting.Message)
	}
	return ""
}

// stream copies the container's log into out, line by line, as it
// comes.
func (m *Migrator) stream(ctx context.Context, pod, container string, out *output) {
	rc, err := m.cfg.Core.Pods(m.cfg.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: true}).Stream(ctx)
	if err != nil {
		if ctx.Err() == nil {
			out.noLogs(pod, err)
		}
		return
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	for sc.Scan() {
		out.line(sc.Text())
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		out.say(fmt.Sprintf("reading the logs of migration pod %s: %v", pod, err))
	}
}

// tailLogs reads the last lines of the container's log at once, for a
// failure whose output was not seen while it ran.
func (m *Migrator) tailLogs(ctx context.Context, pod, container string) ([]string, error) {
	if m.tail == 0 {
		return nil, nil
	}
	n := int64(m.tail)
	b, err := m.cfg.Core.Pods(m.cfg.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &n}).DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\n"), nil
}
