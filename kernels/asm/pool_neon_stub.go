//go:build !arm64 || !gc || purego || noasm

package asm

// Stand-ins for the NEON pooling kernels of pool_arm64.go on every other
// build. HasNEON is false there, so package kernels never calls them.

// MaxPoolNEON is not available in this build.
func MaxPoolNEON(x, y []float32, offs []int, n, c, xstep, ystep int) { panic(neonNoAsm) }

// AvgPoolNEON is not available in this build.
func AvgPoolNEON(x, y []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	panic(neonNoAsm)
}

// MaxPoolBackNEON is not available in this build.
func MaxPoolBackNEON(x, dy, dx []float32, offs []int, n, c, xstep, ystep int) { panic(neonNoAsm) }

// AvgPoolBackNEON is not available in this build.
func AvgPoolBackNEON(dy, dx []float32, offs []int, n, c, xstep, ystep int, scale float32) {
	panic(neonNoAsm)
}
