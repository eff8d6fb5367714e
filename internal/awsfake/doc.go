// Package awsfake holds in-process doubles of the AWS APIs bluegreen
// uses, for tests: no AWS emulator runs on the machines bluegreen is
// built on. Each double implements the method signatures of the SDK
// client it stands for, so a consumer's narrow interface accepts either.
//
// The doubles model AWS's documented behaviour, errors included, so that
// they can disagree with the code under test. For example: ELBv2's
// ModifyListener replaces the default actions and rejects forward weights
// outside 0-999, unknown ARNs fail with ListenerNotFound or
// TargetGroupNotFound, and the targets of a target group no listener uses
// are "unused"; ECS's UpdateService starts a new PRIMARY deployment while
// the old one stays ACTIVE until drained, the deployment circuit breaker
// fails a rollout and may roll it back, DescribeServices reports a
// missing service as a MISSING failure, and DescribeTaskDefinition
// returns tags only when asked to. Errors are the SDK's own types (or
// generic API errors with AWS's codes) wrapped in *smithy.OperationError,
// as a client returns them.
//
// Time in the doubles moves when the test says so, never by the wall
// clock. Faults can be injected (throttling, stale reads after a write),
// and every call is recorded.
package awsfake
