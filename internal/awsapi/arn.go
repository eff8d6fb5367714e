package awsapi

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// partitions are those bluegreen accepts ARNs from.
var partitions = []string{"aws", "aws-cn", "aws-us-gov"}

// ARNError is an ARN that ParseARN refused. Input names where the value
// came from, as the user wrote it (listener-arn), so that the caller can
// report it as a bad input.
type ARNError struct {
	Input  string
	Value  string
	Reason string
}

func (e *ARNError) Error() string {
	if e.Input == "" {
		return fmt.Sprintf("%q: %s", e.Value, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s", e.Input, e.Value, e.Reason)
}

// ParseARN parses value, given as input, as the ARN of an AWS resource of
// service (elasticloadbalancing, ecs, ...). When prefixes are given, the
// resource part must start with one of them (listener/, targetgroup/).
// Errors are *ARNError.
func ParseARN(input, value, service string, prefixes ...string) (arn.ARN, error) {
	fail := func(format string, args ...any) (arn.ARN, error) {
		return arn.ARN{}, &ARNError{Input: input, Value: value, Reason: fmt.Sprintf(format, args...)}
	}
	want := fmt.Sprintf("arn:aws:%s:<region>:<account>:%s...", service, firstOr(prefixes, "<resource>"))
	if strings.TrimSpace(value) == "" {
		return fail("is empty; want an ARN like %s", want)
	}
	a, err := arn.Parse(value)
	if err != nil {
		return fail("is not an ARN (want %s): %v", want, err)
	}
	if !contains(partitions, a.Partition) {
		return fail("has partition %q, valid partitions are %q", a.Partition, partitions)
	}
	if a.Service != service {
		return fail("is an ARN of service %q, not %q (want %s)", a.Service, service, want)
	}
	if a.Region == "" {
		return fail("has no region")
	}
	if !isAccount(a.AccountID) {
		return fail("has account %q, not a 12-digit account ID", a.AccountID)
	}
	if len(prefixes) > 0 && !hasAnyPrefix(a.Resource, prefixes) {
		return fail("names resource %q, not a %s", a.Resource, strings.Join(trimSlash(prefixes), " or "))
	}
	return a, nil
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func trimSlash(s []string) []string {
	out := make([]string, len(s))
	for i, p := range s {
		out[i] = strings.TrimRight(p, "/")
	}
	return out
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
