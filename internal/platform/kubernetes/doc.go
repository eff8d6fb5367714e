// Package kubernetes runs the two colors of an application as two
// Deployments, <app>-blue and <app>-green, in one namespace, each with a
// per-color Service for routers that address colors by Service (Gateway
// API). Which color receives production traffic is the router's business.
package kubernetes
