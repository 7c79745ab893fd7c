package clustertest

import "syscall"

// The servers die with the test binary, even when it is killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
