// Package gateway switches traffic with the weights of a Gateway API
// HTTPRoute (gateway.networking.k8s.io/v1). Each color is a Service,
// "<app>-blue" and "<app>-green", named as a backendRef in the route's
// rules; the route itself, with its parents, hostnames and matches, is the
// user's and must exist before the first deploy.
//
// The route is read and written through the dynamic client, so the project
// needs no Gateway API Go module, and every change is one Update carrying
// the resourceVersion just read: an edit made by someone else in between
// is re-read, never overwritten.
//
// Session persistence (WithSessionPersistence) is written into every rule
// while traffic is split, and recorded in the route's
// PersistenceAnnotation. A write that sends all traffic to one color
// removes that persistence of bluegreen's, with or without the option, so
// that no client stays on the color left. A sessionPersistence the route's
// owner set, which may keep clients on one pod of a Service, is left
// alone then unless the option is given. The revert of a failed switch,
// a split written by the same router, puts back what that switch removed.
package gateway
