// Package ecstask runs a migration command on ECS as a one-off task of
// the color's new release, for deploys on the ECS platform.
//
// Migrate reads the color's service (<app>-<color>) for what its tasks
// run with: the task definition revision the deploy registered, the
// network configuration (subnets, security groups, public IP) and the
// launch type or capacity provider strategy. It starts one task of that
// revision with RunTask, the chosen container's command replaced by the
// migration command, so the migration runs with the image, environment,
// secrets and task role the release will serve with. It polls
// DescribeTasks until the task is STOPPED; the exit code of the command's
// container decides: 0 succeeds, anything else, or no exit code at all
// (the task failed to start, or was stopped), is an error that carries
// ECS's stopped reason and the container's reason.
//
// The output of the command is not streamed: ECS hands it to the task
// definition's log driver. When that is awslogs, Migrate logs a link to
// the task's log stream in the CloudWatch console, and failures repeat
// it; Config.LogsURL replaces the link for other log destinations.
//
// When the deploy is cancelled (ctx done), Migrate stops the task with
// StopTask before it returns, so that a migration never runs on after
// the deploy that started it has given up.
//
// RunTask carries a client token: ECS starts one task per token however
// often the request is retried, so a retried call never runs the
// migration twice.
package ecstask
