// Package history declares the record of past runs of an application,
// kept in the target system so that every CI job can read it.
package history

import (
	"context"
	"time"

	"github.com/bluegreen-dev/bluegreen-action/internal/command"
)

// Limit is how many entries a store keeps; older ones are dropped.
const Limit = 50

// Entry is one run that changed, or tried to change, what is live.
type Entry struct {
	Time    time.Time    `json:"time"`
	Command command.Name `json:"command"`
	Color   string       `json:"color"`
	Image   string       `json:"image,omitempty"`
	Digest  string       `json:"digest,omitempty"`
	GitSHA  string       `json:"git_sha,omitempty"`
	RunURL  string       `json:"run_url,omitempty"`
	Result  string       `json:"result"`
	// Revision is what the color ran when the entry was written, as the
	// platform fingerprints it (platform.ColorState.Spec): a switch
	// compares it with the live color to tell whether the prepared color
	// was changed by hand since.
	Revision string `json:"revision,omitempty"`
}

// Results of the runs of a release that waits for approval.
const (
	// ResultPrepared marks a prepare that left its color warm behind the
	// preview, waiting for a switch or an abort.
	ResultPrepared = "prepared"
	// ResultAborted marks an abort that dropped the prepared release.
	ResultAborted = "aborted"
)

// Store keeps the history of one application, newest first.
type Store interface {
	Append(ctx context.Context, e Entry) error
	List(ctx context.Context) ([]Entry, error)
}

// Prepared returns the release waiting for a switch, or nil when none is:
// the newest prepare, unless a switch that succeeded, an abort, or a
// later prepare that failed came after it. entries are newest first, as
// Store.List returns them.
//
// The history is the record, and not a separate flag, so that every store
// keeps it the same way and every CI job reads it where the deploys are.
func Prepared(entries []Entry) *Entry {
	for i := range entries {
		e := &entries[i]
		switch {
		case e.Command == command.Prepare && e.Result == ResultPrepared:
			return e
		case e.Command == command.Prepare:
			return nil // a failed prepare may have replaced the idle color
		case e.Command == command.Switch && e.Result == "success":
			return nil
		case e.Command == command.Abort && e.Result == ResultAborted:
			return nil
		}
	}
	return nil
}
