// Package kube holds what the Kubernetes parts of bluegreen share: the
// names and labels of an application's colors, reading the user's
// manifest, and building a client configuration from the kubeconfig input.
package kube
