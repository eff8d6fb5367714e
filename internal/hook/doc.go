// Package hook runs bluegreen's image as an AWS Lambda function that
// checks a new release during a deployment run by AWS, rather than by
// bluegreen itself: a lifecycle hook of an AWS CodeDeploy blue/green
// deployment to Amazon ECS (AfterAllowTestTraffic and friends in the
// AppSpec), or of an Amazon ECS native blue/green deployment
// (POST_TEST_TRAFFIC_SHIFT and the other lifecycle stages).
//
// The same container image serves: when Lambda starts it, the variable
// AWS_LAMBDA_RUNTIME_API is set (Detect), and main hands over to Serve,
// which speaks the Lambda runtime API until the context ends. Serve talks
// to the runtime API itself rather than through aws-lambda-go, whose loop
// reads the process environment and exits the process when it ends, so it
// could neither be stopped on a signal nor driven by a test.
//
// Hooks tells the two kinds of event apart by their shape:
//
//   - CodeDeploy sends {"DeploymentId", "LifecycleEventHookExecutionId"}.
//     The checks run until they pass or the budget (or the invocation's
//     deadline) runs out, then PutLifecycleEventHookExecutionStatus
//     reports Succeeded or Failed; CodeDeploy ignores the function's
//     answer.
//   - Amazon ECS sends {"executionId", "lifecycleStage", "resourceArn",
//     "executionDetails": {"serviceArn", "targetServiceRevisionArn",
//     "testTrafficWeights", "productionTrafficWeights"}, "hookDetails"}
//     and reads the function's answer: {"hookStatus": "SUCCEEDED" |
//     "FAILED" | "IN_PROGRESS", "callBackDelay": seconds, "hookDetails"}.
//     An invocation runs the checks for a short while only; while they do
//     not pass yet and the budget is not spent, it answers IN_PROGRESS and
//     ECS invokes the function again after callBackDelay. The time of the
//     first invocation travels in hookDetails, which ECS hands back to the
//     next invocation, and is also kept in memory for a warm function.
//
// Any other event is answered with an error.
package hook
