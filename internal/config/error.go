package config

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a bad input. It names the input as the user wrote it in the
// workflow (kebab-case) so the message points at the line to fix.
type Error struct {
	Input string
	Msg   string
}

func (e *Error) Error() string { return fmt.Sprintf("input %q: %s", e.Input, e.Msg) }

// Errorf returns an *Error for input.
func Errorf(input, format string, args ...any) error {
	return &Error{Input: input, Msg: fmt.Sprintf(format, args...)}
}

// IsInputError reports whether err is, or wraps, a bad input: the run must
// stop before any write and exit with status 2.
func IsInputError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// InputName turns an environment key (WAIT_TIMEOUT) into the input name a
// workflow uses (wait-timeout).
func InputName(key string) string {
	return strings.ReplaceAll(strings.ToLower(key), "_", "-")
}
