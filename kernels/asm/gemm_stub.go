//go:build !amd64 || !gc || purego || noasm

package asm

// Without amd64 assembly these exist only so that callers compile; HasAVX2
// and HasAVX512 are false, so they are never called.

// GemmAVX512 is unavailable in this build.
func GemmAVX512(kc int, a, b, c []float32, ldc int, beta float32, nr int) { panic(gemmNoAsm) }

// GemmAVX512Direct is unavailable in this build.
func GemmAVX512Direct(kc int, a []float32, lda int, b, c []float32, ldc int, beta float32, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2 is unavailable in this build.
func GemmAVX2(kc int, a, b, c []float32, ldc int, beta float32, nr int) { panic(gemmNoAsm) }

// GemmAVX2Direct is unavailable in this build.
func GemmAVX2Direct(kc int, a []float32, lda int, b, c []float32, ldc int, beta float32, nr int) {
	panic(gemmNoAsm)
}

const gemmNoAsm = "kernels/asm: assembly kernel called in a build without it"
