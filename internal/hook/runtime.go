package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RuntimeAPIEnv is the variable through which Lambda gives a function the
// address (host:port) of its runtime API.
const RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// Detect reports whether the process runs as a Lambda function. getenv is
// os.Getenv in production.
func Detect(getenv func(string) string) bool {
	return getenv(RuntimeAPIEnv) != ""
}

// Handler answers one invocation: the event's JSON in, the answer's JSON
// out. An error is reported to Lambda as the invocation's failure. Its
// method set matches aws-lambda-go's lambda.Handler.
type Handler interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f HandlerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// Runtime API headers and paths (API version 2018-06-01).
const (
	apiVersion      = "2018-06-01"
	headerRequestID = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline  = "Lambda-Runtime-Deadline-Ms"
	headerErrorType = "Lambda-Runtime-Function-Error-Type"
)

// postTimeout bounds the report of an invocation's result, which is sent
// even when ctx has ended so that Lambda is not left waiting.
const postTimeout = 5 * time.Second

// errorBody is the runtime API's error document.
type errorBody struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// Serve takes invocations from the Lambda runtime API at api (the value of
// AWS_LAMBDA_RUNTIME_API) and answers each with h, one at a time, until ctx
// ends; it then returns nil. Each invocation's context has the deadline
// Lambda gives it. Serve returns an error when the runtime API fails, and
// the process should then exit so that Lambda starts a fresh one.
func Serve(ctx context.Context, api string, h Handler) error {
	rc := newRuntimeClient(api)
	for {
		inv, err := rc.next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		var out []byte
		herr := inv.bad
		if herr == nil {
			out, herr = invoke(ctx, h, inv)
		}
		// The answer goes out even when ctx has just ended.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postTimeout)
		if herr != nil {
			err = rc.postError(pctx, "invocation/"+inv.id+"/error", herr)
		} else {
			err = rc.post(pctx, "invocation/"+inv.id+"/response", "application/json", out, nil)
		}
		cancel()
		if err != nil {
			return err
		}
	}
}

// InitError reports to the runtime API at api that the function could not
// start (e.g. its configuration is invalid), so that the invocation that
// started it fails with err's message. The process should exit after.
func InitError(ctx context.Context, api string, err error) error {
	rc := newRuntimeClient(api)
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	return rc.postError(ctx, "init/error", err)
}

type invocation struct {
	id       string
	deadline time.Time
	payload  []byte
	// bad says why the invocation cannot be handled; it is answered
	// with this error.
	bad error
}

// invoke calls h with the invocation's deadline, turning a panic into an
// error so that one bad event does not end the function.
func invoke(ctx context.Context, h Handler, inv invocation) (out []byte, err error) {
	ctx, cancel := context.WithDeadline(ctx, inv.deadline)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("handling the invocation: panic: %v", p)
		}
	}()
	return h.Invoke(ctx, inv.payload)
}

type runtimeClient struct {
	base string
	http *http.Client
}

func newRuntimeClient(api string) *runtimeClient {
	// No timeout and no proxy: the API is local to the function and a
	// request for the next invocation waits as long as there is none.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	return &runtimeClient{
		base: "http://" + api + "/" + apiVersion + "/runtime/",
		http: &http.Client{Transport: tr},
	}
}

// next waits for the next invocation.
func (rc *runtimeClient) next(ctx context.Context) (invocation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rc.base+"invocation/next", nil)
	if err != nil {
		return invocation{}, fmt.Errorf("building the request for the next invocation: %w", err)
	}
	resp, err := rc.http.Do(req)
	if err != nil {
		return invocation{}, fmt.Errorf("getting the next invocation: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return invocation{}, fmt.Errorf("reading the next invocation: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return invocation{}, fmt.Errorf("getting the next invocation: runtime API answered %s: %s", resp.Status, short(body))
	}
	inv := invocation{id: resp.Header.Get(headerRequestID), payload: body}
	if inv.id == "" {
		return invocation{}, fmt.Errorf("getting the next invocation: no %s header", headerRequestID)
	}
	ms, err := strconv.ParseInt(resp.Header.Get(headerDeadline), 10, 64)
	if err != nil {
		// The invocation is known by its ID: it is answered, as failed,
		// rather than left for Lambda to time out.
		inv.bad = fmt.Errorf("invocation %s: %s %q is not a time in milliseconds", inv.id, headerDeadline, short([]byte(resp.Header.Get(headerDeadline))))
		return inv, nil
	}
	inv.deadline = time.UnixMilli(ms)
	return inv, nil
}

// postError reports err at path (invocation/<id>/error or init/error).
func (rc *runtimeClient) postError(ctx context.Context, path string, err error) error {
	typ := errorType(err)
	body, jerr := json.Marshal(errorBody{Message: err.Error(), Type: typ})
	if jerr != nil {
		return fmt.Errorf("encoding the error: %w", jerr)
	}
	return rc.post(ctx, path, "application/json", body, http.Header{headerErrorType: {typ}})
}

func (rc *runtimeClient) post(ctx context.Context, path, contentType string, body []byte, h http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rc.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the request to %s: %w", path, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := rc.http.Do(req)
	if err != nil {
		return fmt.Errorf("posting to %s: %w", path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("posting to %s: runtime API answered %s: %s", path, resp.Status, short(msg))
	}
	return nil
}

// errorType names the kind of err in Lambda's error document and logs.
func errorType(err error) string {
	if errors.Is(err, ErrUnknownEvent) {
		return "UnknownEvent"
	}
	return "HookError"
}

func short(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
