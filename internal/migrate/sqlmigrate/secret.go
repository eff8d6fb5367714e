package sqlmigrate

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// redacted replaces a secret in messages, as GitHub's log masking shows it.
const redacted = "***"

// secretsOf returns the strings of a database URL that must never be shown:
// the URL itself and its password in every spelling that can appear in a
// message (as written, percent-decoded, and passed as ?password=). It works
// on text that does not parse as a URL, too.
func secretsOf(raw string) []string {
	if raw == "" {
		return nil
	}
	secrets := []string{raw}
	add := func(s string) {
		if s == "" || s == raw {
			return
		}
		secrets = append(secrets, s)
		if d, err := url.PathUnescape(s); err == nil {
			secrets = append(secrets, d)
		}
		if d, err := url.QueryUnescape(s); err == nil {
			secrets = append(secrets, d)
		}
	}
	// The userinfo as written: between "://" and the last "@" of the authority.
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		authority := rest
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			authority = rest[:i]
		}
		// A password may hold an unescaped "/" or "?": then the last "@" of the whole
		// remainder still ends the userinfo.
		if i := strings.LastIndex(authority, "@"); i >= 0 {
			if _, pw, ok := strings.Cut(authority[:i], ":"); ok {
				add(pw)
			}
		} else if i := strings.LastIndex(rest, "@"); i >= 0 {
			if _, pw, ok := strings.Cut(rest[:i], ":"); ok {
				add(pw)
			}
		}
	}
	if u, err := url.Parse(raw); err == nil {
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
		for _, pw := range u.Query()["password"] {
			add(pw)
		}
	}
	// The query parameter as written, when the URL does not parse, and the keyword form
	// (host=h password=pw) that New refuses but must not echo either.
	for _, kv := range strings.FieldsFunc(raw, func(r rune) bool { return r == '?' || r == '&' || unicode.IsSpace(r) }) {
		if v, ok := strings.CutPrefix(kv, "password="); ok {
			add(v)
		}
	}
	// Longest first, so that no secret is left half-replaced by a shorter one inside it;
	// equal ones next to each other for Compact.
	slices.SortFunc(secrets, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	return slices.Compact(secrets)
}

// scrubber removes secrets from text.
type scrubber struct {
	secrets []string
}

func (s scrubber) scrub(text string) string {
	for _, secret := range s.secrets {
		text = strings.ReplaceAll(text, secret, redacted)
	}
	return text
}

// err returns err with its text scrubbed. The result answers errors.Is for
// err's chain (ErrLocked, context.Canceled) but does not unwrap: errors such
// as pgx's ConnectError and ParseConfigError carry the password in fields.
func (s scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	return &textError{msg: s.scrub(err.Error()), err: err}
}

// textError shows msg in place of err's text. It answers errors.Is for
// err's chain but does not unwrap to it.
type textError struct {
	msg string
	err error
}

func (e *textError) Error() string { return e.msg }

func (e *textError) Is(target error) bool { return errors.Is(e.err, target) }
