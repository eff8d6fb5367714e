// Package command names bluegreen's commands, so that code branches on a
// named constant the compiler checks rather than on a string it cannot.
package command

// Name is a command, as given in the `command` input or on the command
// line.
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

func (n Name) String() string { return string(n) }
