package awsapi

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts the AWS API requests made through the configurations it
// is attached to. It counts HTTP requests, retries included, because
// those are what AWS rate-limits. It is safe for concurrent use.
type Counter struct {
	mu    sync.Mutex
	total int
	byOp  map[string]int
}

// NewCounter returns a counter at zero.
func NewCounter() *Counter { return &Counter{byOp: map[string]int{}} }

// Attach makes every client built from cfg count its requests in c.
func (c *Counter) Attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, c.addMiddleware)
}

// counterID names the middleware in the SDK's stack.
const counterID = "bluegreen.CountRequests"

// addMiddleware puts the counter at the end of the Finalize step, after
// the SDK's retry middleware: it then runs once per attempt.
func (c *Counter) addMiddleware(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc(counterID,
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.add(middleware.GetOperationName(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *Counter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byOp == nil {
		c.byOp = map[string]int{}
	}
	c.total++
	c.byOp[op]++
}

// Count returns how many requests were made.
func (c *Counter) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// ByOperation returns the requests made per API operation
// (DescribeServices, ModifyListener, ...). The map is a copy.
func (c *Counter) ByOperation() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byOp)
}
