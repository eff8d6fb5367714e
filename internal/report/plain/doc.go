// Package plain reports a run as readable text, for any CI other than
// GitHub Actions and for a terminal: a line as each step starts and ends,
// prefixed warnings and errors, a summary block at the end, and optionally
// a JSON result file that later pipeline stages can read.
//
// No runner masks credentials here, so the reporter does: every secret
// passed to Mask is replaced with *** in all it writes, the result file
// included.
package plain
