package hook_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/hook"
	"github.com/bluegreen-dev/bluegreen-action/internal/hook/hooktest"
)

const (
	serviceARN  = "arn:aws:ecs:us-west-2:123456789012:service/shop/shop"
	revisionARN = "arn:aws:ecs:us-west-2:123456789012:service-revision/shop/shop/01275892"
	oldRevision = "arn:aws:ecs:us-west-2:123456789012:service-revision/shop/shop/78652123"
	sdARN       = "arn:aws:ecs:us-west-2:123456789012:service-deployment/shop/shop/ejGvqq2ilnbKT9qj0vLJe"
)

// ecsEvent is an event as Amazon ECS sends it to a lifecycle hook function.
func ecsEvent(t *testing.T, execution, stage string, hookDetails map[string]json.RawMessage) string {
	t.Helper()
	ev := map[string]any{
		"executionId":    execution,
		"lifecycleStage": stage,
		"resourceArn":    sdARN,
		"executionDetails": map[string]any{
			"serviceArn":               serviceARN,
			"targetServiceRevisionArn": revisionARN,
			"testTrafficWeights":       map[string]int{revisionARN: 100, oldRevision: 0},
			"productionTrafficWeights": map[string]int{revisionARN: 0, oldRevision: 100},
		},
	}
	if hookDetails != nil {
		ev["hookDetails"] = hookDetails
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeECS(t *testing.T, res hooktest.Result) hook.ECSResult {
	t.Helper()
	if res.Error != nil {
		t.Fatalf("invocation failed: %+v", res.Error)
	}
	var out hook.ECSResult
	if err := json.Unmarshal(res.Response, &out); err != nil {
		t.Fatalf("decoding %s: %v", res.Response, err)
	}
	// Only the documented fields, so that ECS reads a valid hookStatus.
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(res.Response, &fields)
	for k := range fields {
		if k != "hookStatus" && k != "callBackDelay" && k != "hookDetails" {
			t.Errorf("answer has field %q; ECS documents hookStatus, callBackDelay and hookDetails", k)
		}
	}
	return out
}

// serviceDetails are hookDetails configured on the ECS service's hook.
var serviceDetails = map[string]json.RawMessage{"S3_BUCKET_NAME": json.RawMessage(`"my-approval-bucket"`)}

func TestECSHookInProgressThenSucceeded(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	rt := hooktest.NewRuntime(t)
	serve(t, rt, newHooks(t, hook.Config{Checks: b.checks(t), Budget: time.Minute}, fast()...))

	first := decodeECS(t, invoke(t, rt, ecsEvent(t, "exec-1", "POST_TEST_TRAFFIC_SHIFT", serviceDetails)))
	if first.HookStatus != hook.HookInProgress {
		t.Fatalf("first answer = %+v, want IN_PROGRESS while the new release is starting", first)
	}
	if got, want := first.CallBackDelay, 15; got != want {
		t.Errorf("callBackDelay = %d, want %d", got, want)
	}
	if got := string(first.HookDetails["S3_BUCKET_NAME"]); got != `"my-approval-bucket"` {
		t.Errorf("hookDetails lost the service's S3_BUCKET_NAME: %s", first.HookDetails)
	}
	if _, ok := first.HookDetails["bluegreen"]; !ok {
		t.Errorf("hookDetails = %s, want the hook's state under \"bluegreen\"", first.HookDetails)
	}

	b.ready.Store(true)
	// ECS hands the hookDetails of an IN_PROGRESS answer to the next invocation.
	second := decodeECS(t, invoke(t, rt, ecsEvent(t, "exec-1", "POST_TEST_TRAFFIC_SHIFT", first.HookDetails)))
	if diff := cmp.Diff(hook.ECSResult{HookStatus: hook.HookSucceeded}, second); diff != "" {
		t.Errorf("second answer (-want +got):\n%s", diff)
	}
}

func TestECSHookFailsOnceTheBudgetIsSpent(t *testing.T) {
	t.Parallel()
	// A cold function: nothing in memory, only what hookDetails carry.
	state := func(firstSeen time.Time, execution, stage string) map[string]json.RawMessage {
		s, _ := json.Marshal(map[string]any{"firstSeen": firstSeen.UTC().Format(time.RFC3339Nano), "executionId": execution, "lifecycleStage": stage, "attempts": 40})
		return map[string]json.RawMessage{"bluegreen": s}
	}
	longAgo := time.Now().Add(-2 * time.Hour)
	cases := []struct {
		name    string
		details map[string]json.RawMessage
		ready   bool
		want    string
	}{
		{name: "spent", details: state(longAgo, "exec-1", "POST_TEST_TRAFFIC_SHIFT"), want: hook.HookFailed},
		{name: "last attempt passes", details: state(longAgo, "exec-1", "POST_TEST_TRAFFIC_SHIFT"), ready: true, want: hook.HookSucceeded},
		{name: "another stage's state", details: state(longAgo, "exec-1", "TEST_TRAFFIC_SHIFT"), want: hook.HookInProgress},
		{name: "another execution's state", details: state(longAgo, "exec-0", "POST_TEST_TRAFFIC_SHIFT"), want: hook.HookInProgress},
		{name: "garbled state", details: map[string]json.RawMessage{"bluegreen": json.RawMessage(`{"firstSeen":"yesterday"}`)}, want: hook.HookInProgress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			b.ready.Store(tc.ready)
			// Long enough for an attempt on a loaded machine.
			h := newHooks(t, hook.Config{Checks: b.checks(t), Budget: time.Hour}, fast(hook.WithInvocationBudget(300*time.Millisecond))...)
			out, err := h.Invoke(t.Context(), []byte(ecsEvent(t, "exec-1", "POST_TEST_TRAFFIC_SHIFT", tc.details)))
			if err != nil {
				t.Fatal(err)
			}
			var got hook.ECSResult
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got.HookStatus != tc.want {
				t.Errorf("hookStatus = %q, want %q", got.HookStatus, tc.want)
			}
			if b.calls.Load() == 0 {
				t.Error("no attempt was made")
			}
		})
	}
}

func TestECSHookWarmFunctionRemembers(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	var log syncWriter
	h := newHooks(t, hook.Config{Checks: b.checks(t), Budget: 500 * time.Millisecond}, fast(hook.WithLog(&log))...)
	rt := hooktest.NewRuntime(t)
	serve(t, rt, h)

	first := decodeECS(t, invoke(t, rt, ecsEvent(t, "exec-7", "POST_TEST_TRAFFIC_SHIFT", nil)))
	if first.HookStatus != hook.HookInProgress {
		t.Fatalf("first answer = %+v, want IN_PROGRESS", first)
	}
	if first.CallBackDelay != 1 {
		t.Errorf("callBackDelay = %d, want 1 (the budget has less than a second left)", first.CallBackDelay)
	}
	time.Sleep(550 * time.Millisecond)
	// Without hookDetails, the same warm function still knows when the
	// event began.
	second := decodeECS(t, invoke(t, rt, ecsEvent(t, "exec-7", "POST_TEST_TRAFFIC_SHIFT", nil)))
	if second.HookStatus != hook.HookFailed {
		t.Errorf("second answer = %+v, want FAILED after the budget", second)
	}
	for _, want := range []string{
		"bluegreen hook: ECS POST_TEST_TRAFFIC_SHIFT of " + sdARN + ": checks not passing yet",
		"checks failed for ",
		`answered 503 Service Unavailable, want 2xx; body: "starting"`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestECSHookReadsTheFlatPayload(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.ready.Store(true)
	var got hook.Event
	checks := b.checks(t)
	h := newHooks(t, hook.Config{Checks: func(ctx context.Context, ev hook.Event) error { got = ev; return checks(ctx, ev) }, Budget: time.Minute}, fast()...)
	// The payload as the developer guide lists it.
	flat := `{"serviceArn":"` + serviceARN + `","targetServiceRevisionArn":"` + revisionARN + `",
		"testTrafficWeights":{"` + revisionARN + `":100},"productionTrafficWeights":{"` + oldRevision + `":100}}`
	out, err := h.Invoke(t.Context(), []byte(flat))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"hookStatus":"SUCCEEDED"`) {
		t.Errorf("answer = %s, want SUCCEEDED", out)
	}
	want := hook.Event{Source: hook.ECS, ServiceARN: serviceARN, TargetRevisionARN: revisionARN}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event given to the checks (-want +got):\n%s", diff)
	}
}

func TestECSHookEventGivenToChecks(t *testing.T) {
	t.Parallel()
	var got hook.Event
	h := newHooks(t, hook.Config{Checks: func(_ context.Context, ev hook.Event) error { got = ev; return nil }, Budget: time.Minute})
	if _, err := h.Invoke(t.Context(), []byte(ecsEvent(t, "exec-1", "TEST_TRAFFIC_SHIFT", nil))); err != nil {
		t.Fatal(err)
	}
	want := hook.Event{Source: hook.ECS, DeploymentID: sdARN, ExecutionID: "exec-1", Stage: "TEST_TRAFFIC_SHIFT",
		ServiceARN: serviceARN, TargetRevisionARN: revisionARN}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestUnknownEvents(t *testing.T) {
	t.Parallel()
	rt := hooktest.NewRuntime(t)
	b := newBackend(t)
	serve(t, rt, newHooks(t, hook.Config{Checks: b.checks(t), Budget: time.Minute}, fast()...))
	cases := map[string]string{
		`{"Records":[{"s3":{"object":{"key":"s3cret"}}}]}`: "unknown event with keys [Records]: want a CodeDeploy lifecycle hook event",
		`[1,2]`:                  "unknown event: not a JSON object",
		`{"DeploymentId":"d-1"}`: "unknown event with keys [DeploymentId]",
		`{"DeploymentId":"","LifecycleEventHookExecutionId":""}`: "a CodeDeploy lifecycle hook event needs DeploymentId and LifecycleEventHookExecutionId",
	}
	for in, want := range cases {
		res := invoke(t, rt, in)
		if res.Error == nil || !strings.Contains(res.Error.Message, want) || res.Error.Type != "UnknownEvent" {
			t.Errorf("%s: answer = %+v, want an UnknownEvent error containing %q", in, res, want)
		}
		if res.Error != nil && strings.Contains(res.Error.Message, "s3cret") {
			t.Errorf("%s: error %q quotes the event's values", in, res.Error.Message)
		}
	}
	if got := b.calls.Load(); got != 0 {
		t.Errorf("checks ran %d times for unknown events", got)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, hook.Event) error { return nil }
	cases := map[string]struct {
		cfg  hook.Config
		opts []hook.Option
	}{
		"no checks":          {cfg: hook.Config{Budget: time.Minute}},
		"no budget":          {cfg: hook.Config{Checks: ok}},
		"zero interval":      {cfg: hook.Config{Checks: ok, Budget: time.Minute}, opts: []hook.Option{hook.WithInterval(0)}},
		"call-back too long": {cfg: hook.Config{Checks: ok, Budget: time.Minute}, opts: []hook.Option{hook.WithCallBackDelay(time.Hour)}},
		"call-back too short": {cfg: hook.Config{Checks: ok, Budget: time.Minute},
			opts: []hook.Option{hook.WithCallBackDelay(time.Millisecond)}},
	}
	for name, tc := range cases {
		if _, err := hook.New(tc.cfg, tc.opts...); err == nil {
			t.Errorf("%s: New = nil error", name)
		}
	}
}

// syncWriter is a log that the test reads while the function writes.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
