// Package haproxy moves traffic between colors through HAProxy's Runtime
// API. The servers of one backend belong to the color their name starts
// with (blue1, green-a, ...); the live color is the one whose servers carry
// weight, and a switch sets weights: the new color's servers to their full
// weight first, then the old ones to 0, so that at no moment is no server
// weighted. The old color stays up at weight 0 for an instant rollback.
//
// Cookie persistence ("cookie SRV insert indirect nocache" on the backend,
// "cookie b1" on each server) changes that, as HAProxy 2.6 behaves:
//
//   - A server at weight 0, or in drain, still takes every client whose
//     cookie names it. Weights alone would leave those clients on the old
//     color while the backend reads 0% there.
//   - A server in maintenance takes no traffic at all: a client whose
//     cookie names it is balanced over the servers in service and given
//     one of their cookies. So on such a backend a color at 0% is put in
//     maintenance once its weights are down, and taken out of it before
//     it gets traffic again. Read counts only servers in service.
//   - HAProxy does not health-check a server in maintenance, and takes a
//     server out of maintenance as up at once, before any check. The
//     health of a color in maintenance is therefore unknown: it does not
//     read as up (Verify fails, the hosts platform sees it not ready), and
//     Recheck, which a deploy or a rollback to that color calls, puts it
//     back in service and down together, so that only checks from then on
//     bring it up. A rollback to it waits for those checks rather than
//     being one write.
//   - From those checks until the switch (and while a prepared release
//     waits for its switch) the color is in service at weight 0, so a
//     client still holding a cookie from when that color last served, and
//     not back since, reaches it. maxidle/maxlife bound how old such a
//     cookie can be.
//   - "option persist" makes HAProxy send cookie clients even to a server
//     in maintenance; a backend with it cannot be switched cleanly.
//   - The cookie's lifetime (maxidle, maxlife) is haproxy.cfg's: the
//     Runtime API can neither read nor set it.
//
// Backends without a cookie keep the old color in service at weight 0,
// health-checked. Persistence by stick table is not seen by the router.
//
// The Runtime API is HAProxy's stats socket at admin level, reached over
// TCP (host:port) or a unix socket (unix:/path). Every command opens its
// own connection: HAProxy answers one command line and closes it.
package haproxy
