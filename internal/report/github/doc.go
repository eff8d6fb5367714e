// Package github reports a run to the GitHub Actions runner: each step is a
// collapsible log group, warnings and errors become annotations, credentials
// are masked with ::add-mask::, and Finish writes the action's outputs to
// $GITHUB_OUTPUT and a markdown summary to $GITHUB_STEP_SUMMARY.
//
// Workflow commands go through go-githubactions. The file commands do not:
// its SetOutput uses one fixed heredoc delimiter that a value can contain
// (letting a value forge other outputs), and it panics when the file is
// unset or cannot be written. This package writes those files itself.
package github
