package verify

import (
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Check is one HTTP check: a GET of URL whose answer passes when its status
// is in Status and its body matches Body.
type Check struct {
	URL string
	// Status is the accepted answer status; the zero Status accepts any 2xx.
	Status Status
	// Body is what the answer's body must hold; the zero Body accepts any.
	Body Body
	// Header is sent with the request. A "Host" entry sets the request's
	// host, e.g. to reach a virtual host through a load balancer's name.
	// Values are never printed.
	Header http.Header
	// Timeout bounds the retries of Checker.Run; zero makes one attempt.
	Timeout time.Duration
	// Interval is the pause between attempts; zero uses the Checker's.
	Interval time.Duration
}

// String describes c for a log line, without header values or the URL's
// password: GET https://shop.example.com/healthz (headers Authorization) -> 2xx containing "ok".
func (c Check) String() string {
	var b strings.Builder
	b.WriteString("GET ")
	b.WriteString(redact(c.URL))
	if len(c.Header) > 0 {
		names := make([]string, 0, len(c.Header))
		for name := range c.Header {
			names = append(names, name)
		}
		slices.Sort(names)
		fmt.Fprintf(&b, " (headers %s)", strings.Join(names, ", "))
	}
	b.WriteString(" -> ")
	b.WriteString(c.want())
	return b.String()
}

// want says what passes, for messages: `2xx`, `200,204 containing "ok"`.
func (c Check) want() string {
	w := c.Status.String()
	if !c.Body.IsZero() {
		w += " " + c.Body.String()
	}
	return w
}

// Status is a set of accepted HTTP status codes.
type Status struct {
	ranges [][2]int // inclusive; nil means 200-299
	text   string
}

// ParseStatus reads accepted statuses: a code (`200`), a range
// (`200-299`), a class (`2xx`), or several of them separated by commas
// (`200,204`, `200-299,304`). Empty accepts any 2xx.
func ParseStatus(s string) (Status, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Status{}, nil
	}
	var st Status
	var parts []string
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		r, err := parseStatusPart(part)
		if err != nil {
			return Status{}, err
		}
		st.ranges = append(st.ranges, r)
		parts = append(parts, part)
	}
	if len(st.ranges) == 0 {
		return Status{}, fmt.Errorf("%q holds no status code, e.g. 200 or 200-299 or 200,204", s)
	}
	st.text = strings.Join(parts, ",")
	return st, nil
}

func parseStatusPart(p string) ([2]int, error) {
	bad := fmt.Errorf("%q is not a status code from 100 to 599, a range (200-299) or a class (2xx)", p)
	if len(p) == 3 && strings.HasSuffix(p, "xx") && p[0] >= '1' && p[0] <= '5' {
		lo := int(p[0]-'0') * 100
		return [2]int{lo, lo + 99}, nil
	}
	lo, hi, isRange := strings.Cut(p, "-")
	l, err := statusCode(lo)
	if err != nil {
		return [2]int{}, bad
	}
	if !isRange {
		return [2]int{l, l}, nil
	}
	h, err := statusCode(hi)
	if err != nil {
		return [2]int{}, bad
	}
	if h < l {
		return [2]int{}, fmt.Errorf("%q is a range that ends before it starts", p)
	}
	return [2]int{l, h}, nil
}

func statusCode(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("not a status code: %q", s)
	}
	return n, nil
}

// Accepts reports whether code passes.
func (s Status) Accepts(code int) bool {
	if s.ranges == nil {
		return code >= 200 && code <= 299
	}
	for _, r := range s.ranges {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// acceptsRedirect reports whether some 3xx passes: then redirects are
// answers to judge, not to follow.
func (s Status) acceptsRedirect() bool {
	for _, r := range s.ranges {
		if r[0] <= 399 && r[1] >= 300 {
			return true
		}
	}
	return false
}

// String returns the statuses as written, or 2xx for the zero Status.
func (s Status) String() string {
	if s.ranges == nil {
		return "2xx"
	}
	return s.text
}

// Body is what a response body must hold.
type Body struct {
	substr string
	re     *regexp.Regexp
}

// ParseBody reads a body match: a regular expression (Go syntax) when
// written between slashes, `/"status":\s*"ok"/`, a plain substring
// otherwise. Empty accepts any body. (?i) in a regular expression ignores
// case.
func ParseBody(s string) (Body, error) {
	if len(s) >= 3 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return Body{}, fmt.Errorf("%q is not a valid regular expression: %w", s, err)
		}
		return Body{re: re}, nil
	}
	return Body{substr: s}, nil
}

// IsZero reports whether b accepts any body.
func (b Body) IsZero() bool { return b.re == nil && b.substr == "" }

// Matches reports whether body passes.
func (b Body) Matches(body []byte) bool {
	if b.re != nil {
		return b.re.Match(body)
	}
	return strings.Contains(string(body), b.substr)
}

// String says what b wants: containing "ok", matching /ok|up/.
func (b Body) String() string {
	switch {
	case b.re != nil:
		return "matching /" + b.re.String() + "/"
	case b.substr != "":
		return fmt.Sprintf("containing %q", b.substr)
	}
	return "with any body"
}

// ParseHeaders reads request headers, one `Name: value` a line. Empty
// lines are skipped. Errors name the line, never its text.
func ParseHeaders(s string) (http.Header, error) {
	h := http.Header{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("line %d is not `Name: value`", i+1)
		}
		if !ValidHeaderName(name) {
			// Not a name: the line may be a credential pasted alone
			// (`Bearer tok:en`), so it is not quoted.
			return nil, fmt.Errorf("line %d: the text before ':' is not a header name (the line is not shown: it may hold a credential)", i+1)
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}

// ValidHeaderName accepts an RFC 9110 token, a header's name.
func ValidHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

// redact returns u without a password, for messages.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		// The text may hold a password; config validation keeps this rare.
		return "(an invalid URL)"
	}
	return p.Redacted()
}
