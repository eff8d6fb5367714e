package awsfake

import (
	"maps"
	"slices"
	"sync"

	"github.com/aws/smithy-go"
)

// recorder counts and records API calls, and throttles every Nth one.
type recorder struct {
	service  string // the SDK's service ID, as in its errors
	throttle string // the service's throttling error code

	mu            sync.Mutex
	calls         []string
	throttleEvery int
}

// call records op and returns the throttling error when it is due. The
// throttled call counts: AWS saw the request.
func (r *recorder) call(op string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, op)
	if r.throttleEvery > 0 && len(r.calls)%r.throttleEvery == 0 {
		return r.fail(op, &smithy.GenericAPIError{Code: r.throttle, Message: "Rate exceeded", Fault: smithy.FaultClient})
	}
	return nil
}

// fail wraps err as the SDK does: an operation error naming the service
// and operation around the API error.
func (r *recorder) fail(op string, err error) error {
	return &smithy.OperationError{ServiceID: r.service, OperationName: op, Err: err}
}

// ThrottleEvery makes every nth API call fail with the service's
// throttling error code; 0 turns throttling off.
func (r *recorder) ThrottleEvery(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.throttleEvery = n
}

// Calls returns the API operations called so far, in order.
func (r *recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Count returns how many times op was called; "" counts every call.
func (r *recorder) Count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if op == "" {
		return len(r.calls)
	}
	n := 0
	for _, c := range r.calls {
		if c == op {
			n++
		}
	}
	return n
}

// ByOperation returns the number of calls per operation.
func (r *recorder) ByOperation() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, c := range r.calls {
		out[c]++
	}
	return maps.Clone(out)
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
