package hook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluegreen-dev/bluegreen-action/internal/hook"
	"github.com/bluegreen-dev/bluegreen-action/internal/hook/hooktest"
)

// serve runs h behind rt until the test ends, and fails the test when
// Serve returns an error.
func serve(t *testing.T, rt *hooktest.Runtime, h hook.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hook.Serve(ctx, rt.Addr(), h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

func invoke(t *testing.T, rt *hooktest.Runtime, payload string) hooktest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	res, err := rt.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDetect(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	if hook.Detect(func(k string) string { return env[k] }) {
		t.Error("Detect = true without AWS_LAMBDA_RUNTIME_API")
	}
	env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
	if !hook.Detect(func(k string) string { return env[k] }) {
		t.Error("Detect = false with AWS_LAMBDA_RUNTIME_API")
	}
}

func TestServeAnswersEachInvocation(t *testing.T) {
	t.Parallel()
	rt := hooktest.NewRuntime(t)
	rt.Timeout = 30 * time.Second
	serve(t, rt, hook.HandlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		d, ok := ctx.Deadline()
		if !ok || time.Until(d) > 31*time.Second || time.Until(d) < 20*time.Second {
			return nil, errors.New("no invocation deadline on the context")
		}
		return []byte(strings.ToUpper(string(payload))), nil
	}))
	for _, in := range []string{`"blue"`, `"green"`} {
		res := invoke(t, rt, in)
		if res.Error != nil {
			t.Fatalf("invocation %s failed: %+v", in, res.Error)
		}
		if got, want := string(res.Response), strings.ToUpper(in); got != want {
			t.Errorf("response = %s, want %s", got, want)
		}
	}
}

func TestServeReportsErrorsAndPanics(t *testing.T) {
	t.Parallel()
	rt := hooktest.NewRuntime(t)
	serve(t, rt, hook.HandlerFunc(func(_ context.Context, payload []byte) ([]byte, error) {
		switch string(payload) {
		case `"panic"`:
			panic("index out of range")
		case `"unknown"`:
			return nil, hook.ErrUnknownEvent
		case `"fail"`:
			return nil, errors.New("checking the thing: broken")
		}
		return []byte(`"ok"`), nil
	}))
	cases := []struct {
		in   string
		want *hooktest.Error
	}{
		{in: `"fail"`, want: &hooktest.Error{Message: "checking the thing: broken", Type: "HookError", Header: "HookError"}},
		{in: `"panic"`, want: &hooktest.Error{Message: "handling the invocation: panic: index out of range", Type: "HookError", Header: "HookError"}},
		{in: `"unknown"`, want: &hooktest.Error{Message: "unknown event", Type: "UnknownEvent", Header: "UnknownEvent"}},
		// The function keeps serving after a failure.
		{in: `"fine"`},
	}
	for _, tc := range cases {
		res := invoke(t, rt, tc.in)
		if diff := cmp.Diff(tc.want, res.Error); diff != "" {
			t.Errorf("invocation %s: error (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestServeStopsWithItsContext(t *testing.T) {
	t.Parallel()
	rt := hooktest.NewRuntime(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- hook.Serve(ctx, rt.Addr(), hook.HandlerFunc(nil)) }()
	time.Sleep(10 * time.Millisecond) // let it wait for an invocation
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after its context ended", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestServeAnswersWhenStoppedMidInvocation(t *testing.T) {
	t.Parallel()
	rt := hooktest.NewRuntime(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- hook.Serve(ctx, rt.Addr(), hook.HandlerFunc(func(hctx context.Context, _ []byte) ([]byte, error) {
			cancel() // SIGTERM while the handler runs
			<-hctx.Done()
			return nil, context.Cause(hctx)
		}))
	}()
	res := invoke(t, rt, `{}`)
	if res.Error == nil || res.Error.Message != "context canceled" {
		t.Errorf("answer = %+v, want the cancellation reported", res)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
}

func TestServeFailsWhenTheRuntimeAPIFails(t *testing.T) {
	t.Parallel()
	cases := map[string]http.HandlerFunc{
		"next fails": func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"errorType":"ContainerError"}`, http.StatusInternalServerError)
		},
		"no request id": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Lambda-Runtime-Deadline-Ms", "1542409706888")
			_, _ = w.Write([]byte(`{}`))
		},
		"answer refused": func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				http.Error(w, `{"errorType":"InvalidRequestID"}`, http.StatusBadRequest)
				return
			}
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "8476a536")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", "32503680000000")
			_, _ = w.Write([]byte(`{}`))
		},
	}
	for name, api := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(api)
			t.Cleanup(srv.Close)
			addr := strings.TrimPrefix(srv.URL, "http://")
			ok := hook.HandlerFunc(func(context.Context, []byte) ([]byte, error) { return []byte(`{}`), nil })
			if err := hook.Serve(t.Context(), addr, ok); err == nil {
				t.Error("Serve = nil, want an error")
			}
		})
	}
}

// TestServeAnswersABadDeadline: an invocation whose deadline header is
// malformed is answered, as failed, and the function goes on serving;
// left unanswered, it would only fail when Lambda's timeout ran out.
func TestServeAnswersABadDeadline(t *testing.T) {
	t.Parallel()
	rt := hooktest.NewRuntime(t)
	rt.DeadlineHeader = "soon"
	called := false
	serve(t, rt, hook.HandlerFunc(func(context.Context, []byte) ([]byte, error) {
		called = true
		return []byte(`{}`), nil
	}))
	for range 2 {
		res := invoke(t, rt, `{}`)
		if res.Error == nil || !strings.Contains(res.Error.Message, `Lambda-Runtime-Deadline-Ms "soon" is not a time`) {
			t.Errorf("answer = %+v, want an error about the deadline", res)
		}
	}
	if called {
		t.Error("the handler ran without a deadline")
	}
}

func TestInitError(t *testing.T) {
	t.Parallel()
	rt := hooktest.NewRuntime(t)
	if err := hook.InitError(t.Context(), rt.Addr(), errors.New(`input "verify-url": required`)); err != nil {
		t.Fatal(err)
	}
	want := []hooktest.Error{{Message: `input "verify-url": required`, Type: "HookError", Header: "HookError"}}
	if diff := cmp.Diff(want, rt.InitErrors()); diff != "" {
		t.Errorf("init errors (-want +got):\n%s", diff)
	}
}
