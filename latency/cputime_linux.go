//go:build linux

package latency

import "golang.org/x/sys/unix"

// threadCPUTime returns the calling thread's CPU time in nanoseconds
// (CLOCK_THREAD_CPUTIME_ID), and false where the clock is unavailable.
func threadCPUTime() (int64, bool) {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0, false
	}
	return ts.Nano(), true
}
