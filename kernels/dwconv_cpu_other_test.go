//go:build !linux

package kernels_test

// threadCPU is unavailable here: -1 turns the cpu-ms/op metric off.
func threadCPU() int64 { return -1 }
