package haproxy

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

// Server is one server of the backend, as HAProxy sees it now.
type Server struct {
	Name  string
	Color color.Color
	// Addr is host:port, where the server itself answers.
	Addr string
	// Weight is the weight in force; InitialWeight the one the
	// configuration gives.
	Weight, InitialWeight int
	// Up is HAProxy's own verdict: running (its health checks pass, or it
	// has none) and not put in maintenance or drain by an operator.
	Up bool
	// State says why a server is not Up, for messages.
	State string
	// Checked is set when HAProxy health-checks the server.
	Checked bool
	// Maint is set when the server is in maintenance: it takes no
	// traffic at all, not even from a client whose cookie names it, and
	// HAProxy does not health-check it.
	Maint bool
}

// colorOf returns the color a server's name starts with.
func colorOf(name string) (color.Color, bool) {
	for _, c := range color.All {
		if strings.HasPrefix(name, string(c)) {
			return c, true
		}
	}
	return color.None, false
}

// opStates are the values of srv_op_state (HAProxy's SRV_ST_*).
var opStates = map[string]string{"0": "down", "1": "starting", "2": "up", "3": "stopping"}

// parseServersState reads the answer to "show servers state <backend>":
// a version line, a "# ..." header naming the columns, one line a server.
func parseServersState(out string) ([]Server, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "# ") {
		return nil, fmt.Errorf("unexpected answer %q", firstLine(out))
	}
	cols := map[string]int{}
	for i, name := range strings.Fields(strings.TrimPrefix(lines[1], "# ")) {
		cols[name] = i
	}
	for _, need := range []string{"srv_name", "srv_addr", "srv_port", "srv_op_state", "srv_admin_state", "srv_uweight", "srv_iweight"} {
		if _, ok := cols[need]; !ok {
			return nil, fmt.Errorf("the answer has no column %q", need)
		}
	}
	var servers []Server
	for _, line := range lines[2:] {
		f := strings.Fields(line)
		if len(f) < len(cols) {
			continue
		}
		get := func(col string) string { return f[cols[col]] }
		uw, err1 := strconv.Atoi(get("srv_uweight"))
		iw, err2 := strconv.Atoi(get("srv_iweight"))
		admin, err3 := strconv.Atoi(get("srv_admin_state"))
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("unexpected server line %q", line)
		}
		s := Server{
			Name: get("srv_name"), Addr: net.JoinHostPort(get("srv_addr"), get("srv_port")),
			Weight: uw, InitialWeight: iw, State: opStates[get("srv_op_state")],
		}
		s.Color, _ = colorOf(s.Name)
		if i, ok := cols["srv_check_state"]; ok {
			// CHK_ST_CONFIGURED: the server line asks for checks.
			st, _ := strconv.Atoi(f[i])
			s.Checked = st&0x2 != 0
		}
		switch {
		case admin&0x27 != 0: // SRV_ADMF_*MAINT: forced, inherited, configured or resolver maintenance
			s.State, s.Maint = "maintenance", true
		case admin&0x18 != 0: // SRV_ADMF_*DRAIN
			s.State = "drain"
		}
		s.Up = s.State == "up"
		servers = append(servers, s)
	}
	return servers, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// servers reads the servers of backend.
func (r *Router) servers(ctx context.Context, backend string) ([]Server, error) {
	out, err := r.api.Do(ctx, "show servers state "+backend)
	if err != nil {
		return nil, err
	}
	if strings.Contains(out, "Can't find backend") {
		return nil, fmt.Errorf("%w: HAProxy has no backend %q", ErrNoBackend, backend)
	}
	list, err := parseServersState(out)
	if err != nil {
		return nil, fmt.Errorf("reading the servers of backend %q: %w", backend, err)
	}
	return list, nil
}
