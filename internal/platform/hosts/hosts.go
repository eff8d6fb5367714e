// Package hosts runs the colors on machines bluegreen does not manage:
// containers or VMs behind a load balancer. A user's deploy command puts
// a release on a color's machines; which release each machine runs is
// read from the machine itself (GET <version-path>), and whether it may
// take traffic from the load balancer's own health checks.
package hosts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// Server is one machine of a color, as the load balancer sees it.
type Server struct {
	Name string
	// Addr is host:port, where the machine answers HTTP itself.
	Addr string
	// Up is the load balancer's verdict from its health checks; State
	// says why not, for messages.
	Up    bool
	State string
	// OutOfService is set when the load balancer holds the server out of
	// service and does not check it, so that Up says nothing of its
	// health.
	OutOfService bool
}

// Fleet lists the machines of a color: the servers of the load balancer.
type Fleet interface {
	Servers(ctx context.Context, c color.Color) ([]Server, error)
}

// Rechecker is a Fleet that can make the load balancer judge a color's
// servers afresh: until their next health checks pass they count as down.
type Rechecker interface {
	Recheck(ctx context.Context, c color.Color) error
}

// Config is what the platform needs.
type Config struct {
	Fleet Fleet
	App   string
	// DeployCommand puts a release on a color's machines; it runs with
	// BLUEGREEN_APP, BLUEGREEN_COLOR and BLUEGREEN_IMAGE set.
	DeployCommand []string
	// VersionPath is where every machine answers the release it runs.
	VersionPath string
}

// Platform is the hosts platform.
type Platform struct {
	cfg    Config
	client *http.Client
	poll   time.Duration
	log    func(string)
	env    []string

	mu     sync.Mutex
	wanted map[color.Color]string
}

var _ platform.Platform = (*Platform)(nil)

// Option tunes a Platform.
type Option func(*Platform)

// WithPoll sets how often Wait looks again (1s by default).
func WithPoll(d time.Duration) Option { return func(p *Platform) { p.poll = d } }

// WithLog sends each line the deploy command prints to log.
func WithLog(log func(string)) Option { return func(p *Platform) { p.log = log } }

// WithClient sets the HTTP client of version reads (2s timeout by default).
func WithClient(c *http.Client) Option { return func(p *Platform) { p.client = c } }

// WithEnv adds variables to the deploy command's environment, beside the
// process's own and the BLUEGREEN_* ones.
func WithEnv(env []string) Option { return func(p *Platform) { p.env = env } }

// New returns the platform of cfg.
func New(cfg Config, opts ...Option) (*Platform, error) {
	if cfg.Fleet == nil || cfg.App == "" {
		return nil, errors.New("hosts platform: Fleet and App are required")
	}
	if cfg.VersionPath == "" {
		cfg.VersionPath = "/version"
	}
	p := &Platform{cfg: cfg, client: &http.Client{Timeout: 2 * time.Second}, poll: time.Second,
		log: func(string) {}, wanted: map[color.Color]string{}}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// machine is what one server answered.
type machine struct {
	Server
	release string
	err     error
}

func (p *Platform) machines(ctx context.Context, c color.Color) ([]machine, error) {
	servers, err := p.cfg.Fleet.Servers(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]machine, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		out[i].Server = s
		wg.Add(1)
		go func(m *machine) {
			defer wg.Done()
			m.release, m.err = p.version(ctx, m.Addr)
		}(&out[i])
	}
	wg.Wait()
	return out, nil
}

// version asks a machine which release it runs.
func (p *Platform) version(ctx context.Context, addr string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+p.cfg.VersionPath, nil)
	if err != nil {
		return "", err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s answered %s", p.cfg.VersionPath, resp.Status)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	return strings.TrimSpace(line), nil
}

// Describe reads what color c runs: the release its machines answer, and
// how many of them are up in the load balancer's checks and answer the
// release wanted (the one this run deployed, else the one most answer).
func (p *Platform) Describe(ctx context.Context, c color.Color) (platform.ColorState, error) {
	ms, err := p.machines(ctx, c)
	if err != nil {
		return platform.ColorState{}, err
	}
	st := platform.ColorState{Color: c, Exists: len(ms) > 0, Desired: int32(len(ms))}
	want := p.want(c, ms)
	st.Release.Image = want
	for _, m := range ms {
		if m.err == nil && m.release == want {
			st.Updated++
			if m.Up {
				st.Ready++
			}
		}
	}
	st.Available = st.Ready
	st.OutOfService = len(ms) > 0
	for _, m := range ms {
		st.OutOfService = st.OutOfService && m.OutOfService
	}
	st.Spec = spec(ms)
	st.Healthy = st.Desired > 0 && st.Ready == st.Desired
	if w := p.wantedOf(c); w != "" && want != w {
		st.Healthy = false
	}
	return st, nil
}

// spec fingerprints what a color's machines run: each server's name and
// the release it answers, so that a release put on them by other means
// shows as a change.
func spec(ms []machine) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		r := m.release
		if m.err != nil {
			r = "?"
		}
		parts = append(parts, m.Name+"="+r)
	}
	sort.Strings(parts)
	return "releases:" + strings.Join(parts, ",")
}

// want is the release color c should answer: the one this run deployed,
// else the one most of its machines answer.
func (p *Platform) want(c color.Color, ms []machine) string {
	if w := p.wantedOf(c); w != "" {
		return w
	}
	count := map[string]int{}
	for _, m := range ms {
		if m.err == nil && m.release != "" {
			count[m.release]++
		}
	}
	best := ""
	for r, n := range count {
		if n > count[best] || (n == count[best] && r < best) {
			best = r
		}
	}
	return best
}

func (p *Platform) wantedOf(c color.Color) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wanted[c]
}

// Wait polls until every machine of c is up and answers the wanted
// release, or ctx ends: then the error says what each machine lacks.
func (p *Platform) Wait(ctx context.Context, c color.Color, progress func(string)) error {
	for {
		ms, err := p.machines(ctx, c)
		if err != nil && ctx.Err() == nil {
			return err
		}
		want := p.want(c, ms)
		var lacking []string
		for _, m := range ms {
			switch {
			case m.err != nil:
				lacking = append(lacking, fmt.Sprintf("%s (%s): %v", m.Name, m.Addr, m.err))
			case m.release != want:
				lacking = append(lacking, fmt.Sprintf("%s (%s) answers %q, not %q", m.Name, m.Addr, m.release, want))
			case !m.Up:
				lacking = append(lacking, fmt.Sprintf("%s (%s) is %s in the load balancer's health checks", m.Name, m.Addr, m.State))
			}
		}
		if err == nil && len(ms) > 0 && len(lacking) == 0 {
			// Without a preview route the new color is reached at its
			// servers' own addresses: say where.
			addrs := make([]string, len(ms))
			for i, m := range ms {
				addrs[i] = m.Name + " http://" + m.Addr
			}
			p.log(fmt.Sprintf("%s is ready and answers %s at %s", c, want, strings.Join(addrs, ", ")))
			return nil
		}
		if len(ms) == 0 && err == nil {
			lacking = []string{"the color has no server"}
		}
		sort.Strings(lacking)
		progress(fmt.Sprintf("%s: %d of %d servers not ready: %s", c, len(lacking), len(ms), strings.Join(lacking, "; ")))
		select {
		case <-ctx.Done():
			if err != nil {
				lacking = append(lacking, err.Error())
			}
			return fmt.Errorf("%s %w: %s (%v)", c, platform.ErrNotReady, strings.Join(lacking, "; "), context.Cause(ctx))
		case <-time.After(p.poll):
		}
	}
}

// FixedSize says why a color's size cannot change here, so that steps
// that would scale it can skip with that reason.
func (p *Platform) FixedSize() string {
	return "platform hosts does not start or stop machines"
}

// Scale cannot start or stop machines: they are not bluegreen's. Scaling
// a color up (a rollback to a color that is not ready) asks the load
// balancer, where it can, to judge its servers afresh: a color the load
// balancer holds out of service (HAProxy's maintenance, which it does not
// health-check) comes back under its checks, and Wait then waits for
// them. Elsewhere, and to scale down, it fails.
func (p *Platform) Scale(ctx context.Context, c color.Color, n int32) error {
	rc, ok := p.cfg.Fleet.(Rechecker)
	if n <= 0 || !ok {
		return errors.New("platform hosts does not start or stop machines; bring the color's servers up and retry")
	}
	if err := rc.Recheck(ctx, c); err != nil {
		return fmt.Errorf("putting the servers of %s under fresh health checks: %w", c, err)
	}
	return nil
}
