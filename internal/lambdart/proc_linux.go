//go:build linux

package lambdart

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill the function when the test process
// that started it dies without calling Stop, so none is left behind.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
