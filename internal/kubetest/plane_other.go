//go:build !linux

package kubetest

import "syscall"

// dieWithParent: only Linux can tie a child's life to its parent's; the
// test's cleanups stop the plane elsewhere.
func dieWithParent() *syscall.SysProcAttr { return nil }
