package ecstag

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxValue is ECS's limit on a tag value's length. ECS counts characters;
// counting bytes keeps within it whatever the owner holds.
const maxValue = 256

// value is a claim as stored in the tag. The zero value is no claim.
type value struct {
	token   string
	expires time.Time
	since   time.Time
	owner   string
}

// String encodes v as the tag value. The owner comes last and is cut to
// fit, so that the token and times always survive whole.
func (v value) String() string {
	head := fmt.Sprintf("token=%s expires=%d since=%d owner=", v.token, v.expires.Unix(), v.since.Unix())
	return head + truncate(v.owner, maxValue-len(head))
}

// parseValue decodes a tag value. A value it cannot read (written by hand,
// or by another tool) yields no token and no expiry: a lapsed claim that
// Acquire may take over, as a Lease without a renew time is.
func parseValue(s string) value {
	f := strings.SplitN(s, " ", 4)
	if len(f) != 4 {
		return value{}
	}
	token, ok1 := strings.CutPrefix(f[0], "token=")
	expires, ok2 := unixField(f[1], "expires=")
	since, ok3 := unixField(f[2], "since=")
	owner, ok4 := strings.CutPrefix(f[3], "owner=")
	if !ok1 || !ok2 || !ok3 || !ok4 || token == "" {
		return value{}
	}
	return value{token: token, expires: expires, since: since, owner: owner}
}

func unixField(s, prefix string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// live reports whether v is a claim that has not expired at now.
func (v value) live(now time.Time) bool { return v.token != "" && now.Before(v.expires) }

// holder names who holds the claim, for messages.
func (v value) holder() string {
	if v.token == "" {
		return "nobody (the tag is gone or unreadable)"
	}
	return strconv.Quote(v.owner)
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
