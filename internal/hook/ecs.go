package hook

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// The hookStatus values of an answer to Amazon ECS.
const (
	HookSucceeded  = "SUCCEEDED"
	HookFailed     = "FAILED"
	HookInProgress = "IN_PROGRESS"
)

// ECSResult is the function's answer to an Amazon ECS lifecycle hook event.
type ECSResult struct {
	HookStatus string `json:"hookStatus"`
	// CallBackDelay is how many seconds ECS waits before the next
	// invocation, with IN_PROGRESS.
	CallBackDelay int `json:"callBackDelay,omitempty"`
	// HookDetails comes back in the next invocation's event, with
	// IN_PROGRESS. It keeps the details the event came with, so that those
	// configured on the service survive.
	HookDetails map[string]json.RawMessage `json:"hookDetails,omitempty"`
}

// ecsEvent is what Amazon ECS invokes a lifecycle hook function with.
type ecsEvent struct {
	ExecutionID      string               `json:"executionId"`
	LifecycleStage   string               `json:"lifecycleStage"`
	ResourceARN      string               `json:"resourceArn"`
	ExecutionDetails *ecsExecutionDetails `json:"executionDetails"`
	HookDetails      json.RawMessage      `json:"hookDetails"`
}

// ecsExecutionDetails is the state of the deployment. The developer guide
// shows these fields at the top level of its payload examples, and events
// carry them under executionDetails: both are read.
type ecsExecutionDetails struct {
	ServiceARN               string             `json:"serviceArn"`
	TargetServiceRevisionARN string             `json:"targetServiceRevisionArn"`
	TestTrafficWeights       map[string]float64 `json:"testTrafficWeights"`
	ProductionTrafficWeights map[string]float64 `json:"productionTrafficWeights"`
}

// ecsState is what a hook remembers between the invocations of one
// lifecycle event, under hookDetails' key "bluegreen".
type ecsState struct {
	FirstSeen   string `json:"firstSeen"`
	ExecutionID string `json:"executionId,omitempty"`
	Stage       string `json:"lifecycleStage,omitempty"`
	Attempts    int    `json:"attempts"`
}

// ecs runs the checks for one invocation of an ECS lifecycle event and
// answers SUCCEEDED, FAILED once the budget is spent, or IN_PROGRESS.
func (h *Hooks) ecs(ctx context.Context, payload []byte) ([]byte, error) {
	var e ecsEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, fmt.Errorf("%w: reading the Amazon ECS lifecycle hook event: %w", ErrUnknownEvent, err)
	}
	if e.ExecutionDetails == nil {
		e.ExecutionDetails = &ecsExecutionDetails{}
		if err := json.Unmarshal(payload, e.ExecutionDetails); err != nil {
			return nil, fmt.Errorf("%w: reading the Amazon ECS lifecycle hook event: %w", ErrUnknownEvent, err)
		}
	}
	ev := Event{
		Source:            ECS,
		DeploymentID:      e.ResourceARN,
		ExecutionID:       e.ExecutionID,
		Stage:             e.LifecycleStage,
		ServiceARN:        e.ExecutionDetails.ServiceARN,
		TargetRevisionARN: e.ExecutionDetails.TargetServiceRevisionARN,
	}
	details := hookDetails(e.HookDetails)
	prev := previousState(details, ev)
	now := h.now()
	key := stateKey(ev)
	first := h.remember(key, now, prev)
	deadline := first.Add(h.cfg.Budget)
	name := describe(ev)

	// Start attempts for a short while only, and once the budget is spent
	// make one last attempt before failing. An attempt under way runs on
	// until the budget ends (a last one for up to the invocation budget):
	// a slow answer is still an answer.
	stop := h.usable(ctx, minTime(now.Add(h.invocation), deadline))
	end := h.usable(ctx, maxTime(deadline, now.Add(h.invocation)))
	if !stop.After(now) {
		stop = now
	}
	cctx, cancel := context.WithDeadline(ctx, end)
	attempts, err := h.attempt(cctx, ev, stop)
	cancel()
	attempts += prev.Attempts
	elapsed := h.now().Sub(first).Round(time.Millisecond)

	var res ECSResult
	switch {
	case err == nil:
		h.forget(key)
		res.HookStatus = HookSucceeded
		h.logf("%s: checks passed (attempt %d, %s after the first invocation)", name, attempts, elapsed)
	case !h.now().Before(deadline):
		h.forget(key)
		res.HookStatus = HookFailed
		h.logf("%s: checks failed for %s (%d attempts, budget %s): %v", name, elapsed, attempts, h.cfg.Budget, err)
	default:
		left := deadline.Sub(h.now())
		res.HookStatus = HookInProgress
		res.CallBackDelay = int(math.Ceil(min(h.callBack, left).Seconds()))
		res.CallBackDelay = max(1, min(res.CallBackDelay, maxCallBackDelaySeconds))
		state, merr := json.Marshal(ecsState{
			FirstSeen:   first.UTC().Format(hookDetailsTimeLayout),
			ExecutionID: ev.ExecutionID,
			Stage:       ev.Stage,
			Attempts:    attempts,
		})
		if merr != nil {
			return nil, fmt.Errorf("encoding the hook's state: %w", merr)
		}
		res.HookDetails = details
		res.HookDetails[hookDetailsKey] = state
		h.logf("%s: checks not passing yet (%d attempts, %s of %s): %v; next try in %ds",
			name, attempts, elapsed, h.cfg.Budget, err, res.CallBackDelay)
	}
	return json.Marshal(res)
}

// hookDetails returns a copy of the event's hookDetails as an object. They
// are an object when configured on the service; a JSON object inside a
// string is read too. Anything else is dropped.
func hookDetails(raw json.RawMessage) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	if len(raw) == 0 {
		return out
	}
	if err := json.Unmarshal(raw, &out); err == nil {
		if out == nil { // JSON null
			out = map[string]json.RawMessage{}
		}
		return out
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if err := json.Unmarshal([]byte(s), &out); err == nil && out != nil {
			return out
		}
	}
	return map[string]json.RawMessage{}
}

// previousState returns the state an earlier invocation of the same
// lifecycle event left in details; the zero state when there is none.
func previousState(details map[string]json.RawMessage, ev Event) ecsState {
	var st ecsState
	raw, ok := details[hookDetailsKey]
	if !ok || json.Unmarshal(raw, &st) != nil {
		return ecsState{}
	}
	// hookDetails from another stage or execution say nothing of this one.
	if st.ExecutionID != ev.ExecutionID || st.Stage != ev.Stage {
		return ecsState{}
	}
	if _, err := time.Parse(hookDetailsTimeLayout, st.FirstSeen); err != nil {
		return ecsState{}
	}
	return st
}

// remember returns when the lifecycle event under key was first seen: the
// earliest of now, the time prev carries, and the time remembered in
// memory; it remembers that time.
func (h *Hooks) remember(key string, now time.Time, prev ecsState) time.Time {
	first := now
	if t, err := time.Parse(hookDetailsTimeLayout, prev.FirstSeen); err == nil && t.Before(first) {
		first = t
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.firstSeen[key]; ok && t.Before(first) {
		first = t
	}
	// Forget events long over, so that a long-lived function stays small.
	for k, t := range h.firstSeen {
		if now.Sub(t) > h.cfg.Budget+time.Hour || len(h.firstSeen) > defaultStateCapacity {
			delete(h.firstSeen, k)
		}
	}
	h.firstSeen[key] = first
	return first
}

func (h *Hooks) forget(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.firstSeen, key)
}

// stateKey identifies one lifecycle event of one deployment.
func stateKey(ev Event) string {
	id := ev.ExecutionID
	if id == "" {
		id = ev.DeploymentID
	}
	if id == "" {
		id = ev.TargetRevisionARN
	}
	return id + "|" + ev.Stage
}

// describe names an ECS lifecycle event for the log.
func describe(ev Event) string {
	what := ev.DeploymentID
	if what == "" {
		what = ev.ServiceARN
	}
	stage := ev.Stage
	if stage == "" {
		stage = "lifecycle hook"
	}
	return fmt.Sprintf("ECS %s of %s", stage, what)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
