package hook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/hook"
	"github.com/bluegreen-dev/bluegreen-action/internal/hook/hooktest"
	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

const (
	deploymentID = "d-ABCDEF123"
	executionID  = "52a5c3f3-0a1f-4b3c-9d5e-6f7a8b9c0d1e"
)

// backend is the new release behind the test listener: it answers 503
// until ready is set.
type backend struct {
	ready atomic.Bool
	calls atomic.Int32
	srv   *httptest.Server
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b.calls.Add(1)
		if !b.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "starting")
			return
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// checks are the HTTP checks of b, as main builds them from verify-url and
// verify-body.
func (b *backend) checks(t *testing.T) hook.Checks {
	t.Helper()
	body, err := verify.ParseBody(`"ok"`)
	if err != nil {
		t.Fatal(err)
	}
	return hook.VerifyAll(&verify.Checker{}, []verify.Check{{URL: b.srv.URL + "/healthz", Body: body}})
}

// fast are options that make failure paths take milliseconds.
func fast(opts ...hook.Option) []hook.Option {
	return append([]hook.Option{hook.WithInterval(time.Millisecond), hook.WithInvocationBudget(20 * time.Millisecond)}, opts...)
}

func newHooks(t *testing.T, cfg hook.Config, opts ...hook.Option) *hook.Hooks {
	t.Helper()
	h, err := hook.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func codeDeployEvent(deployment, execution string) string {
	return fmt.Sprintf(`{"DeploymentId":%q,"LifecycleEventHookExecutionId":%q}`, deployment, execution)
}

func decodeCodeDeploy(t *testing.T, res hooktest.Result) hook.CodeDeployResult {
	t.Helper()
	if res.Error != nil {
		t.Fatalf("invocation failed: %+v", res.Error)
	}
	var out hook.CodeDeployResult
	if err := json.Unmarshal(res.Response, &out); err != nil {
		t.Fatalf("decoding %s: %v", res.Response, err)
	}
	return out
}

func TestCodeDeployHook(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		readyAfter int32 // attempts that fail first; -1: never ready
		budget     time.Duration
		want       types.LifecycleEventStatus
		wantReason string
	}{
		{name: "passes", readyAfter: 0, budget: time.Minute, want: types.LifecycleEventStatusSucceeded},
		{name: "passes after retries", readyAfter: 3, budget: time.Minute, want: types.LifecycleEventStatusSucceeded},
		{name: "fails within the budget", readyAfter: -1, budget: 50 * time.Millisecond, want: types.LifecycleEventStatusFailed,
			wantReason: `GET http://127.0.0.1:`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			b.ready.Store(tc.readyAfter == 0)
			checks := b.checks(t)
			if tc.readyAfter > 0 {
				inner := checks
				checks = func(ctx context.Context, ev hook.Event) error {
					if b.calls.Load() >= tc.readyAfter {
						b.ready.Store(true)
					}
					return inner(ctx, ev)
				}
			}
			cd := hooktest.NewCodeDeploy()
			cd.AddHookExecution(deploymentID, executionID)
			rt := hooktest.NewRuntime(t)
			serve(t, rt, newHooks(t, hook.Config{Checks: checks, CodeDeploy: cd, Budget: tc.budget}, fast()...))

			got := decodeCodeDeploy(t, invoke(t, rt, codeDeployEvent(deploymentID, executionID)))
			if got.Status != string(tc.want) {
				t.Errorf("answer status = %q, want %q (reason %q)", got.Status, tc.want, got.Reason)
			}
			if !strings.Contains(got.Reason, tc.wantReason) || (tc.wantReason == "") != (got.Reason == "") {
				t.Errorf("answer reason = %q, want it to contain %q", got.Reason, tc.wantReason)
			}
			want := []hooktest.PutCall{{DeploymentID: deploymentID, ExecutionID: executionID, Status: tc.want}}
			if diff := cmp.Diff(want, cd.Calls()); diff != "" {
				t.Errorf("CodeDeploy calls (-want +got):\n%s", diff)
			}
			if got := cd.Status(deploymentID, executionID); got != tc.want {
				t.Errorf("hook execution status = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCodeDeployHookAlreadyCompleted(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.ready.Store(true)
	cd := hooktest.NewCodeDeploy()
	cd.AddHookExecution(deploymentID, executionID)
	rt := hooktest.NewRuntime(t)
	serve(t, rt, newHooks(t, hook.Config{Checks: b.checks(t), CodeDeploy: cd, Budget: time.Minute}, fast()...))

	first := decodeCodeDeploy(t, invoke(t, rt, codeDeployEvent(deploymentID, executionID)))
	// Lambda retries an asynchronous invocation; the hook is closed by then.
	second := decodeCodeDeploy(t, invoke(t, rt, codeDeployEvent(deploymentID, executionID)))
	if first.AlreadyCompleted || !second.AlreadyCompleted {
		t.Errorf("alreadyCompleted = %v then %v, want false then true", first.AlreadyCompleted, second.AlreadyCompleted)
	}
	if got, want := len(cd.Calls()), 2; got != want {
		t.Errorf("CodeDeploy calls = %d, want %d", got, want)
	}
}

func TestCodeDeployHookReportFailures(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	b.ready.Store(true)
	cd := hooktest.NewCodeDeploy()
	cd.AddHookExecution(deploymentID, executionID)
	rt := hooktest.NewRuntime(t)
	serve(t, rt, newHooks(t, hook.Config{Checks: b.checks(t), CodeDeploy: cd, Budget: time.Minute}, fast()...))

	// Throttled even after the SDK's retries: the invocation fails, so that
	// Lambda's retry reports again.
	cd.FailNext(&smithy.OperationError{ServiceID: "CodeDeploy", OperationName: "PutLifecycleEventHookExecutionStatus",
		Err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}})
	res := invoke(t, rt, codeDeployEvent(deploymentID, executionID))
	if res.Error == nil || !strings.Contains(res.Error.Message, "ThrottlingException") ||
		!strings.Contains(res.Error.Message, `reporting Succeeded for hook execution "`+executionID+`" of CodeDeploy deployment "`+deploymentID+`"`) {
		t.Fatalf("answer = %+v, want the throttling reported as a failure", res)
	}
	if got := cd.Status(deploymentID, executionID); got != types.LifecycleEventStatusPending {
		t.Fatalf("status after a throttled report = %q, want Pending", got)
	}
	if got := decodeCodeDeploy(t, invoke(t, rt, codeDeployEvent(deploymentID, executionID))); got.Status != "Succeeded" {
		t.Errorf("retry answered %+v, want Succeeded", got)
	}

	cases := map[string]string{
		"unknown execution":  codeDeployEvent(deploymentID, "0f0f0f0f-0000-0000-0000-000000000000"),
		"unknown deployment": codeDeployEvent("d-ZZZZZZZZZ", executionID),
		"malformed id":       codeDeployEvent("deployment-1", executionID),
	}
	wants := map[string]string{
		"unknown execution":  "InvalidLifecycleEventHookExecutionIdException",
		"unknown deployment": "DeploymentDoesNotExistException",
		"malformed id":       "InvalidDeploymentIdException",
	}
	for name, ev := range cases {
		res := invoke(t, rt, ev)
		if res.Error == nil || !strings.Contains(res.Error.Message, wants[name]) {
			t.Errorf("%s: answer = %+v, want an error naming %s", name, res, wants[name])
		}
	}
}

func TestCodeDeployHookKeepsToTheInvocationDeadline(t *testing.T) {
	t.Parallel()
	b := newBackend(t) // never ready
	cd := hooktest.NewCodeDeploy()
	cd.AddHookExecution(deploymentID, executionID)
	rt := hooktest.NewRuntime(t)
	rt.Timeout = 2 * time.Second
	// A budget far longer than the function may run.
	h := newHooks(t, hook.Config{Checks: b.checks(t), CodeDeploy: cd, Budget: time.Hour},
		fast(hook.WithDeadlineReserve(1500*time.Millisecond))...)
	serve(t, rt, h)
	start := time.Now()
	got := decodeCodeDeploy(t, invoke(t, rt, codeDeployEvent(deploymentID, executionID)))
	if elapsed := time.Since(start); elapsed > rt.Timeout {
		t.Errorf("answered after %s, past the invocation's %s", elapsed, rt.Timeout)
	}
	if got.Status != "Failed" || cd.Status(deploymentID, executionID) != types.LifecycleEventStatusFailed {
		t.Errorf("answer %+v, status %q; want Failed reported before the deadline", got, cd.Status(deploymentID, executionID))
	}
}

func TestCodeDeployHookWithoutClient(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	h := newHooks(t, hook.Config{Checks: b.checks(t), Budget: time.Minute}, fast()...)
	_, err := h.Invoke(t.Context(), []byte(codeDeployEvent(deploymentID, executionID)))
	if err == nil || !strings.Contains(err.Error(), "no CodeDeploy client") {
		t.Errorf("Invoke = %v, want an error saying there is no CodeDeploy client", err)
	}
	if got := b.calls.Load(); got != 0 {
		t.Errorf("checks ran %d times with nowhere to report them", got)
	}
}
