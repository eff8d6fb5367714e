// Package hooktest holds in-process doubles for testing Lambda lifecycle
// hooks (package hook) without AWS: a Lambda runtime API that hands a
// function its invocations and records its answers, and a CodeDeploy API
// that keeps the status of lifecycle hook executions as CodeDeploy does,
// errors included.
package hooktest
