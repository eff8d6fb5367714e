// Package kubetest connects integration tests to a real Kubernetes control plane and gives each
// test a namespace of its own.
//
// The control plane is the one started by scripts/kube-local (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and a kwok-simulated node on 127.0.0.1). Pods are
// scheduled and become Ready, Deployments become Available, and the Gateway API CRDs are
// installed, but no container ever runs.
//
// Config finds the plane through the BLUEGREEN_TEST_KUBECONFIG environment variable, else
// through .kube-local/kubeconfig at the repository root. When there is neither, tests are
// skipped, unless BLUEGREEN_INTEGRATION=1, in which case they fail: CI must not pass by
// silently skipping.
//
// StartPlane starts a plane of one test's own from the same cached binaries, for what the shared
// plane must not change under the tests running beside it, such as its cluster-scoped CRDs (the
// Gateway API experimental channel, say).
//
//	func TestRollout(t *testing.T) {
//		cfg := kubetest.Config(t)
//		ns := kubetest.Namespace(t, cfg)
//		// create objects in ns with clients built from cfg
//	}
package kubetest
