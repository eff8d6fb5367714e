package hooktest

import (
	"context"
	"regexp"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"
)

// CodeDeploy is a double of CodeDeploy's PutLifecycleEventHookExecutionStatus.
// Hook executions start Pending; the first report of Succeeded or Failed
// completes one, and a later report fails with
// LifecycleEventAlreadyCompletedException, as on AWS. Errors are the SDK's
// types wrapped in *smithy.OperationError, as the client returns them.
type CodeDeploy struct {
	mu       sync.Mutex
	hooks    map[string]map[string]types.LifecycleEventStatus // deployment -> execution -> status
	calls    []PutCall
	failures []error
}

// PutCall is one call of PutLifecycleEventHookExecutionStatus.
type PutCall struct {
	DeploymentID string
	ExecutionID  string
	Status       types.LifecycleEventStatus
}

// NewCodeDeploy returns a double with no deployments.
func NewCodeDeploy() *CodeDeploy {
	return &CodeDeploy{hooks: map[string]map[string]types.LifecycleEventStatus{}}
}

// deploymentID is the form of CodeDeploy's deployment IDs: d-XXXXXXXXX.
var deploymentID = regexp.MustCompile(`^d-[A-Z0-9]{9}$`)

// AddHookExecution makes a Pending hook execution of a deployment, as
// CodeDeploy does before it invokes the hook's function.
func (c *CodeDeploy) AddHookExecution(deploymentID, executionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hooks[deploymentID] == nil {
		c.hooks[deploymentID] = map[string]types.LifecycleEventStatus{}
	}
	c.hooks[deploymentID][executionID] = types.LifecycleEventStatusPending
}

// Status returns the status of a hook execution; "" when there is none.
func (c *CodeDeploy) Status(deploymentID, executionID string) types.LifecycleEventStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hooks[deploymentID][executionID]
}

// FailNext makes the next call fail with err (e.g. a throttling error)
// before it changes anything. Calls fail in the order given.
func (c *CodeDeploy) FailNext(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, err)
}

// Calls returns every call so far, failed ones included.
func (c *CodeDeploy) Calls() []PutCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// PutLifecycleEventHookExecutionStatus records the result of a hook
// execution.
func (c *CodeDeploy) PutLifecycleEventHookExecutionStatus(_ context.Context, in *codedeploy.PutLifecycleEventHookExecutionStatusInput,
	_ ...func(*codedeploy.Options)) (*codedeploy.PutLifecycleEventHookExecutionStatusOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, e := aws.ToString(in.DeploymentId), aws.ToString(in.LifecycleEventHookExecutionId)
	c.calls = append(c.calls, PutCall{DeploymentID: d, ExecutionID: e, Status: in.Status})
	if len(c.failures) > 0 {
		err := c.failures[0]
		c.failures = c.failures[1:]
		return nil, err
	}
	switch {
	case d == "":
		return nil, fail(&types.DeploymentIdRequiredException{Message: aws.String("At least one deployment ID must be specified.")})
	case !deploymentID.MatchString(d):
		return nil, fail(&types.InvalidDeploymentIdException{Message: aws.String("At least one of the deployment IDs was specified in an invalid format.")})
	case c.hooks[d] == nil:
		return nil, fail(&types.DeploymentDoesNotExistException{Message: aws.String("The deployment with the IAM user or AWS account does not exist.")})
	case in.Status != types.LifecycleEventStatusSucceeded && in.Status != types.LifecycleEventStatusFailed:
		return nil, fail(&types.InvalidLifecycleEventHookExecutionStatusException{Message: aws.String("The result of a Lambda validation function that verifies a lifecycle event is invalid. It should return Succeeded or Failed.")})
	}
	status, ok := c.hooks[d][e]
	switch {
	case !ok:
		return nil, fail(&types.InvalidLifecycleEventHookExecutionIdException{Message: aws.String("A lifecycle event hook is invalid.")})
	case status != types.LifecycleEventStatusPending && status != types.LifecycleEventStatusInProgress:
		return nil, fail(&types.LifecycleEventAlreadyCompletedException{Message: aws.String("An attempt to return the status of an already completed lifecycle event occurred.")})
	}
	c.hooks[d][e] = in.Status
	return &codedeploy.PutLifecycleEventHookExecutionStatusOutput{LifecycleEventHookExecutionId: aws.String(e)}, nil
}

// fail wraps err as the SDK client does.
func fail(err error) error {
	return &smithy.OperationError{ServiceID: codedeploy.ServiceID, OperationName: "PutLifecycleEventHookExecutionStatus", Err: err}
}
