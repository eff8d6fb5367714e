// Package platform declares where colors run: a Kubernetes Deployment or
// an ECS service per color. The deploy steps use only this interface; the
// implementations live in the sub-packages.
package platform

import (
	"context"
	"errors"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/color"
)

// ErrNotReady is returned by Wait when a color will not become ready: its
// rollout failed or the deadline passed. The wrapping error says why.
var ErrNotReady = errors.New("not ready")

// Release is what a color runs and where it came from. It is written on
// the color's resources so that status and history can read it back from
// the live system.
type Release struct {
	Image      string
	Digest     string
	GitSHA     string
	RunURL     string
	DeployedAt time.Time
}

// ColorState is what one color runs, read from the live system.
type ColorState struct {
	Color   color.Color
	Exists  bool
	Release Release
	// Desired is the replica (task) count asked for; Ready those that
	// pass their readiness checks; Updated those of the current revision.
	Desired, Updated, Ready, Available int32
	// Restarts counts container restarts of the color's current pods, so
	// that a bake can tell a crash loop from a healthy color.
	Restarts int32
	// Healthy is the platform's own verdict that every replica of the
	// current revision is ready and the rollout is complete.
	Healthy bool
	// OutOfService is set when a load balancer holds every replica out of
	// service and does not health-check them (HAProxy's maintenance): not
	// Healthy, but for want of checks rather than by failing them.
	OutOfService bool
	Created      time.Time
	// Spec fingerprints what the color is made to run (the pod template
	// of a Deployment, the task definition revision of an ECS service),
	// not how many replicas: equal Specs mean nobody changed the color's
	// workload in between. Empty when the color does not exist.
	Spec string
}

// Platform runs the two colors of one application.
type Platform interface {
	// Describe reads what runs in color c now.
	Describe(ctx context.Context, c color.Color) (ColorState, error)
	// Deploy makes color c run release r with the given number of
	// replicas (0 means the count the manifest or current spec says). It
	// does not wait.
	Deploy(ctx context.Context, c color.Color, r Release, replicas int32) error
	// Wait blocks until color c is Healthy. It returns an error wrapping
	// ErrNotReady with what it last saw when the rollout cannot finish or
	// ctx's deadline passes. progress receives a line now and then.
	Wait(ctx context.Context, c color.Color, progress func(string)) error
	// Scale sets the replica count of color c without changing what it runs.
	Scale(ctx context.Context, c color.Color, replicas int32) error
}
