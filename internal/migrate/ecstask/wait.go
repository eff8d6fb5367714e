package ecstask

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
)

// ExitError is a migration task that stopped without its command
// exiting 0.
type ExitError struct {
	Task      string // task ID
	Container string
	// ExitCode is nil when the container never exited by itself: the
	// task failed to start, or was stopped.
	ExitCode      *int32
	StopCode      types.TaskStopCode
	StoppedReason string
	Reason        string // the container's reason, such as CannotPullContainerError
	LogsURL       string
}

func (e *ExitError) Error() string {
	var b strings.Builder
	if e.ExitCode != nil {
		fmt.Fprintf(&b, "migration task %q: container %q exited with code %d", e.Task, e.Container, *e.ExitCode)
	} else {
		fmt.Fprintf(&b, "migration task %q stopped before container %q exited", e.Task, e.Container)
	}
	var why []string
	if e.StopCode != "" || e.StoppedReason != "" {
		why = append(why, strings.TrimPrefix(string(e.StopCode)+": "+e.StoppedReason, ": "))
	}
	if e.Reason != "" && e.Reason != e.StoppedReason {
		why = append(why, "container: "+e.Reason)
	}
	if len(why) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(why, "; "))
	}
	if e.LogsURL != "" {
		fmt.Fprintf(&b, "; logs: %s", e.LogsURL)
	}
	return b.String()
}

// wait polls the task until it is STOPPED and judges it by the exit code
// of container. When ctx ends first, it stops the task.
func (m *Migrator) wait(ctx context.Context, task types.Task, container, link string, log func(string)) error {
	id, arn := taskID(task), aws.ToString(task.TaskArn)
	start := time.Now()
	status := aws.ToString(task.LastStatus)
	var said string
	var saidAt time.Time
	throttled := 0
	for {
		line := fmt.Sprintf("migration task %s: %s", id, orUnknown(status))
		if throttled > 0 {
			line += fmt.Sprintf(" (AWS throttled %d polls)", throttled)
		}
		if line != said || time.Since(saidAt) >= m.progress {
			log(fmt.Sprintf("%s (%s elapsed)", line, time.Since(start).Round(time.Second)))
			said, saidAt = line, time.Now()
		}
		if err := awsapi.Sleep(ctx, m.poll); err != nil {
			return m.stopTask(ctx, arn, id, log)
		}
		out, err := m.cfg.API.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String(m.cfg.Cluster), Tasks: []string{arn}})
		switch {
		case err == nil:
		case awsapi.IsThrottle(err):
			// The SDK retried already; the next poll is one more retry.
			throttled++
			continue
		case ctx.Err() != nil:
			return m.stopTask(ctx, arn, id, log)
		default:
			return fmt.Errorf("describing migration task %q: %w", id, err)
		}
		if len(out.Tasks) == 0 {
			// Reads are eventually consistent: a task just started may
			// not show yet (a MISSING failure). The deadline bounds this.
			continue
		}
		t := out.Tasks[0]
		status = aws.ToString(t.LastStatus)
		if status == "STOPPED" {
			return verdict(t, id, container, link, log)
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "status unknown"
	}
	return s
}

// verdict judges a stopped task by its container's exit code.
func verdict(t types.Task, id, container, link string, log func(string)) error {
	e := &ExitError{Task: id, Container: container, StopCode: t.StopCode, StoppedReason: aws.ToString(t.StoppedReason), LogsURL: link}
	for _, c := range t.Containers {
		if aws.ToString(c.Name) == container {
			e.ExitCode, e.Reason = c.ExitCode, aws.ToString(c.Reason)
		}
	}
	if e.ExitCode != nil && *e.ExitCode == 0 {
		log(fmt.Sprintf("migration task %s: container %s exited with code 0", id, container))
		return nil
	}
	return e
}

// stopTask stops the task after ctx ended and returns ctx's cause. The
// call gets a context of its own: ctx is done already.
func (m *Migrator) stopTask(ctx context.Context, arn, id string, log func(string)) error {
	cause := context.Cause(ctx)
	reason := "bluegreen: the deploy was cancelled"
	if errors.Is(cause, context.DeadlineExceeded) {
		reason = "bluegreen: the migration ran out of time"
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.stop)
	defer cancel()
	_, err := m.cfg.API.StopTask(sctx, &awsecs.StopTaskInput{Cluster: aws.String(m.cfg.Cluster), Task: aws.String(arn), Reason: aws.String(reason)})
	if err != nil {
		return fmt.Errorf("migration task %q: %w; stopping it: %w", id, cause, err)
	}
	log(fmt.Sprintf("migration task %s stopped: %s", id, strings.TrimPrefix(reason, "bluegreen: ")))
	return fmt.Errorf("migration task %q stopped: %w", id, cause)
}
