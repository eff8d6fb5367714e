package hook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
)

// CodeDeployAPI is the part of the CodeDeploy API a hook uses.
type CodeDeployAPI interface {
	PutLifecycleEventHookExecutionStatus(ctx context.Context, in *codedeploy.PutLifecycleEventHookExecutionStatusInput,
		optFns ...func(*codedeploy.Options)) (*codedeploy.PutLifecycleEventHookExecutionStatusOutput, error)
}

var _ CodeDeployAPI = (*codedeploy.Client)(nil)

// codeDeployEvent is what CodeDeploy invokes a lifecycle hook function with.
type codeDeployEvent struct {
	DeploymentID string `json:"DeploymentId"`
	ExecutionID  string `json:"LifecycleEventHookExecutionId"`
}

// CodeDeployResult is the function's answer to a CodeDeploy event.
// CodeDeploy itself reads only the status reported through the API; the
// answer is for people reading the invocation in Lambda's console or logs.
type CodeDeployResult struct {
	DeploymentID string `json:"deploymentId"`
	ExecutionID  string `json:"lifecycleEventHookExecutionId"`
	// Status is Succeeded or Failed.
	Status string `json:"status"`
	// Reason is why the checks failed; empty when they passed.
	Reason string `json:"reason,omitempty"`
	// AlreadyCompleted is true when CodeDeploy had already closed the hook
	// execution (a retried invocation, or one that outlived the hook).
	AlreadyCompleted bool `json:"alreadyCompleted,omitempty"`
}

// codeDeploy runs the checks for a CodeDeploy lifecycle event, within the
// budget and the invocation's deadline, and reports the outcome.
//
// A failing check is reported as Failed and the invocation succeeds: the
// status reported is what CodeDeploy acts on, and a retried invocation
// could only find the hook completed. A failure to report is an error, so
// that it shows in Lambda's metrics and a retry of an asynchronous
// invocation reports again.
func (h *Hooks) codeDeploy(ctx context.Context, payload []byte) ([]byte, error) {
	var e codeDeployEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, fmt.Errorf("%w: reading the CodeDeploy lifecycle hook event: %w", ErrUnknownEvent, err)
	}
	if e.DeploymentID == "" || e.ExecutionID == "" {
		return nil, fmt.Errorf("%w: a CodeDeploy lifecycle hook event needs DeploymentId and LifecycleEventHookExecutionId", ErrUnknownEvent)
	}
	if h.cfg.CodeDeploy == nil {
		return nil, fmt.Errorf("handling CodeDeploy deployment %q: no CodeDeploy client configured", e.DeploymentID)
	}
	ev := Event{Source: CodeDeploy, DeploymentID: e.DeploymentID, ExecutionID: e.ExecutionID}
	start := h.now()
	end := h.usable(ctx, start.Add(h.cfg.Budget))
	h.logf("CodeDeploy deployment %s, hook execution %s: checking for up to %s", e.DeploymentID, e.ExecutionID, end.Sub(start).Round(time.Millisecond))

	cctx, cancel := context.WithDeadline(ctx, end)
	attempts, checkErr := h.attempt(cctx, ev, end)
	cancel()

	res := CodeDeployResult{DeploymentID: e.DeploymentID, ExecutionID: e.ExecutionID, Status: string(types.LifecycleEventStatusSucceeded)}
	if checkErr != nil {
		res.Status, res.Reason = string(types.LifecycleEventStatusFailed), checkErr.Error()
		h.logf("CodeDeploy deployment %s: checks failed after %d attempts in %s: %v", e.DeploymentID, attempts, h.now().Sub(start).Round(time.Millisecond), checkErr)
	} else {
		h.logf("CodeDeploy deployment %s: checks passed (attempt %d)", e.DeploymentID, attempts)
	}
	_, err := h.cfg.CodeDeploy.PutLifecycleEventHookExecutionStatus(ctx, &codedeploy.PutLifecycleEventHookExecutionStatusInput{
		DeploymentId:                  aws.String(e.DeploymentID),
		LifecycleEventHookExecutionId: aws.String(e.ExecutionID),
		Status:                        types.LifecycleEventStatus(res.Status),
	})
	var done *types.LifecycleEventAlreadyCompletedException
	switch {
	case errors.As(err, &done):
		res.AlreadyCompleted = true
		h.logf("CodeDeploy deployment %s: hook execution %s was already completed; %s not recorded", e.DeploymentID, e.ExecutionID, res.Status)
	case err != nil:
		return nil, fmt.Errorf("reporting %s for hook execution %q of CodeDeploy deployment %q: %w", res.Status, e.ExecutionID, e.DeploymentID, err)
	default:
		h.logf("CodeDeploy deployment %s: reported %s", e.DeploymentID, res.Status)
	}
	return json.Marshal(res)
}
