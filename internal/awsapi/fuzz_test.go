package awsapi_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsapi"
)

// FuzzParseARN: whatever a user writes where an ARN goes, ParseARN either
// returns an ARN that meets every constraint, read back exactly as
// written, or an *ARNError that names the input and the value.
func FuzzParseARN(f *testing.F) {
	const listener = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
	seeds := []struct{ input, value, service, prefix string }{
		{"listener-arn", listener, "elasticloadbalancing", "listener/"},
		{"listener-arn", strings.Replace(listener, "arn:aws:", "arn:aws-cn:", 1), "elasticloadbalancing", "listener/"},
		{"listener-arn", strings.Replace(listener, "arn:aws:", "arn:aws-us-gov:", 1), "elasticloadbalancing", ""},
		{"rule-arn", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee", "elasticloadbalancing", "listener-rule/"},
		{"target-group-blue", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/73e2d6bc24d8a067", "elasticloadbalancing", "targetgroup/"},
		{"", "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "ecs", "cluster/"},
		{"cluster", "arn:aws:ecs:us-east-1:123456789012:service/prod/shop", "ecs", "cluster/"},
		{"listener-arn", "arn:aws:elasticloadbalancing::123456789012:listener/app/a/b/c", "elasticloadbalancing", ""},
		{"listener-arn", "arn:aws:elasticloadbalancing:eu-west-1:12345:listener/app/a/b/c", "elasticloadbalancing", ""},
		{"listener-arn", "arn:aws-xx:elasticloadbalancing:eu-west-1:123456789012:listener/app/a/b/c", "elasticloadbalancing", ""},
		{"listener-arn", "shop-listener", "elasticloadbalancing", "listener/"},
		{"listener-arn", " ", "elasticloadbalancing", "listener/"},
		{"listener-arn", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:", "elasticloadbalancing", ""},
		{"listener-arn", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app:x:y", "elasticloadbalancing", "listener/"},
		{"listener-arn", "arn:aws:elasticloadbalancing:eu-west-1:１２３４５６７８９０１２:listener/app/a/b/c", "elasticloadbalancing", ""},
	}
	for _, s := range seeds {
		f.Add(s.input, s.value, s.service, s.prefix)
	}
	f.Fuzz(func(t *testing.T, input, value, service, prefix string) {
		var prefixes []string
		if prefix != "" {
			prefixes = []string{prefix}
		}
		a, err := awsapi.ParseARN(input, value, service, prefixes...)
		if err != nil {
			var ae *awsapi.ARNError
			if !errors.As(err, &ae) {
				t.Fatalf("ParseARN error %q is a %T, not an *ARNError", err, err)
			}
			if ae.Input != input || ae.Value != value {
				t.Errorf("ARNError names input %q, value %q; want %q, %q", ae.Input, ae.Value, input, value)
			}
			if msg := err.Error(); !strings.Contains(msg, strconv.Quote(value)) || !strings.HasPrefix(msg, input) {
				t.Errorf("error %q does not name the input %q and the value %q", msg, input, value)
			}
			return
		}
		switch a.Partition {
		case "aws", "aws-cn", "aws-us-gov":
		default:
			t.Errorf("ParseARN(%q) accepted partition %q", value, a.Partition)
		}
		if a.Service != service {
			t.Errorf("ParseARN(%q) has service %q, want %q", value, a.Service, service)
		}
		if a.Region == "" {
			t.Errorf("ParseARN(%q) accepted an ARN without a region", value)
		}
		if len(a.AccountID) != 12 || strings.Trim(a.AccountID, "0123456789") != "" {
			t.Errorf("ParseARN(%q) accepted account %q, not 12 digits", value, a.AccountID)
		}
		if !strings.HasPrefix(a.Resource, prefix) {
			t.Errorf("ParseARN(%q) has resource %q, which does not start with %q", value, a.Resource, prefix)
		}
		// Nothing is lost or changed: the ARN used is the one written.
		if got := a.String(); got != value {
			t.Errorf("ParseARN(%q) reads back as %q", value, got)
		}
	})
}
