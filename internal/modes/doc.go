// Package modes holds the ways the binary runs: as a step of any CI
// (inputs from the environment, one command, a report), as command verify
// (the HTTP checks of verify-url alone), and as an AWS Lambda function
// answering lifecycle hooks. Each returns the process's exit status; main
// keeps the process's concerns (signals, help, version, exiting) and picks
// the mode.
package modes

// Exit statuses, the same in every mode.
const (
	ExitOK     = 0
	ExitFailed = 1 // the run failed or was rolled back
	ExitInput  = 2 // a bad input: nothing was written anywhere
)
