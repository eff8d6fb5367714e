package awsapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// Defaults of LoadConfig.
const (
	// DefaultMaxAttempts bounds the attempts of one API call, the first
	// included. Throttling and 5xx responses are retried with backoff.
	DefaultMaxAttempts = 5
	// DefaultMaxBackoff caps the wait between two attempts.
	DefaultMaxBackoff = 20 * time.Second
	// DefaultHTTPTimeout bounds one HTTP exchange, so that a connection
	// that hangs is retried instead of stalling the run.
	DefaultHTTPTimeout = 30 * time.Second
	// operationAttempts is how many whole HTTP timeouts one API call may
	// spend, its retries included: an endpoint that accepts connections
	// and never answers would otherwise cost every attempt its full
	// timeout plus backoff (5 x 30 s and more), and hold a run for minutes
	// before it fails. Throttling and 5xx answers come back fast and keep
	// their retries within the same bound.
	operationAttempts = 2
)

type options struct {
	counter     *Counter
	endpoint    string
	creds       aws.CredentialsProvider
	maxAttempts int
	maxBackoff  time.Duration
	timeout     time.Duration
	load        []func(*config.LoadOptions) error
}

// Option tunes LoadConfig.
type Option func(*options)

// WithCounter attaches c: every HTTP request made with the configuration
// is counted.
func WithCounter(c *Counter) Option { return func(o *options) { o.counter = c } }

// WithEndpoint sends every request to url instead of the regional AWS
// endpoint: a VPC endpoint, a proxy, or a test server.
func WithEndpoint(url string) Option { return func(o *options) { o.endpoint = url } }

// WithCredentials uses p instead of the default credential chain.
func WithCredentials(p aws.CredentialsProvider) Option { return func(o *options) { o.creds = p } }

// WithRetry sets the attempts per call (the first included) and the
// longest wait between two attempts. Zero keeps a default.
func WithRetry(maxAttempts int, maxBackoff time.Duration) Option {
	return func(o *options) {
		if maxAttempts > 0 {
			o.maxAttempts = maxAttempts
		}
		if maxBackoff > 0 {
			o.maxBackoff = maxBackoff
		}
	}
}

// WithHTTPTimeout bounds one HTTP exchange; default DefaultHTTPTimeout,
// which zero or less keeps.
func WithHTTPTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithLoadOptions passes options through to config.LoadDefaultConfig.
func WithLoadOptions(fns ...func(*config.LoadOptions) error) Option {
	return func(o *options) { o.load = append(o.load, fns...) }
}

// LoadConfig loads the SDK configuration the usual way (environment,
// shared files, web identity, instance or container role) for region;
// an empty region falls back to AWS_REGION and the shared config.
//
// The HTTP client is the SDK's own buildable client, only given a
// timeout: config.LoadDefaultConfig adds AWS_CA_BUNDLE to it, which it
// cannot do to an arbitrary *http.Client (it fails with "unable to add
// custom RootCAs HTTPClient").
func LoadConfig(ctx context.Context, region string, opts ...Option) (aws.Config, error) {
	o := options{maxAttempts: DefaultMaxAttempts, maxBackoff: DefaultMaxBackoff, timeout: DefaultHTTPTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	load := []func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(o.timeout)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.maxAttempts
				so.MaxBackoff = o.maxBackoff
			})
		}),
	}
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	if o.endpoint != "" {
		load = append(load, config.WithBaseEndpoint(o.endpoint))
	}
	if o.creds != nil {
		load = append(load, config.WithCredentialsProvider(o.creds))
	}
	load = append(load, o.load...)
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("loading the AWS configuration: no region: set the region input or AWS_REGION")
	}
	if o.counter != nil {
		o.counter.Attach(&cfg)
	}
	cfg.APIOptions = append(cfg.APIOptions, boundOperation(operationAttempts*o.timeout))
	return cfg, nil
}

// boundOperation bounds one API call, every retry of it included, to d:
// it runs at the Initialize step, before the retry loop of the Finalize
// step, so the deadline covers all attempts and the waits between them.
func boundOperation(d time.Duration) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bluegreenOperationTimeout",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				cause := fmt.Errorf("no answer within %s, retries included (request-timeout): %w", d, context.DeadlineExceeded)
				ctx, cancel := context.WithTimeoutCause(ctx, d, cause)
				defer cancel()
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil && context.Cause(ctx) == cause {
					err = fmt.Errorf("%w: %w", cause, err)
				}
				return out, md, err
			}), middleware.Before)
	}
}
