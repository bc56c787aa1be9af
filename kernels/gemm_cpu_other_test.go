//go:build !linux

package kernels_test

// gemmThreadCPU is unavailable here: benchmarks then report no cpu-ms/op.
func gemmThreadCPU() int64 { return 0 }
