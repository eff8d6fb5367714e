package hosts

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
	"github.com/bluegreen-dev/bluegreen-action/internal/localcmd"
	"github.com/bluegreen-dev/bluegreen-action/internal/platform"
)

// Deploy runs the deploy command for color c with release r and waits for
// it to end. Its output goes to the log line by line as it comes; a
// non-zero exit is an error with its last lines. replicas is ignored: the
// color has the machines it has.
func (p *Platform) Deploy(ctx context.Context, c color.Color, r platform.Release, _ int32) error {
	p.mu.Lock()
	p.wanted[c] = r.Image
	p.mu.Unlock()
	if len(p.cfg.DeployCommand) == 0 {
		return errors.New("deploy-command is required with platform hosts")
	}
	env := append(append([]string(nil), p.env...), Env(p.cfg.App, c, r.Image)...)
	if err := localcmd.Run(ctx, p.cfg.DeployCommand, env, p.log); err != nil {
		return fmt.Errorf("deploy-command for %s: %w", c, err)
	}
	// The load balancer's verdict on these servers predates the deploy:
	// a server restarted on a release that fails its checks still reads
	// UP until enough checks failed. Only checks made from now on count.
	if rc, ok := p.cfg.Fleet.(Rechecker); ok {
		if err := rc.Recheck(ctx, c); err != nil {
			return fmt.Errorf("after deploying to %s: %w", c, err)
		}
	}
	return nil
}

// Env is what a command learns of the release it acts on.
func Env(app string, c color.Color, image string) []string {
	return []string{"BLUEGREEN_APP=" + app, "BLUEGREEN_COLOR=" + c.String(), "BLUEGREEN_IMAGE=" + image}
}
