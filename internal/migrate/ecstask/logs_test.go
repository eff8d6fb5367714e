package ecstask

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestConsoleLogsURL(t *testing.T) {
	t.Parallel()
	const task = "arn:aws:ecs:eu-central-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
	awslogs := func(opts ...string) *types.LogConfiguration {
		lc := &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{}}
		for i := 0; i+1 < len(opts); i += 2 {
			lc.Options[opts[i]] = opts[i+1]
		}
		return lc
	}
	cases := []struct {
		name string
		task string
		lc   *types.LogConfiguration
		want string
	}{
		{
			name: "group, region and prefix", task: task,
			lc:   awslogs("awslogs-group", "/ecs/shop", "awslogs-region", "eu-west-1", "awslogs-stream-prefix", "ecs"),
			want: "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fecs$252Fshop/log-events/ecs$252Fweb$252F0123456789abcdef0123456789abcdef",
		},
		{
			name: "region from the task", task: task,
			lc:   awslogs("awslogs-group", "shop", "awslogs-stream-prefix", "migrate"),
			want: "https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#logsV2:log-groups/log-group/shop/log-events/migrate$252Fweb$252F0123456789abcdef0123456789abcdef",
		},
		{
			name: "no prefix: the group", task: task,
			lc:   awslogs("awslogs-group", "/ecs/shop"),
			want: "https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#logsV2:log-groups/log-group/$252Fecs$252Fshop",
		},
		{
			name: "characters the console escapes", task: task,
			lc:   awslogs("awslogs-group", "/aws/x [$LATEST]", "awslogs-region", "us-east-1"),
			want: "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fx$2520$255B$2524LATEST$255D",
		},
		{
			name: "china", task: "arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/abc",
			lc:   awslogs("awslogs-group", "shop"),
			want: "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#logsV2:log-groups/log-group/shop",
		},
		{name: "no group", task: task, lc: awslogs("awslogs-region", "eu-west-1")},
		{name: "another driver", task: task, lc: &types.LogConfiguration{LogDriver: types.LogDriverAwsfirelens}},
		{name: "no log configuration", task: task},
	}
	for _, tc := range cases {
		got := ConsoleLogsURL(types.Task{TaskArn: aws.String(tc.task)}, types.ContainerDefinition{Name: aws.String("web"), LogConfiguration: tc.lc})
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
