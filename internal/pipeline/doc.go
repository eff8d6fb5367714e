// Package pipeline runs an ordered list of steps: it times each one, skips
// the ones that say they do not apply, and when a step fails (or the run is
// cancelled) it reverts the completed steps in reverse order, up to the last
// step that committed the run.
//
// The engine knows nothing of blue/green; the steps in package deploy do.
package pipeline
