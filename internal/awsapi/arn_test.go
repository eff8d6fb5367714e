package awsapi

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestParseARN(t *testing.T) {
	t.Parallel()
	const listener = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	cases := []struct {
		name, value, service string
		prefixes             []string
		wantErr              string // substring; "" means valid
	}{
		{name: "listener", value: listener, service: "elasticloadbalancing", prefixes: []string{"listener/"}},
		{name: "china", value: strings.Replace(listener, "arn:aws:", "arn:aws-cn:", 1), service: "elasticloadbalancing"},
		{name: "govcloud", value: strings.Replace(listener, "arn:aws:", "arn:aws-us-gov:", 1), service: "elasticloadbalancing"},
		{name: "empty", value: " ", service: "elasticloadbalancing", wantErr: "is empty"},
		{name: "not an ARN", value: "shop-listener", service: "elasticloadbalancing", wantErr: "is not an ARN"},
		{name: "partition", value: strings.Replace(listener, "arn:aws:", "arn:aws-xx:", 1), service: "elasticloadbalancing", wantErr: `partition "aws-xx"`},
		{name: "service", value: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", service: "elasticloadbalancing", wantErr: `service "ecs", not "elasticloadbalancing"`},
		{name: "region", value: "arn:aws:elasticloadbalancing::123456789012:listener/app/a/b/c", service: "elasticloadbalancing", wantErr: "no region"},
		{name: "account", value: "arn:aws:elasticloadbalancing:eu-west-1:12345:listener/app/a/b/c", service: "elasticloadbalancing", wantErr: "12-digit"},
		{name: "prefix", value: listener, service: "elasticloadbalancing", prefixes: []string{"targetgroup/"}, wantErr: "not a targetgroup"},
		{name: "rule is not a listener", value: strings.Replace(listener, ":listener/", ":listener-rule/", 1) + "/9683b2d02a6cabee", service: "elasticloadbalancing", prefixes: []string{"listener/"}, wantErr: "not a listener"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := ParseARN("listener-arn", tc.value, tc.service, tc.prefixes...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseARN(%q) = %v, want no error", tc.value, err)
				}
				if got, want := a.Service, tc.service; got != want {
					t.Errorf("service: got %q, want %q", got, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseARN(%q) = %v, want an error containing %q", tc.value, err, tc.wantErr)
			}
			var ae *ARNError
			if !errors.As(err, &ae) || ae.Input != "listener-arn" {
				t.Errorf("error %v does not name the input", err)
			}
			if !strings.HasPrefix(err.Error(), "listener-arn ") {
				t.Errorf("error %q does not start with the input's name", err)
			}
		})
	}
}

func TestInterval(t *testing.T) {
	t.Parallel()
	cases := []struct {
		base, lo, hi int64
	}{
		{base: 0, lo: int64(DefaultPoll) * 8 / 10, hi: int64(DefaultPoll) * 12 / 10},
		{base: 1000, lo: 800, hi: 1200},
	}
	for _, tc := range cases {
		seen := map[int64]bool{}
		for range 200 {
			got := int64(Interval(time.Duration(tc.base)))
			if got < tc.lo || got > tc.hi {
				t.Fatalf("Interval(%d) = %d, want within [%d, %d]", tc.base, got, tc.lo, tc.hi)
			}
			seen[got] = true
		}
		if len(seen) < 2 {
			t.Errorf("Interval(%d) has no jitter", tc.base)
		}
	}
}

func TestErrorClassification(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		err      error
		throttle bool
		code     string
	}{
		{name: "elbv2 throttling", err: &smithy.GenericAPIError{Code: "Throttling"}, throttle: true, code: "Throttling"},
		{name: "ecs throttling wrapped", err: &smithy.OperationError{ServiceID: "ECS", OperationName: "DescribeServices", Err: &smithy.GenericAPIError{Code: "ThrottlingException"}}, throttle: true, code: "ThrottlingException"},
		{name: "not found", err: &smithy.GenericAPIError{Code: "ListenerNotFound"}, code: "ListenerNotFound"},
		{name: "plain", err: errors.New("boom")},
		{name: "nil"},
	}
	for _, tc := range cases {
		if got := IsThrottle(tc.err); got != tc.throttle {
			t.Errorf("%s: IsThrottle = %v, want %v", tc.name, got, tc.throttle)
		}
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("%s: ErrorCode = %q, want %q", tc.name, got, tc.code)
		}
		if tc.code != "" && !HasCode(tc.err, "Other", tc.code) {
			t.Errorf("%s: HasCode false", tc.name)
		}
	}
}
