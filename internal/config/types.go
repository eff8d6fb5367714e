package config

import (
	"encoding/json"
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

func (e *valueError) Error() string { return fmt.Sprintf("%q is not %s", Cut(e.value), e.want) }

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

// Command is an input holding a command to run: a JSON array of words
// (["bin/migrate", "up"]) or words separated by spaces, where single or
// double quotes keep spaces inside a word. No shell is involved: the
// image has none.
type Command []string

// EnvDecode implements envconfig.Decoder.
func (c *Command) EnvDecode(v string) error {
	v = strings.TrimSpace(v)
	*c = nil
	if v == "" {
		return nil
	}
	if strings.HasPrefix(v, "[") {
		var words []string
		if err := json.Unmarshal([]byte(v), &words); err != nil || len(words) == 0 {
			return &valueError{value: v, want: `a command: a JSON array of strings like ["bin/migrate","up"], or words like bin/migrate up`}
		}
		*c = words
		return nil
	}
	var word strings.Builder
	var quote rune
	inWord := false
	for _, r := range v {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				*c = append(*c, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return &valueError{value: v, want: "a command with its quotes closed"}
	}
	if inWord {
		*c = append(*c, word.String())
	}
	return nil
}
