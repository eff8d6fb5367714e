// Package faults puts an unreliable network and API server between a test
// and a real Kubernetes API server: an in-process HTTPS reverse proxy that,
// for a share of the requests it forwards, answers 500 or 503, throttles
// with 429 and Retry-After, resets the connection before or after the
// server saw the request, adds a latency spike, or cuts a watch stream
// short.
//
// The client under test gets the proxy's rest.Config; the test checks
// what happened through its own client built from the original
// configuration, which never meets a fault.
//
//	p, err := faults.Start(faults.Config{Upstream: rc, Seed: seed, Rate: 0.1})
//	if err != nil {
//		t.Fatal(err)
//	}
//	defer p.Close()
//	run(p.Config()) // meets the faults
//	check(rc)       // does not
//
// Faults are drawn from a math/rand generator seeded with Seed and keyed by
// the request's method, path (with the namespace left out) and how many
// such requests came before it. The n-th update of a given Service meets
// the same fault in every run with the same seed, however the requests of
// other goroutines (renewals, watches, polls) interleave with it.
package faults
