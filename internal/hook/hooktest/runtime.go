package hooktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxResponse is Lambda's limit on a synchronous invocation's response.
const maxResponse = 6 << 20

// Runtime is an in-process Lambda runtime API (version 2018-06-01). Invoke
// queues an event; the function under test takes it from
// GET /2018-06-01/runtime/invocation/next and answers with
// POST /2018-06-01/runtime/invocation/{id}/response or .../{id}/error.
// POST /2018-06-01/runtime/init/error is recorded too. An answer to an
// unknown or already answered request ID gets 400, as from Lambda.
type Runtime struct {
	srv *httptest.Server
	// Timeout is how long each invocation may run: its
	// Lambda-Runtime-Deadline-Ms. Set it before the first Invoke.
	Timeout time.Duration
	// DeadlineHeader, when set, is sent as Lambda-Runtime-Deadline-Ms
	// instead of the time Timeout gives, to try a malformed one. Set it
	// before the first Invoke.
	DeadlineHeader string

	queue  chan *call
	closed chan struct{}

	mu      sync.Mutex
	seq     int
	waiting map[string]*call
	inits   []Error
}

// Result is how the function answered one invocation: Response when it
// answered, Error when it reported a failure.
type Result struct {
	RequestID string
	Response  []byte
	Error     *Error
}

// Error is an error document the function posted.
type Error struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
	// Header is the Lambda-Runtime-Function-Error-Type header sent.
	Header string `json:"-"`
}

type call struct {
	id      string
	payload []byte
	done    chan Result
}

// NewRuntime starts a runtime API that closes when t ends.
func NewRuntime(t testing.TB) *Runtime {
	r := &Runtime{
		Timeout: time.Minute,
		queue:   make(chan *call, 16),
		closed:  make(chan struct{}),
		waiting: map[string]*call{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", r.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", r.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", r.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", r.initError)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(r.closed) // ends a waiting GET next, so that Close does not wait for it
		r.srv.Close()
	})
	return r
}

// Addr is the runtime API's host:port, the value of AWS_LAMBDA_RUNTIME_API.
func (r *Runtime) Addr() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// Invoke hands payload to the function and waits for its answer.
func (r *Runtime) Invoke(ctx context.Context, payload []byte) (Result, error) {
	r.mu.Lock()
	r.seq++
	c := &call{id: fmt.Sprintf("8476a536-e9f4-11e8-9739-%012d", r.seq), payload: payload, done: make(chan Result, 1)}
	r.mu.Unlock()
	select {
	case r.queue <- c:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("queueing invocation %s: %w", c.id, ctx.Err())
	}
	select {
	case res := <-c.done:
		return res, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("waiting for the answer to invocation %s: %w", c.id, ctx.Err())
	}
}

// InitErrors returns the errors the function reported at start.
func (r *Runtime) InitErrors() []Error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Error(nil), r.inits...)
}

func (r *Runtime) next(w http.ResponseWriter, req *http.Request) {
	var c *call
	select {
	case c = <-r.queue:
	case <-req.Context().Done():
		return
	case <-r.closed:
		http.Error(w, "runtime API shutting down", http.StatusInternalServerError)
		return
	}
	r.mu.Lock()
	r.waiting[c.id] = c
	r.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", c.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(r.Timeout).UnixMilli(), 10))
	if r.DeadlineHeader != "" {
		h.Set("Lambda-Runtime-Deadline-Ms", r.DeadlineHeader)
	}
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bluegreen-hook")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(c.payload)
}

func (r *Runtime) response(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxResponse+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if len(body) > maxResponse {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload exceeds 6 MB")
		return
	}
	r.finish(w, req.PathValue("id"), Result{Response: body})
}

func (r *Runtime) invocationError(w http.ResponseWriter, req *http.Request) {
	var e Error
	if err := json.NewDecoder(req.Body).Decode(&e); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "error document: "+err.Error())
		return
	}
	e.Header = req.Header.Get("Lambda-Runtime-Function-Error-Type")
	r.finish(w, req.PathValue("id"), Result{Error: &e})
}

func (r *Runtime) initError(w http.ResponseWriter, req *http.Request) {
	var e Error
	if err := json.NewDecoder(req.Body).Decode(&e); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequest", "error document: "+err.Error())
		return
	}
	e.Header = req.Header.Get("Lambda-Runtime-Function-Error-Type")
	r.mu.Lock()
	r.inits = append(r.inits, e)
	r.mu.Unlock()
	accepted(w)
}

// finish records the answer to invocation id, once.
func (r *Runtime) finish(w http.ResponseWriter, id string, res Result) {
	r.mu.Lock()
	c, ok := r.waiting[id]
	delete(r.waiting, id)
	r.mu.Unlock()
	if !ok {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	res.RequestID = id
	c.done <- res
	accepted(w)
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func apiError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}
