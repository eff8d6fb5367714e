package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// ErrUnreachable is returned when the Runtime API does not answer: no
// process listens at its address, or the connection dropped mid-answer.
var ErrUnreachable = errors.New("HAProxy Runtime API unreachable")

// Runtime talks to one HAProxy's Runtime API.
type Runtime struct {
	network, address string
	timeout          time.Duration
}

// Dial returns a client of the Runtime API at addr: "host:port" or
// "unix:/path/to/socket". It does not connect; each command does.
func Dial(addr string, timeout time.Duration) (*Runtime, error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, fmt.Errorf("%q names no socket path, e.g. unix:/run/haproxy/admin.sock", addr)
		}
		return &Runtime{network: "unix", address: path, timeout: timeout}, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("%q is not host:port or unix:/path, e.g. 127.0.0.1:9999", addr)
	}
	return &Runtime{network: "tcp", address: addr, timeout: timeout}, nil
}

// String names the API's address, for messages.
func (r *Runtime) String() string {
	if r.network == "unix" {
		return "unix:" + r.address
	}
	return r.address
}

// Do runs one command and returns HAProxy's answer, without its trailing
// blank line. A command HAProxy refuses still answers (with a message such
// as "No such server."); callers judge the text.
func (r *Runtime) Do(ctx context.Context, command string) (string, error) {
	d := net.Dialer{Timeout: r.timeout}
	conn, err := d.DialContext(ctx, r.network, r.address)
	if err != nil {
		return "", fmt.Errorf("%w at %s: %v", ErrUnreachable, r, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(r.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, command+"\n"); err != nil {
		return "", fmt.Errorf("%w at %s: sending %q: %v", ErrUnreachable, r, command, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", fmt.Errorf("%w at %s: reading the answer to %q: %v", ErrUnreachable, r, command, err)
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// API runs Runtime API commands; *Runtime is the real one, and a test may
// wrap it to watch the commands go by.
type API interface {
	Do(ctx context.Context, command string) (string, error)
}

var _ API = (*Runtime)(nil)

// level returns the access level the API grants: user, operator or admin.
func level(ctx context.Context, api API) (string, error) {
	out, err := api.Do(ctx, "show cli level")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}
