//go:build linux

package dynamolocal

import "syscall"

// setParentDeathSignal makes the kernel kill the JVM when the process that
// started it dies without calling Stop (a test binary killed by a timeout or
// SIGKILL), so no engine is left behind holding a port.
func setParentDeathSignal(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGKILL
}
