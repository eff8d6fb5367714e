package zerodowntime_test

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/router/haproxy"
)

type netListen struct{}

func (netListen) listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func runtimeDo(addr, cmd string) (string, error) {
	rt, err := haproxy.Dial(addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	return rt.Do(context.Background(), cmd)
}

// hasDown reports whether a "show servers state" answer has a server not
// running (srv_op_state, the sixth column, other than 2).
func hasDown(out string) bool {
	for _, line := range strings.Split(out, "\n")[2:] {
		f := strings.Fields(line)
		if len(f) > 5 && f[5] != "2" {
			return true
		}
	}
	return false
}
