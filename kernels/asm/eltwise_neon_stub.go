//go:build !arm64 || !gc || purego || noasm

package asm

// Stand-ins for the NEON primitives of eltwise_arm64.go on every other
// build. HasNEON is false there, so package kernels never calls them.

// AddNEON is not available in this build.
func AddNEON(a, b, y []float32) { panic(neonNoAsm) }

// AxpyNEON is not available in this build.
func AxpyNEON(alpha float32, x, y []float32) { panic(neonNoAsm) }

// ScaleNEON is not available in this build.
func ScaleNEON(alpha float32, x, y []float32) { panic(neonNoAsm) }

// AffineNEON is not available in this build.
func AffineNEON(rows, w, ld int, x, s, t, y []float32) { panic(neonNoAsm) }

// Affine2NEON is not available in this build.
func Affine2NEON(rows, w, ld int, a, b, m, sa, sb, t, y []float32) { panic(neonNoAsm) }

// ColSumNEON is not available in this build.
func ColSumNEON(rows, w, ld int, x, acc []float32) { panic(neonNoAsm) }

// ColDotNEON is not available in this build.
func ColDotNEON(rows, w, ld int, a, ma, b, mb, acc []float32) { panic(neonNoAsm) }

// ReluNEON is not available in this build.
func ReluNEON(x, y []float32) { panic(neonNoAsm) }

// ReluGradNEON is not available in this build.
func ReluGradNEON(x, dy, dx []float32) { panic(neonNoAsm) }

// Relu6NEON is not available in this build.
func Relu6NEON(x, y []float32) { panic(neonNoAsm) }

// Relu6GradNEON is not available in this build.
func Relu6GradNEON(x, dy, dx []float32) { panic(neonNoAsm) }

// HardsigmoidNEON is not available in this build.
func HardsigmoidNEON(x, y []float32) { panic(neonNoAsm) }

// HardsigmoidGradNEON is not available in this build.
func HardsigmoidGradNEON(x, dy, dx []float32) { panic(neonNoAsm) }

// HardswishNEON is not available in this build.
func HardswishNEON(x, y []float32) { panic(neonNoAsm) }

// HardswishGradNEON is not available in this build.
func HardswishGradNEON(x, dy, dx []float32) { panic(neonNoAsm) }

// ColSumDotNEON is not available in this build.
func ColSumDotNEON(rows, w, ld int, a, b, mb, accA, accB []float32) { panic(neonNoAsm) }

// SigmoidNEON is not available in this build.
func SigmoidNEON(x, y []float32) { panic(neonNoAsm) }

// SigmoidGradNEON is not available in this build.
func SigmoidGradNEON(x, dy, dx []float32) { panic(neonNoAsm) }
