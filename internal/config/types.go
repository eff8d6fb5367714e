package config

import (
	"fmt"
	"strings"
	"time"
)

// valueError is returned by the decoders below; Load turns it into an
// *Error naming the input being decoded.
type valueError struct {
	value string
	want  string
}

func (e *valueError) Error() string { return fmt.Sprintf("%q is not %s", e.value, e.want) }

// Duration is an input in Go duration syntax (90s, 10m, 1h30m).
type Duration time.Duration

// EnvDecode implements envconfig.Decoder.
func (d *Duration) EnvDecode(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		*d = 0
		return nil
	}
	p, err := time.ParseDuration(v)
	if err != nil || p < 0 {
		return &valueError{value: v, want: "a duration, e.g. 90s or 10m"}
	}
	*d = Duration(p)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Bool is an input that is true or false. Anything else is an error rather
// than a silent false: "yes" in a workflow should not quietly mean no.
type Bool bool

// EnvDecode implements envconfig.Decoder.
func (b *Bool) EnvDecode(v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		*b = true
	case "false", "":
		*b = false
	default:
		return &valueError{value: v, want: "a boolean, use true or false"}
	}
	return nil
}

// List is an input holding several values separated by commas or newlines,
// so that both `a,b` and a YAML block scalar work.
type List []string

// EnvDecode implements envconfig.Decoder.
func (l *List) EnvDecode(v string) error {
	*l = nil
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			*l = append(*l, f)
		}
	}
	return nil
}
