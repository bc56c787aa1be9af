//go:build !linux

package latency

// threadCPUTime is unavailable here: Stats carry wall-clock times only.
func threadCPUTime() (int64, bool) { return 0, false }
