package awsapi

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// ErrorCode returns the AWS error code carried by err (ListenerNotFound,
// ThrottlingException, ...), or "" when err is not an AWS API error.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// HasCode reports whether err carries one of the AWS error codes.
func HasCode(err error, codes ...string) bool {
	code := ErrorCode(err)
	for _, c := range codes {
		if code != "" && code == c {
			return true
		}
	}
	return false
}

// IsThrottle reports whether err is AWS refusing a request for its rate
// (Throttling, ThrottlingException, ...), by the SDK's own list. The SDK
// has already retried such a call by the time its error reaches us.
func IsThrottle(err error) bool {
	_, ok := retry.DefaultThrottleErrorCodes[ErrorCode(err)]
	return ok
}
