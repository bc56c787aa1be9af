package kernels_test

import (
	"syscall"
	"unsafe"
)

// threadCPU returns the calling thread's CPU time in ns
// (CLOCK_THREAD_CPUTIME_ID), or -1.
func threadCPU() int64 {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return -1
	}
	return ts.Nano()
}
