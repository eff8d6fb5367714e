package kubetest

import "syscall"

// dieWithParent has the kernel kill a plane's process when the test
// process dies without running its cleanups (a panic, a -timeout), so
// that no plane outlives its test.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
