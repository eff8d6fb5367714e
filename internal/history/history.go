// Package history declares the record of past runs of an application,
// kept in the target system so that every CI job can read it.
package history

import (
	"context"
	"time"
)

// Limit is how many entries a store keeps; older ones are dropped.
const Limit = 50

// Entry is one run that changed, or tried to change, what is live.
type Entry struct {
	Time    time.Time `json:"time"`
	Command string    `json:"command"`
	Color   string    `json:"color"`
	Image   string    `json:"image,omitempty"`
	Digest  string    `json:"digest,omitempty"`
	GitSHA  string    `json:"git_sha,omitempty"`
	RunURL  string    `json:"run_url,omitempty"`
	Result  string    `json:"result"`
}

// Store keeps the history of one application, newest first.
type Store interface {
	Append(ctx context.Context, e Entry) error
	List(ctx context.Context) ([]Entry, error)
}
