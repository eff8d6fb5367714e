package ecs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

// maxStopped bounds the stopped tasks a diagnosis lists.
const maxStopped = 5

// stoppedTasks lists why the color's stopped tasks of taskDef (any, when
// empty) stopped, one line each. ECS keeps stopped tasks for about an
// hour. A failure to list them is said, not returned: the diagnosis is
// extra detail on an error already being reported.
func (p *Platform) stoppedTasks(ctx context.Context, c color.Color, taskDef string) string {
	list, err := p.cfg.API.ListTasks(ctx, &awsecs.ListTasksInput{
		Cluster: aws.String(p.cfg.Cluster), ServiceName: aws.String(p.Name(c)), DesiredStatus: types.DesiredStatusStopped,
	})
	if err != nil {
		return fmt.Sprintf("\n  (listing stopped tasks to say why: %v)", err)
	}
	if len(list.TaskArns) == 0 {
		return ""
	}
	arns := list.TaskArns[:min(len(list.TaskArns), 100)]
	out, err := p.cfg.API.DescribeTasks(ctx, &awsecs.DescribeTasksInput{Cluster: aws.String(p.cfg.Cluster), Tasks: arns})
	if err != nil {
		return fmt.Sprintf("\n  (describing stopped tasks to say why: %v)", err)
	}
	tasks := slices.DeleteFunc(out.Tasks, func(t types.Task) bool {
		return taskDef != "" && aws.ToString(t.TaskDefinitionArn) != taskDef
	})
	slices.SortStableFunc(tasks, func(a, b types.Task) int { return aws.ToTime(b.StoppedAt).Compare(aws.ToTime(a.StoppedAt)) })
	// Tasks of a failing rollout mostly stop for the same reason: say each
	// reason once, with the latest task and how many others share it.
	var order []string
	latest, count := map[string]string{}, map[string]int{}
	for _, t := range tasks {
		why := stopReason(t)
		if count[why] == 0 {
			order = append(order, why)
			latest[why] = taskID(aws.ToString(t.TaskArn))
		}
		count[why]++
	}
	var b strings.Builder
	for i, why := range order {
		if i == maxStopped {
			fmt.Fprintf(&b, "\n  (%d more stop reasons)", len(order)-maxStopped)
			break
		}
		fmt.Fprintf(&b, "\n  task %s stopped: %s", latest[why], why)
		if n := count[why] - 1; n > 0 {
			fmt.Fprintf(&b, " (and %d more tasks)", n)
		}
	}
	return b.String()
}

// stopReason says why a task stopped, with its containers' exit codes.
func stopReason(t types.Task) string {
	var b strings.Builder
	b.WriteString(aws.ToString(t.StoppedReason))
	for _, ctr := range t.Containers {
		if ctr.ExitCode == nil && ctr.Reason == nil {
			continue
		}
		fmt.Fprintf(&b, "; container %s", aws.ToString(ctr.Name))
		if ctr.ExitCode != nil {
			fmt.Fprintf(&b, " exit %d", *ctr.ExitCode)
		}
		if ctr.Reason != nil {
			fmt.Fprintf(&b, " (%s)", *ctr.Reason)
		}
	}
	return b.String()
}

// taskID shortens a task ARN to the task's ID.
func taskID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
