//go:build linux

package latency

import (
	"golang.org/x/sys/unix"
)

// maxCPUs is the size of a Linux CPU set (CPU_SETSIZE).
const maxCPUs = 1024

// pinThread pins the calling OS thread (locked by the caller) to the
// highest-numbered CPU of its current affinity set and returns that CPU
// and a function that restores the previous set. Linux and Android only.
func pinThread() (cpu int, unpin func(), err error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return -1, nil, err
	}
	cpu = -1
	for i := range maxCPUs {
		if old.IsSet(i) {
			cpu = i
		}
	}
	if cpu < 0 {
		return -1, nil, errPinUnsupported
	}
	var one unix.CPUSet
	one.Set(cpu)
	// Pid 0 is the calling thread: affinity is per thread on Linux.
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return -1, nil, err
	}
	return cpu, func() { _ = unix.SchedSetaffinity(0, &old) }, nil
}
