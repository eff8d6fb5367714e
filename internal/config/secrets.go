package config

import (
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/verify"
)

// Secrets returns every credential the inputs hold, in every form it may
// take on the way out, so that a reporter masks them all before anything
// is written: a password inside verify-url, production-url or
// database-url, alone, URL-escaped and as the base64 user:password of the
// Basic Authorization header Go sends for it; the values of
// verify-headers, and any line of it that is not `Name: value` (a token
// pasted alone). Kubernetes and registry credentials are not inputs of
// their own: the code that reads them masks them (see kube.RestConfig).
func (c *Config) Secrets() []string {
	var out []string
	for _, raw := range []string{c.VerifyURL, c.ProductionURL, c.DatabaseURL} {
		out = append(out, urlSecrets(raw)...)
	}
	if c.DatabaseURL != "" {
		// A driver may quote the whole URL.
		out = append(out, c.DatabaseURL)
	}
	for line := range strings.SplitSeq(c.VerifyHeaders, "\n") {
		line = strings.TrimSpace(line)
		name, value, ok := strings.Cut(line, ":")
		switch {
		case line == "":
		case !ok || !verify.ValidHeaderName(strings.TrimSpace(name)):
			out = append(out, line)
		default:
			out = append(out, strings.TrimSpace(value))
		}
	}
	var kept []string
	for _, s := range out {
		if strings.TrimSpace(s) != "" {
			kept = append(kept, s)
		}
	}
	return kept
}

// urlSecrets returns the password of a URL's userinfo in its forms.
func urlSecrets(raw string) []string {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Unparsable: the userinfo, if any, is what precedes the last
		// '@' of the authority; mask all of it.
		if i := strings.Index(raw, "://"); i >= 0 {
			if at := strings.LastIndex(raw, "@"); at > i+3 {
				return []string{raw[i+3 : at]}
			}
		}
		return nil
	}
	if u.User == nil {
		return nil
	}
	p, ok := u.User.Password()
	if !ok || p == "" {
		return nil
	}
	userinfo := u.User.Username() + ":" + p
	return []string{
		p,
		url.QueryEscape(p),
		url.PathEscape(p),
		u.User.String(),
		base64.StdEncoding.EncodeToString([]byte(userinfo)),
	}
}

// RedactURL returns raw for a message without the password of its
// userinfo; a value that does not parse is not shown if it may hold one.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err == nil {
		return u.Redacted()
	}
	if strings.Contains(raw, "@") {
		return "(the value is not shown: it may hold a password)"
	}
	return raw
}
