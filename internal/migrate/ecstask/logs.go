package ecstask

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// logsURL links the task to its output: Config.LogsURL when set, else the
// CloudWatch console for an awslogs container.
func (m *Migrator) logsURL(task types.Task, container types.ContainerDefinition) string {
	if m.cfg.LogsURL != nil {
		return m.cfg.LogsURL(task)
	}
	return ConsoleLogsURL(task, container)
}

// ConsoleLogsURL returns the CloudWatch console page of the log stream of
// container in task, or "" when the container does not log with the
// awslogs driver. The stream is <awslogs-stream-prefix>/<container>/<task
// ID>; without a stream prefix the stream is named after the Docker
// container's ID, which is not known up front, and the link goes to the
// log group. The region is awslogs-region, else the task's.
func ConsoleLogsURL(task types.Task, container types.ContainerDefinition) string {
	lc := container.LogConfiguration
	if lc == nil || lc.LogDriver != types.LogDriverAwslogs || lc.Options["awslogs-group"] == "" {
		return ""
	}
	a, _ := arn.Parse(aws.ToString(task.TaskArn)) // zero when not an ARN: then only awslogs-region helps
	region := lc.Options["awslogs-region"]
	if region == "" {
		region = a.Region
	}
	if region == "" {
		return ""
	}
	host := region + ".console.aws.amazon.com"
	switch {
	case strings.HasPrefix(region, "cn-"):
		host = region + ".console.amazonaws.cn"
	case strings.HasPrefix(region, "us-gov-"):
		host = "console.amazonaws-us-gov.com"
	}
	u := fmt.Sprintf("https://%s/cloudwatch/home?region=%s#logsV2:log-groups/log-group/%s", host, region, consoleEscape(lc.Options["awslogs-group"]))
	prefix := lc.Options["awslogs-stream-prefix"]
	if prefix == "" {
		return u
	}
	return u + "/log-events/" + consoleEscape(prefix+"/"+aws.ToString(container.Name)+"/"+taskID(task))
}

// consoleEscape escapes a log group or stream name as the CloudWatch
// console's URL fragment expects it: percent-encoded twice, then every %
// written as $ ("/aws/ecs" becomes "$252Faws$252Fecs").
func consoleEscape(s string) string {
	return strings.ReplaceAll(percentEncode(percentEncode(s)), "%", "$")
}

// percentEncode escapes every byte but ASCII letters, digits, '-', '_'
// and '.'. Escaping more than strictly needed is harmless: the console
// decodes whatever is escaped.
func percentEncode(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
