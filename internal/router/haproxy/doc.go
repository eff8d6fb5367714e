// Package haproxy moves traffic between colors through HAProxy's Runtime
// API. The servers of one backend belong to the color their name starts
// with (blue1, green-a, ...); the live color is the one whose servers carry
// weight, and a switch sets weights: the new color's servers to their full
// weight first, then the old ones to 0, so that at no moment is no server
// weighted. The old color stays up at weight 0 for an instant rollback.
//
// The Runtime API is HAProxy's stats socket at admin level, reached over
// TCP (host:port) or a unix socket (unix:/path). Every command opens its
// own connection: HAProxy answers one command line and closes it.
package haproxy
