//go:build gc && !purego && !noasm

package asm

// GemmAVX512 is the AVX-512 micro-kernel, tile 12×32 (see gemm.go); nr
// (1..32) masks the columns written.
//
//go:noescape
func GemmAVX512(kc int, a, b, c []float32, ldc int, beta float32, nr int)

// GemmAVX512Direct is GemmAVX512 reading 12 rows of A in place (stride lda).
//
//go:noescape
func GemmAVX512Direct(kc int, a []float32, lda int, b, c []float32, ldc int, beta float32, nr int)

// GemmAVX2 is the AVX2+FMA micro-kernel, tile 6×16; nr must be 16.
//
//go:noescape
func GemmAVX2(kc int, a, b, c []float32, ldc int, beta float32, nr int)

// GemmAVX2Direct is GemmAVX2 reading 6 rows of A in place (stride lda).
//
//go:noescape
func GemmAVX2Direct(kc int, a []float32, lda int, b, c []float32, ldc int, beta float32, nr int)
