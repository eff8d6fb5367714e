// Package ecstags is bluegreen's vocabulary on ECS: the names of the tags
// it writes on task definitions, and the one rule that makes a value fit
// in a tag. Everything that writes or compares these tags (the platform,
// the history, the lock) uses it, so that a value written by one reads
// back equal in another.
package ecstags

import "regexp"

// Tags bluegreen writes on the task definitions it registers: the release
// is read back from them.
const (
	Image      = "bluegreen:image"
	Digest     = "bluegreen:digest"
	GitSHA     = "bluegreen:git-sha"
	RunURL     = "bluegreen:run-url"
	DeployedAt = "bluegreen:deployed-at"
	Color      = "bluegreen:color"
)

// Limits of ECS tags, in characters.
const (
	MaxKey   = 128
	MaxValue = 256
)

// forbidden matches what ECS refuses in a tag key or value: anything but
// letters, digits, spaces and _.:/=+-@.
var forbidden = regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]`)

// Clean replaces each character ECS refuses in a tag with _.
func Clean(v string) string { return forbidden.ReplaceAllString(v, "_") }

// Value makes v acceptable as an ECS tag value: cleaned, and cut to
// MaxValue bytes.
func Value(v string) string {
	v = Clean(v)
	if len(v) > MaxValue {
		v = v[:MaxValue]
	}
	return v
}

// ValidKey reports whether ECS accepts k as a tag key.
func ValidKey(k string) bool { return len(k) <= MaxKey && !forbidden.MatchString(k) }
