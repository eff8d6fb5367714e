// Package command names bluegreen's commands, so that code branches on a
// named constant the compiler checks rather than on a string it cannot,
// and says in one place which commands share a trait (those that deploy,
// those that watch a color under traffic, ...) instead of in a list per
// package.
package command

import "slices"

// Name is a command, as given in the `command` input or on the command
// line. The history kept in target systems stores it as its string.
type Name string

// The commands.
const (
	Deploy   Name = "deploy"
	Prepare  Name = "prepare"
	Switch   Name = "switch"
	Abort    Name = "abort"
	Split    Name = "split"
	Rollback Name = "rollback"
	Status   Name = "status"
	History  Name = "history"
	Promote  Name = "promote"
	Verify   Name = "verify"
)

// all is every command, in the order help lists them.
var all = []Name{Deploy, Prepare, Switch, Split, Abort, Status, Rollback, History, Promote, Verify}

// All returns every command, in the order help lists them.
func All() []Name { return slices.Clone(all) }

func (n Name) String() string { return string(n) }

// Known reports whether n is one of bluegreen's commands.
func (n Name) Known() bool { return slices.Contains(all, n) }

// Deploys reports whether the command starts a new image on the idle
// color (deploy, prepare, split): it needs an image, and the steps that
// come with one (promotion, SQL migrations, a manifest for a first deploy).
func (n Name) Deploys() bool { return n == Deploy || n == Prepare || n == Split }

// Standalone reports whether the command acts on an image or a URL rather
// than on the two colors of an app (promote, verify): it needs no app, no
// platform and no router.
func (n Name) Standalone() bool { return n == Promote || n == Verify }

// Gated reports whether the command watches a color under traffic, where
// the metric gates are read (deploy, switch, rollback, split).
func (n Name) Gated() bool { return n == Deploy || n == Switch || n == Rollback || n == Split }

// Approval reports whether the command is a step of a release that waits
// for approval (prepare, switch, abort): the prepared release is found in
// the history, so these need one kept in the target system.
func (n Name) Approval() bool { return n == Prepare || n == Switch || n == Abort }

// Recorded returns the commands a history entry can name: those that
// change, or try to change, what is live.
func Recorded() []Name { return []Name{Deploy, Rollback, Prepare, Switch, Abort, Split} }
