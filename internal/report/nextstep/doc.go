// Package nextstep tells the user of a failed run what to do next, for the
// failures whose cause is known well enough to name a remedy: a cluster
// that refuses a permission, a server address nothing listens on, a deploy
// lock held by another run. Any other failure gets no advice rather than a
// guess.
package nextstep
