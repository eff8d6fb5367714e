// Package setup turns validated inputs into the systems a run talks to:
// it picks the platform, router, lock and history implementations (the
// only place that names them: one constructor per row of config's
// platform and router tables, in families.go) and does the read-only
// checks that need the target system, such as "does the namespace exist".
// Every error it returns before the first write is an input error.
package setup
