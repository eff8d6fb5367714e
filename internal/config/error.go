package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Error is a bad input. It names the input as the user wrote it in the
// workflow (kebab-case) so the message points at the line to fix.
type Error struct {
	Input string
	Msg   string
}

func (e *Error) Error() string {
	msg := e.Msg
	if len(msg) > maxMsg {
		msg = strings.ToValidUTF8(msg[:maxMsg], "") + "... (cut)"
	}
	return fmt.Sprintf("input %q: %s", e.Input, msg)
}

// Errorf returns an *Error for input. A string argument, the value of an
// input as a rule, is cut to maxQuoted bytes: an error quotes a bad value
// so the user can find it, and a 100 KB value pasted by mistake must not
// make a 200 KB line of every log and annotation. A value of a named
// string type (a command.Name) is cut as a string is.
func Errorf(input, format string, args ...any) error {
	cut := make([]any, len(args))
	for i, a := range args {
		if v := reflect.ValueOf(a); v.Kind() == reflect.String {
			if s, ok := a.(fmt.Stringer); ok {
				a = Cut(s.String())
			} else {
				a = Cut(v.String())
			}
		}
		cut[i] = a
	}
	return &Error{Input: input, Msg: fmt.Sprintf(format, cut...)}
}

// maxQuoted is how much of a value an error quotes.
const maxQuoted = 200

// maxMsg bounds a whole message, whatever it quotes.
const maxMsg = 2000

// Cut returns s, or its first maxQuoted bytes and how long it is.
func Cut(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes in all)", strings.ToValidUTF8(s[:maxQuoted], ""), len(s))
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
