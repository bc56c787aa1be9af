//go:build !amd64 || !gc || purego || noasm

package asm

// Without amd64 assembly these exist only so that callers compile; HasAVX2
// and HasAVX512 are false, so they are never called.

// GemmAVX512_12x32 is unavailable in this build.
func GemmAVX512_12x32(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_8x32 is unavailable in this build.
func GemmAVX512_8x32(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_4x32 is unavailable in this build.
func GemmAVX512_4x32(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_12x32Direct is unavailable in this build.
func GemmAVX512_12x32Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_12x24 is unavailable in this build.
func GemmAVX512_12x24(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_8x24 is unavailable in this build.
func GemmAVX512_8x24(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_4x24 is unavailable in this build.
func GemmAVX512_4x24(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_12x24Direct is unavailable in this build.
func GemmAVX512_12x24Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_12x16 is unavailable in this build.
func GemmAVX512_12x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_8x16 is unavailable in this build.
func GemmAVX512_8x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_4x16 is unavailable in this build.
func GemmAVX512_4x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_12x16Direct is unavailable in this build.
func GemmAVX512_12x16Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_12x8 is unavailable in this build.
func GemmAVX512_12x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_8x8 is unavailable in this build.
func GemmAVX512_8x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_4x8 is unavailable in this build.
func GemmAVX512_4x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX512_12x8Direct is unavailable in this build.
func GemmAVX512_12x8Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2_6x16 is unavailable in this build.
func GemmAVX2_6x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2_4x16 is unavailable in this build.
func GemmAVX2_4x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2_2x16 is unavailable in this build.
func GemmAVX2_2x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2_6x16Direct is unavailable in this build.
func GemmAVX2_6x16Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2_6x8 is unavailable in this build.
func GemmAVX2_6x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2_4x8 is unavailable in this build.
func GemmAVX2_4x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2_2x8 is unavailable in this build.
func GemmAVX2_2x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, rows, nr int) {
	panic(gemmNoAsm)
}

// GemmAVX2_6x8Direct is unavailable in this build.
func GemmAVX2_6x8Direct(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, beta float32, nr int) {
	panic(gemmNoAsm)
}

const gemmNoAsm = "kernels/asm: assembly kernel called in a build without it"

// GemmPackBT8AVX2 is unavailable in this build.
func GemmPackBT8AVX2(kc int, b []float32, ldb int, dst []float32, ldd int, alpha float32) {
	panic(gemmNoAsm)
}
