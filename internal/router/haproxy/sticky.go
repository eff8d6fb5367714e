package haproxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrNoCookies is returned by CheckCookies when the backend does not keep
// clients on a server by cookie.
var ErrNoCookies = errors.New("the backend has no cookie persistence")

// CheckCookies proves that the backend keeps a client on the server its
// cookie names, as sticky sessions need: the backend has a cookie and
// every server of a color has a value of it. The error says which lines
// of haproxy.cfg are missing.
func (r *Router) CheckCookies(ctx context.Context) error {
	p, err := r.cookies(ctx)
	if err != nil {
		return err
	}
	if p.name == "" {
		return fmt.Errorf("%w: backend %q has no \"cookie\" line; add e.g. \"cookie SRV insert indirect nocache\" to it in haproxy.cfg, and \"cookie <value>\" to each of its server lines", ErrNoCookies, r.backend)
	}
	var bare []string
	for name, value := range p.servers {
		if _, ok := colorOf(name); ok && value == "" {
			bare = append(bare, name)
		}
	}
	if len(bare) > 0 {
		slices.Sort(bare)
		return fmt.Errorf("%w: in backend %q, %s %s %s no cookie value; give each server line its own \"cookie <value>\" in haproxy.cfg, e.g. \"server %s ... cookie %s\"",
			ErrNoCookies, r.backend, plural(len(bare), "server", "servers"), strings.Join(bare, ", "), plural(len(bare), "has", "have"), bare[0], bare[0])
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Warning tells, after a split when sticky sessions were asked, that
// HAProxy's own cookie settings decide how long they last: the Runtime
// API cannot set a cookie's lifetime.
func (r *Router) Warning() string {
	if r.sticky <= 0 || !r.split {
		return ""
	}
	return fmt.Sprintf("sticky sessions on backend %q last as long as its cookie in haproxy.cfg says (maxidle/maxlife on its \"cookie\" line; a browser session when neither is set), not sticky-duration %s: HAProxy's Runtime API cannot set a cookie's lifetime", r.backend, fmtDuration(r.sticky))
}

// fmtDuration writes 1h for 1h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
