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
package gateway
