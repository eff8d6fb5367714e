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
	// lease is how long the claim stays valid unrenewed; zero in a claim
	// written before the field existed.
	lease time.Duration
	owner string
}

// String encodes v as the tag value. The owner comes last and is cut to
// fit, so that the token and times always survive whole.
func (v value) String() string {
	head := fmt.Sprintf("token=%s expires=%d since=%d lease=%d owner=", v.token, v.expires.Unix(), v.since.Unix(), int64(v.lease/time.Second))
	return head + truncate(v.owner, maxValue-len(head))
}

// parseValue decodes a tag value. A value it cannot read (written by hand,
// or by another tool) yields no token: a lapsed claim that Acquire may
// take over, as a Lease without a holder is. A value without the lease
// field (written by an earlier version) is read with a zero lease.
func parseValue(s string) value {
	f := strings.SplitN(s, " ", 5)
	if len(f) < 4 {
		return value{}
	}
	token, ok1 := strings.CutPrefix(f[0], "token=")
	expires, ok2 := unixField(f[1], "expires=")
	since, ok3 := unixField(f[2], "since=")
	var lease time.Duration
	rest := strings.Join(f[3:], " ")
	if secs, ok := intField(f[3], "lease="); ok && len(f) == 5 {
		lease, rest = time.Duration(secs)*time.Second, f[4]
	}
	owner, ok4 := strings.CutPrefix(rest, "owner=")
	if !ok1 || !ok2 || !ok3 || !ok4 || token == "" {
		return value{}
	}
	return value{token: token, expires: expires, since: since, lease: lease, owner: owner}
}

func intField(s, prefix string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil
}

func unixField(s, prefix string) (time.Time, bool) {
	n, ok := intField(s, prefix)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

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
