//go:build !arm64 || !gc || purego || noasm

package asm

// Without arm64 assembly these exist only so that callers compile; HasNEON
// is false, so they are never called.

// GemmNEON_8x12 is unavailable in this build.
func GemmNEON_8x12(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(neonNoAsm)
}

// GemmNEON_4x12 is unavailable in this build.
func GemmNEON_4x12(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(neonNoAsm)
}

// GemmNEON_8x8 is unavailable in this build.
func GemmNEON_8x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(neonNoAsm)
}

// GemmNEON_4x8 is unavailable in this build.
func GemmNEON_4x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(neonNoAsm)
}

// GemmNEON_8x4 is unavailable in this build.
func GemmNEON_8x4(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(neonNoAsm)
}

// GemmNEON_4x4 is unavailable in this build.
func GemmNEON_4x4(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(neonNoAsm)
}

const neonNoAsm = "kernels/asm: NEON kernel called in a build without it"
